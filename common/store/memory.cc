#include "common/store/memory.h"

#include <memory>
#include <mutex>

#include "rocksdb/cache.h"
#include "rocksdb/write_buffer_manager.h"

namespace crm::store {
namespace {

struct Shared {
  std::shared_ptr<rocksdb::Cache> cache;
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffers;
};

std::mutex mu;
size_t budget = kDefaultMemoryBudget;
Shared* shared = nullptr;  // built on first use, lives as long as the process

const Shared& Get() {
  std::lock_guard<std::mutex> lock(mu);
  if (shared == nullptr) {
    shared = new Shared;
    shared->cache = rocksdb::NewLRUCache(budget);
    // Memtables may take up to half the budget; their memory is charged to the cache, which
    // evicts blocks to make room.
    shared->write_buffers =
        std::make_shared<rocksdb::WriteBufferManager>(budget / 2, shared->cache);
  }
  return *shared;
}

}  // namespace

void SetMemoryBudget(size_t bytes) {
  std::lock_guard<std::mutex> lock(mu);
  budget = bytes;
}

void UseSharedMemory(rocksdb::DBOptions& db, rocksdb::BlockBasedTableOptions& table) {
  const Shared& s = Get();
  db.write_buffer_manager = s.write_buffers;
  table.block_cache = s.cache;
  table.cache_index_and_filter_blocks = true;
  // The newest files' index and filter blocks are read by almost every lookup: keep them.
  table.pin_l0_filter_and_index_blocks_in_cache = true;
}

}  // namespace crm::store

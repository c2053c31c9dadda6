#include "common/store/memory.h"

#include <algorithm>
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

size_t ProjectionMemtableBytes() {
  std::lock_guard<std::mutex> lock(mu);
  return std::clamp(budget / 16, size_t{4} << 20, size_t{64} << 20);
}

void UseSharedMemory(rocksdb::DBOptions& db, rocksdb::BlockBasedTableOptions& table) {
  const Shared& s = Get();
  db.write_buffer_manager = s.write_buffers;
  table.block_cache = s.cache;
  // Index and filter blocks stay with their open tables, outside the cache: a whole-file filter
  // of a large table is megabytes, and a cache that must evict it re-reads it on the next
  // lookup (measured: most of a catch-up's time at a million contacts). They take a few per
  // cent of the data's size.
  table.cache_index_and_filter_blocks = false;
}

}  // namespace crm::store

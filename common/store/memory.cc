#include "common/store/memory.h"

#include <algorithm>
#include <memory>
#include <mutex>

#include "rocksdb/cache.h"
#include "rocksdb/statistics.h"
#include "rocksdb/write_buffer_manager.h"

namespace crm::store {
namespace {

struct Shared {
  std::shared_ptr<rocksdb::Cache> cache;
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffers;
  std::shared_ptr<rocksdb::Statistics> statistics;
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
    // Counters only: timers and histograms would read the clock around every operation.
    shared->statistics = rocksdb::CreateDBStatistics();
    shared->statistics->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);
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

size_t ProjectionCacheBytes() {
  std::lock_guard<std::mutex> lock(mu);
  return std::clamp(budget / 8, size_t{2} << 20, size_t{128} << 20);
}

void UseSharedMemory(rocksdb::DBOptions& db, rocksdb::BlockBasedTableOptions& table) {
  const Shared& s = Get();
  db.write_buffer_manager = s.write_buffers;
  db.statistics = s.statistics;
  table.block_cache = s.cache;
  // Index and filter blocks stay with their open tables, outside the cache: a whole-file filter
  // of a large table is megabytes, and a cache that must evict it re-reads it on the next
  // lookup (measured: most of a catch-up's time at a million contacts). They take a few per
  // cent of the data's size.
  table.cache_index_and_filter_blocks = false;
}

StorageCounters ReadStorageCounters() {
  const Shared& s = Get();
  rocksdb::Statistics& stats = *s.statistics;
  StorageCounters c;
  c.block_cache_hits = stats.getTickerCount(rocksdb::BLOCK_CACHE_DATA_HIT);
  c.block_cache_misses = stats.getTickerCount(rocksdb::BLOCK_CACHE_DATA_MISS);
  c.bloom_filter_useful = stats.getTickerCount(rocksdb::BLOOM_FILTER_USEFUL);
  c.flush_write_bytes = stats.getTickerCount(rocksdb::FLUSH_WRITE_BYTES);
  c.compaction_read_bytes = stats.getTickerCount(rocksdb::COMPACT_READ_BYTES);
  c.compaction_write_bytes = stats.getTickerCount(rocksdb::COMPACT_WRITE_BYTES);
  c.write_stall_micros = stats.getTickerCount(rocksdb::STALL_MICROS);
  c.cache_capacity_bytes = s.cache->GetCapacity();
  c.cache_usage_bytes = s.cache->GetUsage();
  c.memtable_bytes = s.write_buffers->memory_usage();
  return c;
}

}  // namespace crm::store

// RocksDB memory shared by every database of a process: the projections' stores and the embedded
// log. One LRU block cache holds the data blocks of all of them, and the memtables are charged
// against the same cache through one WriteBufferManager, so a process's RocksDB memory stays
// near one budget however many stores it opens (without it, each column family may hold two
// 64 MiB memtables and 8 MiB of cache of its own). Index and filter blocks live with the open
// tables, outside the budget: a few per cent of the data.
//
//   store::SetMemoryBudget(256 << 20);            // once, at start-up, before any store opens
//   rocksdb::Options options;
//   rocksdb::BlockBasedTableOptions table;
//   store::UseSharedMemory(options, table);       // for every database the process opens
//
// The same call gives every database the process's one RocksDB statistics object (counters only,
// no timers or histograms: a relaxed add per event), read as a whole by StorageCounters():
//
//   StorageCounters c = ReadStorageCounters();   // e.g. for /metrics
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

#include "rocksdb/options.h"
#include "rocksdb/table.h"

namespace crm::store {

// The default budget: 256 MiB.
inline constexpr size_t kDefaultMemoryBudget = size_t{256} << 20;

// Sets the budget of the process's RocksDB memory. Takes effect for the shared cache the first
// time UseSharedMemory runs; later calls change nothing.
void SetMemoryBudget(size_t bytes);

// Points `db` and `table` at the process's shared block cache and write buffer manager.
void UseSharedMemory(rocksdb::DBOptions& db, rocksdb::BlockBasedTableOptions& table);

// What the process's databases did since it started, and what their shared memory holds now.
struct StorageCounters {
  // Data blocks read through the block cache: found there, or read from a file (a miss). Index
  // and filter blocks stay with their tables (UseSharedMemory) and are not counted.
  uint64_t block_cache_hits = 0;
  uint64_t block_cache_misses = 0;
  // Lookups a bloom filter answered "not in this file" without reading a data block.
  uint64_t bloom_filter_useful = 0;
  // Bytes flushes wrote, and compactions read and wrote: the storage's background work.
  uint64_t flush_write_bytes = 0;
  uint64_t compaction_read_bytes = 0;
  uint64_t compaction_write_bytes = 0;
  // Time writes were held back because flushes or compactions lagged behind.
  uint64_t write_stall_micros = 0;
  // The shared block cache: its budget, and what it holds now (blocks, and the memtables
  // charged to it).
  size_t cache_capacity_bytes = 0;
  size_t cache_usage_bytes = 0;
  // Memory of the memtables of every database.
  size_t memtable_bytes = 0;
};

// The counters now. All zero but the capacity before any database opened.
StorageCounters ReadStorageCounters();

// The memtable size of a projection store's column family: a sixteenth of the budget, from 4 to
// 64 MiB (16 MiB at the default budget). The busy stores then each flush at their own size
// before their sum reaches the write buffer manager's half of the budget; past that, the manager
// makes every store flush its memtable, however small, on its next write, and in the measured
// runs (docs/performance.md) those flush cascades came with the analytics lag's outliers.
size_t ProjectionMemtableBytes();

// The size of each of a projection store's two read caches (its records, and its scans from a
// prefix's start; see ProjectionStore): an eighth of the budget, from 2 to 128 MiB (32 MiB at the
// default budget). They hold what the services read, outside RocksDB's block cache, so what a
// read costs is a lookup in memory rather than a search of the memtables and table files.
size_t ProjectionCacheBytes();

}  // namespace crm::store

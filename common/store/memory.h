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
// Thread-safe.
#pragma once

#include <cstddef>

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

// The memtable size of a projection store's column family: a sixteenth of the budget, from 4 to
// 64 MiB (16 MiB at the default budget). The busy stores then each flush at their own size
// before their sum reaches the write buffer manager's half of the budget; past that, the manager
// makes every store flush its memtable, however small, on its next write, and in the measured
// runs (docs/performance.md) those flush cascades came with the analytics lag's outliers.
size_t ProjectionMemtableBytes();

}  // namespace crm::store

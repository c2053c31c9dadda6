// The memory allocator of the service binaries: jemalloc, linked into every binary that links
// this library, in place of glibc's malloc. A read's protobuf messages, gRPC's buffers and
// RocksDB's blocks are many small, short-lived allocations made on several threads; glibc's
// arenas spent about a seventh of a read's CPU on them (docs/performance.md), and keep freed
// memory that jemalloc gives back to the system on its own.
//
//   spdlog::info("memory allocator: {}", process::AllocatorVersion());
//   process::ReleaseFreeMemory();  // after a burst of large transient allocations
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace crm::process {

// "jemalloc <version>".
std::string AllocatorVersion();

struct AllocatorStats {
  uint64_t allocated_bytes = 0;  // what the process has allocated and not freed
  uint64_t resident_bytes = 0;   // the allocator's pages in memory (allocated, free and its own)
};

// The allocator's current totals; nullopt if it does not report them.
std::optional<AllocatorStats> ReadAllocatorStats();

// Gives the allocator's free pages back to the system now instead of over the next seconds.
void ReleaseFreeMemory();

}  // namespace crm::process

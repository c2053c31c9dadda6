#include "common/process/allocator.h"

#include <jemalloc/jemalloc.h>

#include <cstddef>

#define CRM_STRINGIFY_(x) #x
#define CRM_STRINGIFY(x) CRM_STRINGIFY_(x)

namespace crm::process {

std::string AllocatorVersion() {
  const char* version = nullptr;
  size_t size = sizeof(version);
  if (mallctl("version", &version, &size, nullptr, 0) != 0 || version == nullptr) {
    return "jemalloc (version unknown)";
  }
  return std::string("jemalloc ") + version;
}

std::optional<AllocatorStats> ReadAllocatorStats() {
  // The totals are cached; advancing the epoch refreshes them.
  uint64_t epoch = 1;
  size_t size = sizeof(epoch);
  if (mallctl("epoch", &epoch, &size, &epoch, size) != 0) return std::nullopt;
  size_t allocated = 0;
  size_t resident = 0;
  size = sizeof(size_t);
  if (mallctl("stats.allocated", &allocated, &size, nullptr, 0) != 0) return std::nullopt;
  size = sizeof(size_t);
  if (mallctl("stats.resident", &resident, &size, nullptr, 0) != 0) return std::nullopt;
  return AllocatorStats{allocated, resident};
}

void ReleaseFreeMemory() {
  (void)mallctl("arena." CRM_STRINGIFY(MALLCTL_ARENAS_ALL) ".purge", nullptr, nullptr, nullptr, 0);
}

}  // namespace crm::process

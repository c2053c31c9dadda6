#include "common/process/allocator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <vector>

namespace crm::process {
namespace {

TEST(Allocator, IsJemalloc) { EXPECT_THAT(AllocatorVersion(), testing::StartsWith("jemalloc 5.")); }

TEST(Allocator, CountsWhatIsAllocatedAndGivesFreedPagesBackWhenAsked) {
  // 64 MiB in 4 KiB pieces, as a burst of small allocations: freeing them leaves free pages
  // that the allocator keeps for a while unless told to give them back.
  constexpr size_t kPiece = 4096;
  constexpr size_t kPieces = 16384;
  constexpr uint64_t kBytes = kPiece * kPieces;
  ReleaseFreeMemory();
  const std::optional<AllocatorStats> before = ReadAllocatorStats();
  ASSERT_TRUE(before.has_value());

  std::vector<void*> pieces;
  pieces.reserve(kPieces);
  for (size_t i = 0; i < kPieces; ++i) {
    pieces.push_back(std::malloc(kPiece));
    ASSERT_NE(pieces.back(), nullptr);
    std::memset(pieces.back(), static_cast<int>(i), kPiece);
  }
  const std::optional<AllocatorStats> held = ReadAllocatorStats();
  ASSERT_TRUE(held.has_value());
  EXPECT_GE(held->allocated_bytes, before->allocated_bytes + kBytes);
  EXPECT_GE(held->resident_bytes, before->resident_bytes + kBytes);
  EXPECT_GE(held->resident_bytes, held->allocated_bytes);

  for (void* p : pieces) std::free(p);
  const std::optional<AllocatorStats> freed = ReadAllocatorStats();
  ASSERT_TRUE(freed.has_value());
  EXPECT_LT(freed->allocated_bytes, held->allocated_bytes - kBytes / 2);

  ReleaseFreeMemory();
  const std::optional<AllocatorStats> released = ReadAllocatorStats();
  ASSERT_TRUE(released.has_value());
  EXPECT_LT(released->resident_bytes, held->resident_bytes - kBytes / 2);
}

}  // namespace
}  // namespace crm::process

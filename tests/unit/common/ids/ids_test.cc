#include "common/ids/ids.h"

#include <gtest/gtest.h>

#include <set>

namespace crm::ids {
namespace {

TEST(Ids, AreWellFormedUniqueAndSortByTime) {
  std::set<std::string> seen;
  std::string previous;
  const absl::Time t0 = absl::FromUnixMillis(1700000000000);
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewId(t0 + absl::Milliseconds(i));
    EXPECT_TRUE(IsWellFormed(id)) << id;
    EXPECT_TRUE(seen.insert(id).second);
    EXPECT_LT(previous, id);
    previous = id;
  }
}

TEST(Ids, RejectsOtherShapes) {
  EXPECT_FALSE(IsWellFormed(""));
  EXPECT_FALSE(IsWellFormed("not-an-id"));
  EXPECT_FALSE(IsWellFormed("01ARZ3NDEKTSV4RRFFQ69G5FAU"));  // U is not in the alphabet
  EXPECT_FALSE(IsWellFormed("81ARZ3NDEKTSV4RRFFQ69G5FAV"));  // overflows 128 bits
  EXPECT_TRUE(IsWellFormed("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
}

}  // namespace
}  // namespace crm::ids

namespace crm::ids {
namespace {

TEST(IdFor, IsStableWellFormedAndDistinct) {
  EXPECT_EQ(IdFor("t\0SKU-1"), IdFor("t\0SKU-1"));
  EXPECT_NE(IdFor("t/SKU-1"), IdFor("t/SKU-2"));
  EXPECT_TRUE(IsWellFormed(IdFor("anything")));
}

}  // namespace
}  // namespace crm::ids

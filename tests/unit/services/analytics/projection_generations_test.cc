// The analytics projection's generations, which tell the service's cached rankings, product
// statistics and segment lists whether they are still current.
#include <gtest/gtest.h>

#include "common/store/projection_store.h"
#include "services/analytics/projection/analytics_projection.h"
#include "tests/testing/testing.h"

namespace crm::analytics {
namespace {

using store::Cf;

// What was derived from the store before it was emptied for a rebuild is stale after it: both
// generations grow once at the emptying's Committed, as at a committed change; a commit that
// changes neither purchases nor segments leaves them.
TEST(AnalyticsProjectionGenerations, GrowWhenTheStoreIsEmptied) {
  testing::TempDir dir;
  auto store = *store::ProjectionStore::Open(dir.Sub("analytics"));
  AnalyticsProjection projection(store.get());
  const uint64_t purchases = projection.generation();
  const uint64_t segments = projection.segments_generation();
  auto batch = store->NewBatch();
  batch.Put(Cf::kLog, "position", "1");
  ASSERT_TRUE(store->Commit(batch).ok());
  projection.Committed();
  EXPECT_EQ(projection.generation(), purchases);
  EXPECT_EQ(projection.segments_generation(), segments);

  ASSERT_TRUE(store->Clear("rebuilding", "1").ok());
  projection.Committed();
  EXPECT_EQ(projection.generation(), purchases + 1);
  EXPECT_EQ(projection.segments_generation(), segments + 1);
  projection.Committed();  // nothing since
  EXPECT_EQ(projection.generation(), purchases + 1);
  EXPECT_EQ(projection.segments_generation(), segments + 1);
}

}  // namespace
}  // namespace crm::analytics

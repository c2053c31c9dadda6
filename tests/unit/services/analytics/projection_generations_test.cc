// The analytics projection's generations, which tell the service's cached rankings, product
// statistics and segment lists whether they are still current; its per-contact indexes.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/store/big_endian.h"
#include "common/store/projection_store.h"
#include "crm/analytics/v1/events.pb.h"
#include "services/analytics/projection/analytics_projection.h"
#include "tests/testing/events.h"
#include "tests/testing/testing.h"

namespace crm::analytics {
namespace {

using store::Cf;

// A batch applied while the one before it is committed (a projector behind the log): its
// segment change moves the generation at its own commit's Committed, not at the one before,
// after which a reader may still derive from the store without it.
TEST(AnalyticsProjectionGenerations, MoveAtTheCommitOfTheBatchThatChangedThem) {
  testing::TempDir dir;
  auto store = *store::ProjectionStore::Open(dir.Sub("analytics"));
  AnalyticsProjection projection(store.get());
  crm::analytics::v1::SegmentCreated created;
  created.mutable_segment()->set_name("best");
  auto first = store->NewBatch();
  first.Put(Cf::kLog, "position", "1");
  projection.Built();
  auto second = store->NewBatch();
  second.ReadThrough(&first);
  const auto applied =
      projection.Apply(crm::testing::MakeTestEvent(created, "S1", 0, 1000), second);
  ASSERT_TRUE(applied.ok() && applied->ok());
  const uint64_t segments = projection.segments_generation();
  ASSERT_TRUE(store->Commit(first).ok());
  projection.Committed();
  EXPECT_EQ(projection.segments_generation(), segments);  // the segment is not in the store yet
  second.ReadThrough(nullptr);
  projection.Built();
  ASSERT_TRUE(store->Commit(second).ok());
  projection.Committed();
  EXPECT_EQ(projection.segments_generation(), segments + 1);
}

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

// A customer's latest records (the 360's interactions, orders, deals, cases, tasks): newest
// first, at most `limit`, from one contact's index or merged from several.
TEST(AnalyticsProjectionIndexes, GiveTheNewestFirstUpToTheLimitFromOneContactOrSeveral) {
  testing::TempDir dir;
  auto store = *store::ProjectionStore::Open(dir.Sub("analytics"));
  AnalyticsProjection projection(store.get());
  auto batch = store->NewBatch();
  auto index = [&](const std::string& contact, int64_t seconds) {
    crm::interaction::v1::Interaction i;
    i.set_id(absl::StrCat("I", seconds));
    i.set_subject(absl::StrCat("at ", seconds));
    std::string key = store::KindPrefix('i', "t", contact);  // newest first: the inverted time
    store::PutBigEndian(key, UINT64_MAX - static_cast<uint64_t>(seconds * 1000000000));
    key.append(i.id());
    batch.Put(Cf::kIndex, key, i.SerializeAsString());
  };
  for (int64_t s = 1; s <= 15; ++s) index("A", s);
  for (int64_t s = 100; s <= 104; ++s) index("B", s);
  ASSERT_TRUE(store->Commit(batch).ok());
  auto subjects = [&](const std::vector<std::string>& contacts, size_t limit) {
    std::vector<std::string> out;
    absl::StatusOr<std::vector<crm::interaction::v1::Interaction>> found =
        projection.LatestInteractions("t", contacts, limit);
    EXPECT_TRUE(found.ok()) << found.status();
    if (found.ok()) {
      for (const auto& i : *found) out.push_back(i.subject());
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(subjects({"A"}, 3), (V{"at 15", "at 14", "at 13"}));
  EXPECT_EQ(subjects({"A"}, 10).size(), 10u);
  EXPECT_EQ(subjects({"A"}, 100).size(), 15u);
  EXPECT_EQ(subjects({"B"}, 10), (V{"at 104", "at 103", "at 102", "at 101", "at 100"}));
  EXPECT_EQ(subjects({"A", "B"}, 7),
            (V{"at 104", "at 103", "at 102", "at 101", "at 100", "at 15", "at 14"}));
  EXPECT_EQ(subjects({"A"}, 0), V{});
  EXPECT_EQ(subjects({"nobody"}, 10), V{});
  // A damaged entry is DATA_LOSS, not a record.
  auto damaged = store->NewBatch();
  std::string key = store::KindPrefix('i', "t", "C");
  key.append("x");
  damaged.Put(Cf::kIndex, key, "\xff\xff\xff");
  ASSERT_TRUE(store->Commit(damaged).ok());
  EXPECT_EQ(projection.LatestInteractions("t", {"C"}, 10).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(projection.LatestInteractions("t", {"A", "C"}, 10).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace crm::analytics

// Merge and unmerge on the real projection: unions, the caller's choices, exact reversal,
// reversal after later edits, and merges of merges.
#include <gtest/gtest.h>

#include "common/status/status_macros.h"
#include "common/store/big_endian.h"
#include "common/store/keys.h"
#include "common/store/projection_store.h"
#include "services/contact/domain/apply.h"
#include "services/contact/domain/decide.h"
#include "services/contact/projection/contact_fold.h"
#include "services/contact/projection/contact_projection.h"
#include "tests/testing/testing.h"
#include "tests/unit/services/contact/test_keys.h"

namespace crm::contact {
namespace {

using crm::common::v1::EventEnvelope;

class MergeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(*store::ProjectionStore::Open(dir_.Sub("p")));
    keys_ = std::make_unique<TestKeys>(dir_.Sub("keys"));
    projection_ = std::make_unique<ContactProjection>(store_.get(), &keys_->sealer);
  }

  Contact Read(const std::string& id) { return projection_->GetContact("t", id)->value(); }

  absl::Status Apply(const google::protobuf::Message& payload, const std::string& id) {
    const int64_t expected = projection_->GetContact("t", id)->has_value() ? Read(id).version() : 0;
    EventEnvelope e;
    e.set_event_id("e" + std::to_string(++n_));
    e.set_tenant("t");
    e.set_aggregate_id(id);
    e.set_expected_version(expected);
    e.set_aggregate_version(expected + 1);
    e.set_event_type(payload.GetDescriptor()->full_name());
    e.mutable_payload()->PackFrom(payload);
    e.mutable_occurred_at()->set_seconds(1000 + n_);
    auto batch = store_->NewBatch();
    auto decision = projection_->Apply(e, batch);
    EXPECT_TRUE(decision.ok());
    EXPECT_TRUE(store_->Commit(batch).ok());
    return *decision;
  }

  void Create(const std::string& id, const std::string& given, const std::string& family,
              std::vector<std::string> emails, std::vector<std::string> tags,
              const std::string& job = "") {
    Contact c;
    c.mutable_personal()->set_given_name(given);
    c.mutable_personal()->set_family_name(family);
    for (const auto& e : emails) c.mutable_personal()->add_emails()->set_address(e);
    for (const auto& t : tags) c.add_tags(t);
    c.set_job_title(job);
    if (c.personal().emails_size() > 0) c.mutable_personal()->mutable_emails(0)->set_primary(true);
    ASSERT_TRUE(Apply(*DecideCreate(c, id, absl::Now(), Facts{}), id).ok());
  }

  absl::Status Merge(const std::string& survivor, const std::string& merged,
                     std::vector<std::string> take = {}) {
    auto into = DecideMergeInto(Read(merged), Read(survivor), merged, survivor, 0, "m");
    if (!into.ok()) return into.status();
    RETURN_IF_ERROR(Apply(*into, merged));
    google::protobuf::FieldMask mask;
    for (const auto& p : take) mask.add_paths(p);
    auto absorb = DecideAbsorb(Read(survivor), Read(merged), mask, 0, "m");
    if (!absorb.ok()) return absorb.status();
    return Apply(*absorb, survivor);
  }

  absl::Status Unmerge(const std::string& merged) {
    const std::string survivor = Read(merged).merged_into();
    auto step1 = DecideUnmergeSurvivor(Read(survivor), merged, "u");
    if (!step1.ok()) return step1.status();
    RETURN_IF_ERROR(Apply(*step1, survivor));
    auto step2 = DecideRestore(Read(merged), merged, "u");
    if (!step2.ok()) return step2.status();
    return Apply(*step2, merged);
  }

  void SetJob(const std::string& id, const std::string& job) {
    ContactUpdated u;
    u.set_contact_id(id);
    u.mutable_contact()->set_job_title(job);
    u.mutable_update_mask()->add_paths("job_title");
    ASSERT_TRUE(Apply(u, id).ok());
  }

  // The record without what every change moves.
  static std::string Essence(Contact c) {
    c.clear_version();
    c.clear_update_time();
    return c.SerializeAsString();
  }

  // The keys of a contact's history ('g': its state before its first merge, then its events).
  int HistoryKeys(const std::string& id) {
    int n = 0;
    EXPECT_TRUE(store_
                    ->Scan(store::Cf::kIndex, store::KindPrefix('g', "t", id), "",
                           [&](std::string_view, std::string_view) {
                             ++n;
                             return true;
                           })
                    .ok());
    return n;
  }

  testing::TempDir dir_;
  std::unique_ptr<store::ProjectionStore> store_;
  std::unique_ptr<TestKeys> keys_;
  std::unique_ptr<ContactProjection> projection_;
  int n_ = 0;
};

TEST_F(MergeTest, SurvivorGetsUnionsAndTheChosenValues) {
  Create("S", "Sam", "Hill", {"sam@a.io"}, {"vip"}, "Clerk");
  Create("M", "Samuel", "Hill", {"sam@b.io", "sam@a.io"}, {"golf"}, "Director");
  ASSERT_TRUE(Merge("S", "M", {"job_title"}).ok());
  const Contact s = Read("S");
  EXPECT_EQ(s.personal().given_name(), "Sam");
  EXPECT_EQ(s.job_title(), "Director");
  ASSERT_EQ(s.personal().emails_size(), 2);
  EXPECT_EQ(s.personal().emails(1).address(), "sam@b.io");
  EXPECT_FALSE(s.personal().emails(1).primary());
  EXPECT_EQ(s.tags_size(), 2);
  EXPECT_EQ(s.merged_ids(0), "M");
  const Contact m = Read("M");
  EXPECT_EQ(m.merged_into(), "S");
  // A merged contact is frozen.
  ContactUpdated u;
  u.mutable_contact()->set_job_title("x");
  u.mutable_update_mask()->add_paths("job_title");
  EXPECT_EQ(Apply(u, "M").code(), absl::StatusCode::kFailedPrecondition);
  // And leaves lists and duplicate checks.
  EXPECT_EQ(projection_->ListContacts("t", ListFilter{}, "", 10, 100)->items.size(), 1u);
  EXPECT_TRUE(projection_->DuplicatesOf("t", "S")->empty());
}

TEST_F(MergeTest, UnmergeRestoresBothExactly) {
  Create("S", "Sam", "Hill", {"sam@a.io"}, {"vip"}, "Clerk");
  Create("M", "Samuel", "Hill", {"sam@b.io"}, {"golf"}, "Director");
  const std::string s_before = Essence(Read("S"));
  const std::string m_before = Essence(Read("M"));
  ASSERT_TRUE(Merge("S", "M", {"job_title", "personal.given_name"}).ok());
  ASSERT_TRUE(Unmerge("M").ok());
  EXPECT_EQ(Essence(Read("S")), s_before);
  EXPECT_EQ(Essence(Read("M")), m_before);
  EXPECT_EQ(projection_->ListContacts("t", ListFilter{}, "", 10, 100)->items.size(), 2u);
  // They are likely duplicates again.
  EXPECT_FALSE(projection_->DuplicatesOf("t", "S")->empty());
}

TEST_F(MergeTest, UnmergeKeepsLaterChangesToTheSurvivor) {
  Create("S", "Sam", "Hill", {"sam@a.io"}, {}, "Clerk");
  Create("M", "Max", "Hill", {"max@b.io"}, {"golf"});
  ASSERT_TRUE(Merge("S", "M").ok());
  SetJob("S", "Manager");
  // A later edit that rewrote the emails, the merged one included, plus a new one.
  ContactUpdated u;
  u.set_contact_id("S");
  for (const char* e : {"sam@a.io", "max@b.io", "new@c.io"}) {
    u.mutable_contact()->mutable_personal()->add_emails()->set_address(e);
  }
  u.mutable_update_mask()->add_paths("personal.emails");
  ASSERT_TRUE(Apply(u, "S").ok());
  ASSERT_TRUE(Unmerge("M").ok());
  const Contact s = Read("S");
  EXPECT_EQ(s.job_title(), "Manager");
  ASSERT_EQ(s.personal().emails_size(), 2);
  EXPECT_EQ(s.personal().emails(0).address(), "sam@a.io");
  EXPECT_EQ(s.personal().emails(1).address(), "new@c.io");
  EXPECT_EQ(s.tags_size(), 0);
  EXPECT_TRUE(s.merged_ids().empty());
  EXPECT_EQ(Read("M").personal().emails(0).address(), "max@b.io");
  EXPECT_TRUE(Read("M").merged_into().empty());
}

TEST_F(MergeTest, MergesOfMerges) {
  Create("A", "Ann", "Lee", {"a@x.io"}, {});
  Create("B", "Anne", "Lee", {"b@x.io"}, {});
  Create("C", "Annie", "Lee", {"c@x.io"}, {});
  ASSERT_TRUE(Merge("A", "B").ok());
  ASSERT_TRUE(Merge("C", "A").ok());
  EXPECT_EQ(Read("C").personal().emails_size(), 3);
  // B cannot leave A while A itself is merged into C.
  EXPECT_EQ(DecideUnmergeSurvivor(Read("A"), "B", "u").status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Unmerge("A").ok());
  EXPECT_EQ(Read("C").personal().emails_size(), 1);
  EXPECT_EQ(Read("A").personal().emails_size(), 2);  // Still holds B.
  ASSERT_TRUE(Unmerge("B").ok());
  EXPECT_EQ(Read("A").personal().emails_size(), 1);
  EXPECT_EQ(Read("B").personal().emails(0).address(), "b@x.io");
}

TEST_F(MergeTest, TwoMergesUnmergedInEitherOrder) {
  Create("S", "Sam", "Hill", {"s@x.io"}, {});
  Create("M1", "Sammy", "Hill", {"m1@x.io"}, {"one"});
  Create("M2", "Samuel", "Hill", {"m2@x.io"}, {"two"});
  const std::string s_before = Essence(Read("S"));
  ASSERT_TRUE(Merge("S", "M1").ok());
  ASSERT_TRUE(Merge("S", "M2").ok());
  ASSERT_TRUE(Unmerge("M1").ok());
  EXPECT_EQ(Read("S").merged_ids_size(), 1);
  EXPECT_EQ(Read("S").tags(0), "two");
  ASSERT_TRUE(Unmerge("M2").ok());
  EXPECT_EQ(Essence(Read("S")), s_before);
}

TEST_F(MergeTest, EventsAreKeptOnlyWhileTheContactHoldsMergedContacts) {
  Create("S", "Sam", "Hill", {"s@x.io"}, {});
  Create("M", "Max", "Hill", {"m@x.io"}, {"golf"});
  SetJob("S", "Clerk");
  EXPECT_EQ(HistoryKeys("S"), 0);  // never merged: nothing to fold again
  ASSERT_TRUE(Merge("S", "M").ok());
  EXPECT_EQ(HistoryKeys("S"), 2);  // its state before the merge, and the merge
  EXPECT_EQ(HistoryKeys("M"), 0);  // merged into another, holding none
  SetJob("S", "Manager");
  EXPECT_EQ(HistoryKeys("S"), 3);
  ASSERT_TRUE(Unmerge("M").ok());
  EXPECT_EQ(HistoryKeys("S"), 0);  // the last merged contact left
  EXPECT_EQ(Read("S").job_title(), "Manager");
  EXPECT_TRUE(Read("S").tags().empty());

  // Merged again after changes: the unmerge folds from the state before this merge.
  SetJob("S", "Director");
  const std::string s_before = Essence(Read("S"));
  ASSERT_TRUE(Merge("S", "M").ok());
  EXPECT_EQ(Read("S").tags(0), "golf");
  ASSERT_TRUE(Unmerge("M").ok());
  EXPECT_EQ(Essence(Read("S")), s_before);
  EXPECT_EQ(HistoryKeys("S"), 0);
}

TEST_F(MergeTest, AnErasedSurvivorKeepsNoStateFromBeforeItsMerge) {
  Create("S", "Sam", "Hill", {"s@x.io"}, {});
  Create("M", "Max", "Hill", {"m@x.io"}, {});
  ASSERT_TRUE(Merge("S", "M").ok());
  ASSERT_EQ(HistoryKeys("S"), 2);
  auto erase = DecideErase(Read("S"), "S");
  ASSERT_TRUE(erase.ok()) << erase.status();
  ASSERT_TRUE(Apply(*erase, "S").ok());
  // Only the erasure itself: the state before the merge held the personal data.
  int bases = 0;
  ASSERT_TRUE(store_
                  ->Scan(store::Cf::kIndex, store::KindPrefix('g', "t", "S"), "",
                         [&](std::string_view key, std::string_view) {
                           bases += store::GetBigEndian(key.substr(key.size() - 8)) == kHistoryBase;
                           return true;
                         })
                  .ok());
  EXPECT_EQ(bases, 0);
  EXPECT_LE(HistoryKeys("S"), 1);
}

TEST(MergeDecide, RefusesSelfArchivedAndMissing) {
  Contact s;
  s.set_id("S");
  Contact m;
  m.set_id("M");
  m.set_archived(true);
  EXPECT_EQ(DecideMergeInto(m, s, "M", "S", 0, "x").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(DecideMergeInto(std::nullopt, s, "M", "S", 0, "x").status().code(),
            absl::StatusCode::kNotFound);
  m.set_archived(false);
  EXPECT_EQ(DecideMergeInto(m, std::nullopt, "M", "S", 0, "x").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(DecideRestore(m, "M", "u").status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace crm::contact

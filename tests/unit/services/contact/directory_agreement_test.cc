// The contact directory that the interaction, sales and analytics services keep takes the events
// the contact projection takes, and no others: writers racing on the same contacts (each deciding
// against the state it read, some of them stale) put events on the log that the contact
// projection refuses at apply, and the directory must refuse them too — else another service
// would show a name, an archive or a merge the contact service never made.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "common/directory/contact_directory.h"
#include "common/store/projection_store.h"
#include "services/contact/domain/apply.h"
#include "services/contact/domain/decide.h"
#include "services/contact/projection/contact_projection.h"
#include "tests/testing/events.h"
#include "tests/testing/testing.h"
#include "tests/unit/services/contact/test_keys.h"

namespace crm::contact {
namespace {

using crm::common::v1::EventEnvelope;

constexpr char kTenant[] = "t";

class DirectoryAgreementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    contact_store_ = std::move(*store::ProjectionStore::Open(dir_.Sub("contact")));
    directory_store_ = std::move(*store::ProjectionStore::Open(dir_.Sub("directory")));
    keys_ = std::make_unique<TestKeys>(dir_.Sub("keys"));
    projection_ = std::make_unique<ContactProjection>(contact_store_.get(), &keys_->sealer);
    directory_ = std::make_unique<directory::ContactDirectory>(directory_store_.get());
  }

  // Appends `payload` as decided against version `expected` of `id`, as a writer would, and
  // applies it to both; returns the contact projection's decision.
  absl::Status Apply(const google::protobuf::Message& payload, const std::string& id,
                     int64_t expected) {
    ++events_;
    const EventEnvelope e = testing::MakeTestEvent(payload, id, expected, 1000 + events_,
                                                   "e" + std::to_string(events_), kTenant);
    auto contact_batch = contact_store_->NewBatch();
    absl::StatusOr<absl::Status> decision = projection_->Apply(e, contact_batch);
    EXPECT_TRUE(decision.ok()) << decision.status();
    EXPECT_TRUE(contact_store_->Commit(contact_batch).ok());
    auto directory_batch = directory_store_->NewBatch();
    EXPECT_TRUE(directory_->Apply(e, directory_batch).ok());
    directory_->Built();
    EXPECT_TRUE(directory_store_->Commit(directory_batch).ok());
    directory_->Committed();
    return decision.ok() ? *decision : decision.status();
  }

  std::optional<Contact> Current(const std::string& id) {
    return *projection_->GetContact(kTenant, id, std::nullopt);
  }

  // What the directory shows of `id` is what the contact projection holds.
  void ExpectAgreement(const std::string& id) {
    SCOPED_TRACE(id);
    const std::optional<Contact> contact = Current(id);
    const std::optional<directory::ContactDirectoryEntry> entry = *directory_->Get(kTenant, id);
    ASSERT_EQ(contact.has_value(), entry.has_value());
    if (!contact) return;
    EXPECT_EQ(entry->version(), contact->version());
    EXPECT_EQ(entry->archived(), contact->archived());
    EXPECT_EQ(entry->erased(), contact->erased());
    EXPECT_EQ(entry->merged_into(), contact->merged_into());
    EXPECT_EQ(entry->given_name(), contact->personal().given_name());
    EXPECT_EQ(entry->family_name(), contact->personal().family_name());
    int merged = 0;  // the contacts merged into this one, as the contact projection has them
    for (const char* other : {"ANN", "BOB", "CID"}) {
      const std::optional<Contact> c = Current(other);
      merged += c && c->merged_into() == id;
    }
    EXPECT_EQ(entry->merged_count(), merged);
  }

  testing::TempDir dir_;
  std::unique_ptr<store::ProjectionStore> contact_store_;
  std::unique_ptr<store::ProjectionStore> directory_store_;
  std::unique_ptr<TestKeys> keys_;
  std::unique_ptr<ContactProjection> projection_;
  std::unique_ptr<directory::ContactDirectory> directory_;
  int events_ = 0;
};

TEST_F(DirectoryAgreementTest, ALostRaceChangesTheDirectoryNoMoreThanTheContact) {
  Contact ann;
  ann.mutable_personal()->set_given_name("Ann");
  ASSERT_TRUE(Apply(*DecideCreate(ann, "ANN", absl::Now(), Facts{}), "ANN", 0).ok());
  ASSERT_TRUE(Apply(*DecideCreate(ann, "BOB", absl::Now(), Facts{}), "BOB", 0).ok());
  const Contact at_1 = *Current("ANN");
  // Two writers read version 1; the first rename wins, the second loses at apply.
  Contact values;
  values.mutable_personal()->set_family_name("Evans");
  google::protobuf::FieldMask family;
  family.add_paths("personal.family_name");
  ASSERT_TRUE(Apply(*DecideUpdate(at_1, values, family, 1, absl::Now(), Facts{}), "ANN", 1).ok());
  values.mutable_personal()->set_family_name("Cross");
  EXPECT_EQ(Apply(*DecideUpdate(at_1, values, family, 1, absl::Now(), Facts{}), "ANN", 1).code(),
            absl::StatusCode::kAborted);
  ExpectAgreement("ANN");
  EXPECT_EQ((*directory_->Get(kTenant, "ANN"))->display_name(), "Ann Evans");
  // An archive and a merge decided on version 1 lose too: ANN stays live and unmerged, and BOB
  // counts no merged contact.
  EXPECT_FALSE(Apply(*DecideArchive(at_1, "ANN", 1), "ANN", 1).ok());
  EXPECT_FALSE(Apply(*DecideMergeInto(at_1, Current("BOB"), "ANN", "BOB", 1, "M1"), "ANN", 1).ok());
  ExpectAgreement("ANN");
  EXPECT_EQ((*directory_->Get(kTenant, "BOB"))->merged_count(), 0);
  EXPECT_EQ(*directory_->WithMerged(kTenant, "BOB"), std::vector<std::string>{"BOB"});
  // A change the directory keeps nothing of still moves its version: the next rename applies.
  values.set_job_title("Engineer");
  google::protobuf::FieldMask job;
  job.add_paths("job_title");
  ASSERT_TRUE(
      Apply(*DecideUpdate(Current("ANN"), values, job, 2, absl::Now(), Facts{}), "ANN", 2).ok());
  values.mutable_personal()->set_family_name("Lewes");
  ASSERT_TRUE(
      Apply(*DecideUpdate(Current("ANN"), values, family, 3, absl::Now(), Facts{}), "ANN", 3).ok());
  ExpectAgreement("ANN");
  EXPECT_EQ((*directory_->Get(kTenant, "ANN"))->display_name(), "Ann Lewes");
}

// Writers deciding against any version they may have read, the current one or an older one, on
// three contacts: whatever the contact projection takes or refuses, the directory agrees.
TEST_F(DirectoryAgreementTest, AgreesWithTheContactProjectionUnderRacingWriters) {
  const std::vector<std::string> ids = {"ANN", "BOB", "CID"};
  // Every state each contact has had, by version: what a writer may have read.
  std::map<std::string, std::map<int64_t, Contact>> seen;
  for (const std::string& id : ids) {
    Contact c;
    c.mutable_personal()->set_given_name(id);
    ASSERT_TRUE(Apply(*DecideCreate(c, id, absl::Now(), Facts{}), id, 0).ok());
    seen[id][1] = *Current(id);
  }
  std::mt19937 rng(11);
  int taken = 0, refused = 0;
  for (int step = 0; step < 400; ++step) {
    const size_t i = rng() % ids.size();
    const std::string& id = ids[i];
    const std::string& other = ids[(i + 1 + rng() % (ids.size() - 1)) % ids.size()];
    const auto& versions = seen[id];
    // Half the writers read the latest state, the others one they read earlier.
    auto read = rng() % 2 == 0 ? std::prev(versions.end())
                               : std::next(versions.begin(), rng() % versions.size());
    const Contact& state = read->second;
    const int64_t v = read->first;
    Contact values;
    google::protobuf::FieldMask mask;
    std::unique_ptr<google::protobuf::Message> payload;
    auto take = [&](auto decided) {
      if (decided.ok()) payload = std::make_unique<std::decay_t<decltype(*decided)>>(*decided);
    };
    switch (rng() % 8) {
      case 0:
      case 1:
        values.mutable_personal()->set_given_name("G" + std::to_string(step));
        mask.add_paths("personal.given_name");
        take(DecideUpdate(state, values, mask, v, absl::Now(), Facts{}));
        break;
      case 2:
        values.set_job_title("J" + std::to_string(step));
        mask.add_paths("job_title");
        take(DecideUpdate(state, values, mask, v, absl::Now(), Facts{}));
        break;
      case 3:
        take(DecideMergeInto(state, Current(other), id, other, v, "M" + std::to_string(step)));
        break;
      case 4:
        take(DecideRestore(state, id, "U" + std::to_string(step)));
        break;
      case 5: {
        std::optional<Contact> merged = Current(other);
        if (merged && merged->merged_into() == id) {
          take(DecideAbsorb(state, *merged, mask, v, "A" + std::to_string(step)));
        }
        break;
      }
      case 6:
        if (step % 5 == 0) take(DecideArchive(state, id, v));
        break;
      default:
        if (step % 40 == 0) take(DecideErase(state, id));
        break;
    }
    if (!payload) continue;  // refused at decide: nothing appended
    const absl::Status decision = Apply(*payload, id, v);
    (decision.ok() ? taken : refused) += 1;
    if (decision.ok()) seen[id][v + 1] = *Current(id);
    for (const std::string& each : ids) ExpectAgreement(each);
    if (HasFailure()) FAIL() << "after step " << step;
  }
  // Both kinds happened, so the agreement covered refusals as well as changes.
  EXPECT_GT(taken, 20);
  EXPECT_GT(refused, 20);
}

}  // namespace
}  // namespace crm::contact

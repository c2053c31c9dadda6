#include "common/directory/contact_directory.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "common/store/keys.h"
#include "crm/contact/v1/events.pb.h"
#include "tests/testing/testing.h"

namespace crm::directory {
namespace {

using crm::common::v1::EventEnvelope;

constexpr char kAnn[] = "ANN";
constexpr char kBob[] = "BOB";
constexpr char kCid[] = "CID";

// Event `n` of the log, decided against version `expected` of `id`.
EventEnvelope Event(const google::protobuf::Message& payload, const std::string& id, int n,
                    int64_t expected = 0) {
  EventEnvelope e;
  e.set_event_id("e" + std::to_string(n));
  e.set_tenant("t");
  e.set_aggregate_id(id);
  e.set_expected_version(expected);
  e.set_aggregate_version(expected + 1);
  e.set_event_type(payload.GetDescriptor()->full_name());
  e.mutable_payload()->PackFrom(payload);
  return e;
}

// A change of the family name alone.
crm::contact::v1::ContactUpdated Renamed(const std::string& family_name) {
  crm::contact::v1::ContactUpdated u;
  u.mutable_contact()->mutable_personal()->set_family_name(family_name);
  u.mutable_update_mask()->add_paths("personal.family_name");
  return u;
}

// A directory over a store of its own, each event applied and committed on its own, decided
// against the version the last one made.
struct StoredDirectory {
  explicit StoredDirectory(const std::string& path)
      : store(std::move(*store::ProjectionStore::Open(path))), directory(store.get()) {}
  EventEnvelope Next(const google::protobuf::Message& payload, const std::string& id) {
    return Event(payload, id, ++events, versions[id]++);
  }
  // Creates contact `id` with only a family name.
  void Create(const std::string& id, const std::string& family_name) {
    crm::contact::v1::ContactCreated created;
    created.mutable_contact()->mutable_personal()->set_family_name(family_name);
    Apply(created, id);
  }
  void Apply(const google::protobuf::Message& payload, const std::string& id) {
    auto batch = store->NewBatch();
    ASSERT_TRUE(directory.Apply(Next(payload, id), batch).ok());
    directory.Built();
    ASSERT_TRUE(store->Commit(batch).ok());
    directory.Committed();
  }
  std::unique_ptr<store::ProjectionStore> store;
  ContactDirectory directory;
  int events = 0;
  std::map<std::string, int64_t> versions;
};

TEST(ApplyContactEvent, FollowsTheContactsLifecycle) {
  crm::contact::v1::ContactCreated created;
  created.mutable_contact()->mutable_personal()->set_given_name("Mary Ann");
  created.mutable_contact()->mutable_personal()->set_family_name("Evans");
  auto entry = ApplyContactEvent(std::nullopt, Event(created, kAnn, 1));
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->display_name(), "Mary Ann Evans");
  crm::contact::v1::ContactUpdated renamed;
  renamed.mutable_contact()->mutable_personal()->set_family_name("Cross");
  renamed.mutable_update_mask()->add_paths("personal.family_name");
  entry = ApplyContactEvent(entry, Event(renamed, kAnn, 2, 1));
  EXPECT_EQ(entry->display_name(), "Mary Ann Cross");
  EXPECT_EQ(entry->version(), 2);
  // A change of nothing the directory shows moves only the version.
  crm::contact::v1::ContactUpdated job;
  job.mutable_update_mask()->add_paths("job_title");
  entry = ApplyContactEvent(entry, Event(job, kAnn, 3, 2));
  EXPECT_EQ(entry->display_name(), "Mary Ann Cross");
  EXPECT_EQ(entry->version(), 3);
  crm::contact::v1::ContactMergedInto into;
  into.set_survivor_id(kBob);
  entry = ApplyContactEvent(entry, Event(into, kAnn, 4, 3));
  EXPECT_EQ(entry->merged_into(), kBob);
  entry = ApplyContactEvent(entry, Event(crm::contact::v1::ContactUnmerged(), kAnn, 5, 4));
  EXPECT_TRUE(entry->merged_into().empty());
  entry = ApplyContactEvent(entry, Event(crm::contact::v1::ContactArchived(), kAnn, 6, 5));
  EXPECT_TRUE(entry->archived());
  EXPECT_EQ(entry->version(), 6);
  // A tenant's data-quality rules are not a contact.
  EXPECT_FALSE(ApplyContactEvent(entry, Event(crm::contact::v1::DataQualityRulesSet(), kAnn, 7)));
}

// A new contact's names are read out of its payload without parsing the rest of it: the same
// names a parse gives, whatever else the contact carries (sealed personal data, tags, emails),
// copies of the contact field merged in order as a parser merges them; a payload that is not a
// ContactCreated, or is cut short, makes no entry.
TEST(ApplyContactEvent, ReadsANewContactsNamesAsAParseOfItsPayloadWould) {
  crm::contact::v1::ContactCreated first;
  first.mutable_contact()->set_id(kAnn);
  first.mutable_contact()->set_job_title("Novelist");
  first.mutable_contact()->add_tags("vip");
  (*first.mutable_contact()->mutable_attributes())["pen_name"] = "George Eliot";
  first.mutable_contact()->mutable_personal()->set_given_name("Mary");
  first.mutable_contact()->mutable_personal()->add_emails()->set_address("mae@example.com");
  first.mutable_sealed_personal()->set_key_id(kAnn);
  first.mutable_sealed_personal()->set_ciphertext(std::string(64, 'x'));
  crm::contact::v1::ContactCreated second;  // the contact field again: merged into the first
  second.mutable_contact()->mutable_personal()->set_given_name("Mary Ann");
  second.mutable_contact()->mutable_personal()->set_family_name("Evans");
  second.mutable_contact()->set_owner("user:1");
  EventEnvelope event = Event(first, kAnn, 1);
  event.mutable_payload()->set_value(first.SerializeAsString() + second.SerializeAsString());
  crm::contact::v1::ContactCreated parsed;
  ASSERT_TRUE(event.payload().UnpackTo(&parsed));
  ASSERT_EQ(parsed.contact().personal().given_name(), "Mary Ann");
  const auto entry = ApplyContactEvent(std::nullopt, event);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->given_name(), parsed.contact().personal().given_name());
  EXPECT_EQ(entry->family_name(), parsed.contact().personal().family_name());
  EXPECT_EQ(entry->display_name(), "Mary Ann Evans");
  EXPECT_EQ(entry->contact_id(), kAnn);
  EXPECT_EQ(entry->version(), 1);
  // Sealed, as the contact service writes it: no names, an entry all the same.
  crm::contact::v1::ContactCreated sealed = first;
  sealed.mutable_contact()->clear_personal();
  const auto unnamed = ApplyContactEvent(std::nullopt, Event(sealed, kBob, 2));
  ASSERT_TRUE(unnamed);
  EXPECT_EQ(unnamed->display_name(), "");
  EXPECT_EQ(unnamed->contact_id(), kBob);

  EventEnvelope cut = event;
  cut.mutable_payload()->mutable_value()->resize(first.ByteSizeLong() / 2);
  ASSERT_FALSE(cut.payload().UnpackTo(&parsed));
  EXPECT_FALSE(ApplyContactEvent(std::nullopt, cut));
  EventEnvelope not_created = Event(Renamed("Evans"), kAnn, 3);
  not_created.set_event_type("crm.contact.v1.ContactCreated");
  EXPECT_FALSE(ApplyContactEvent(std::nullopt, not_created));
}

// The contact service refuses at apply an event decided against a version that another change
// has moved on from (two writers raced); the directory takes from the log only what the contact
// service took.
TEST(ApplyContactEvent, ChangesNothingForAnEventThatLostARace) {
  crm::contact::v1::ContactCreated created;
  created.mutable_contact()->mutable_personal()->set_given_name("Ann");
  auto entry = ApplyContactEvent(std::nullopt, Event(created, kAnn, 1));
  crm::contact::v1::ContactUpdated renamed;
  renamed.mutable_contact()->mutable_personal()->set_family_name("Evans");
  renamed.mutable_update_mask()->add_paths("personal.family_name");
  entry = ApplyContactEvent(entry, Event(renamed, kAnn, 2, 1));
  ASSERT_EQ(entry->version(), 2);
  renamed.mutable_contact()->mutable_personal()->set_family_name("Cross");
  EXPECT_FALSE(ApplyContactEvent(entry, Event(renamed, kAnn, 3, 1)));
  EXPECT_FALSE(ApplyContactEvent(entry, Event(crm::contact::v1::ContactArchived(), kAnn, 4, 1)));
  crm::contact::v1::ContactMergedInto into;
  into.set_survivor_id(kBob);
  EXPECT_FALSE(ApplyContactEvent(entry, Event(into, kAnn, 5, 1)));
  EXPECT_FALSE(ApplyContactEvent(entry, Event(crm::contact::v1::ContactErased(), kAnn, 6, 0)));
  EXPECT_FALSE(ApplyContactEvent(entry, Event(created, kAnn, 7, 0)));  // the same id again
  // One that follows events this build does not know (a newer contact service's) applies.
  auto later = ApplyContactEvent(entry, Event(crm::contact::v1::ContactArchived(), kAnn, 8, 5));
  ASSERT_TRUE(later);
  EXPECT_TRUE(later->archived());
  EXPECT_EQ(later->version(), 6);
  // A change to a contact the directory never saw created is not a contact it knows.
  EXPECT_FALSE(ApplyContactEvent(std::nullopt, Event(renamed, kBob, 9, 1)));
}

TEST(ApplyContactEvent, KeepsCompaniesByName) {
  crm::contact::v1::CompanyCreated created;
  created.mutable_company()->set_name("Acme");
  auto entry = ApplyContactEvent(std::nullopt, Event(created, kCid, 1));
  ASSERT_TRUE(entry);
  EXPECT_TRUE(entry->company());
  EXPECT_EQ(entry->display_name(), "Acme");
  crm::contact::v1::CompanyUpdated industry;
  industry.mutable_update_mask()->add_paths("industry");
  entry = ApplyContactEvent(entry, Event(industry, kCid, 2, 1));
  EXPECT_EQ(entry->display_name(), "Acme");
  // Relationships are not the directory's business, but move the version.
  entry = ApplyContactEvent(entry, Event(crm::contact::v1::CompanyRelationshipAdded(), kCid, 3, 2));
  EXPECT_EQ(entry->version(), 3);
  crm::contact::v1::CompanyUpdated renamed;
  renamed.mutable_company()->set_name("Acme Corp");
  renamed.mutable_update_mask()->add_paths("name");
  EXPECT_FALSE(ApplyContactEvent(entry, Event(renamed, kCid, 4, 1)));  // lost a race
  entry = ApplyContactEvent(entry, Event(renamed, kCid, 4, 3));
  EXPECT_EQ(entry->display_name(), "Acme Corp");
  entry = ApplyContactEvent(entry, Event(crm::contact::v1::CompanyArchived(), kCid, 5, 4));
  EXPECT_TRUE(entry->archived());
  EXPECT_EQ(entry->display_name(), "Acme Corp");
  // A company is not a contact, and a contact is not a company.
  EXPECT_EQ(CheckLinkable(entry, "deal.contact_id", kCid).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(CheckLinkable(ContactDirectoryEntry(), "deal.company_id", kAnn, Kind::kCompany).code(),
            absl::StatusCode::kNotFound);
  ContactDirectoryEntry live;
  live.set_company(true);
  EXPECT_TRUE(CheckLinkable(live, "deal.company_id", kCid, Kind::kCompany).ok());
  const absl::Status archived = CheckLinkable(entry, "deal.company_id", kCid, Kind::kCompany);
  EXPECT_EQ(archived.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(archived.message().find("company"), std::string::npos);
}

TEST(CheckLinkable, RefusesUnknownArchivedAndMerged) {
  ContactDirectoryEntry merged;
  merged.set_merged_into(kBob);
  const absl::Status m = CheckLinkable(merged, "deal.contact_id", kAnn);
  EXPECT_EQ(m.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(m.message().find(kBob), std::string::npos);
  ContactDirectoryEntry archived;
  archived.set_archived(true);
  EXPECT_EQ(CheckLinkable(archived, "f", kAnn).code(), absl::StatusCode::kFailedPrecondition);
  const absl::Status unknown = CheckLinkable(std::nullopt, "f", kAnn);
  EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(unknown.message().substr(0, 2), "f:");
  EXPECT_TRUE(CheckLinkable(ContactDirectoryEntry(), "f", kAnn).ok());
}

TEST(ContactDirectory, KeepsEntriesAndMergesInTheStore) {
  testing::TempDir dir;
  StoredDirectory stored(dir.Sub("p"));
  const ContactDirectory& directory = stored.directory;
  auto apply = [&](const google::protobuf::Message& payload, const std::string& id) {
    stored.Apply(payload, id);
  };
  crm::contact::v1::ContactCreated created;
  for (const char* id : {kAnn, kBob, kCid}) apply(created, id);
  crm::contact::v1::ContactMergedInto into;
  into.set_survivor_id(kAnn);
  apply(into, kBob);
  into.set_survivor_id(kBob);
  apply(into, kCid);  // A merge of a merge: CID -> BOB -> ANN.
  auto ids = *directory.WithMerged("t", kAnn);
  EXPECT_EQ(ids, (std::vector<std::string>{kAnn, kBob, kCid}));
  apply(crm::contact::v1::ContactUnmerged(), kBob);
  EXPECT_EQ(*directory.WithMerged("t", kAnn), (std::vector<std::string>{kAnn}));
  EXPECT_TRUE(directory.Get("t", kBob)->has_value());
  EXPECT_FALSE(directory.Get("t", "NOBODY")->has_value());

  // Erased, as apply sees it: in the batch that erases, in those after, and for nobody else.
  auto erased = [&](const std::string& id) {
    auto batch = stored.store->NewBatch();
    return *directory.Erased(batch, "t", id);
  };
  EXPECT_FALSE(erased(kCid));
  {
    auto batch = stored.store->NewBatch();
    ASSERT_TRUE(directory.Apply(stored.Next(crm::contact::v1::ContactErased(), kCid), batch).ok());
    EXPECT_TRUE(*directory.Erased(batch, "t", kCid));
    directory.Built();
    ASSERT_TRUE(stored.store->Commit(batch).ok());
    directory.Committed();
  }
  EXPECT_TRUE(erased(kCid));
  EXPECT_TRUE((*directory.Get("t", kCid))->erased());
  apply(crm::contact::v1::ContactUnmerged(), kCid);  // later events keep it erased
  EXPECT_TRUE(erased(kCid));
  EXPECT_FALSE(erased(kAnn));
  EXPECT_FALSE(erased("NOBODY"));
  EXPECT_FALSE(erased(""));
}

// Erasures are found per tenant by a directory opened on a store that holds them (its first
// question about a tenant looks for that tenant's markers), and one tenant's are not another's.
TEST(ContactDirectory, FindsErasuresPerTenantAfterARestart) {
  testing::TempDir dir;
  {
    StoredDirectory stored(dir.Sub("p"));
    stored.Apply(crm::contact::v1::ContactCreated(), kAnn);
    stored.Apply(crm::contact::v1::ContactCreated(), kBob);
    stored.Apply(crm::contact::v1::ContactErased(), kBob);
  }
  StoredDirectory reopened(dir.Sub("p"));
  auto batch = reopened.store->NewBatch();
  EXPECT_TRUE(*reopened.directory.Erased(batch, "t", kBob));
  EXPECT_FALSE(*reopened.directory.Erased(batch, "t", kAnn));
  EXPECT_FALSE(*reopened.directory.Erased(batch, "other", kBob));
  // Another tenant's first erasure, in the batch that asks.
  auto apply_other = [&](const google::protobuf::Message& payload) {
    EventEnvelope e = reopened.Next(payload, kCid);
    e.set_tenant("other");
    ASSERT_TRUE(reopened.directory.Apply(e, batch).ok());
  };
  apply_other(crm::contact::v1::ContactCreated());
  apply_other(crm::contact::v1::ContactErased());
  EXPECT_TRUE(*reopened.directory.Erased(batch, "other", kCid));
  EXPECT_FALSE(*reopened.directory.Erased(batch, "other", kBob));
  EXPECT_FALSE(*reopened.directory.Erased(batch, "t", kCid));
}

// A survivor's entry counts the contacts merged into it, so that reads skip looking for merged
// contacts when there are none. The count comes from other contacts' events, which may be on
// other partitions of the log and applied before the survivor's own creation: the state must be
// the same whatever the order, and the survivor unknown until it is created.
TEST(ContactDirectory, CountsMergedContactsWhateverOrderThePartitionsApplyIn) {
  testing::TempDir dir;
  crm::contact::v1::ContactCreated created;
  crm::contact::v1::ContactMergedInto into_ann;
  into_ann.set_survivor_id(kAnn);
  struct Step {
    const google::protobuf::Message* payload;
    const char* id;
  };
  // In log order per contact; ANN's creation first or last.
  const std::vector<Step> survivor_first = {
      {&created, kAnn}, {&created, kBob}, {&created, kCid}, {&into_ann, kBob}, {&into_ann, kCid}};
  const std::vector<Step> survivor_last = {
      {&created, kBob}, {&into_ann, kBob}, {&created, kCid}, {&into_ann, kCid}, {&created, kAnn}};
  std::vector<std::string> checksums;
  for (const auto* steps : {&survivor_first, &survivor_last}) {
    SCOPED_TRACE(steps == &survivor_first ? "survivor created first" : "survivor created last");
    StoredDirectory stored(dir.Sub(std::to_string(checksums.size())));
    const ContactDirectory& directory = stored.directory;
    auto apply = [&](const google::protobuf::Message& payload, const std::string& id) {
      stored.Apply(payload, id);
    };
    for (const Step& step : *steps) {
      if (steps == &survivor_last && step.id == kAnn) {
        // Two contacts merged into a survivor not created yet: it reads as unknown.
        EXPECT_FALSE(directory.Get("t", kAnn)->has_value());
      }
      apply(*step.payload, step.id);
    }
    std::optional<ContactDirectoryEntry> ann = *directory.Get("t", kAnn);
    ASSERT_TRUE(ann);
    EXPECT_EQ(ann->merged_count(), 2);
    EXPECT_EQ(*directory.WithMerged("t", *ann), (std::vector<std::string>{kAnn, kBob, kCid}));
    std::optional<ContactDirectoryEntry> bob = *directory.Get("t", kBob);
    ASSERT_TRUE(bob);
    EXPECT_EQ(bob->merged_count(), 0);
    EXPECT_EQ(*directory.WithMerged("t", *bob), (std::vector<std::string>{kBob}));
    checksums.push_back(*stored.store->Latest().Checksum());
    // Unmerged one by one: the count follows.
    apply(crm::contact::v1::ContactUnmerged(), kCid);
    ann = *directory.Get("t", kAnn);
    EXPECT_EQ(ann->merged_count(), 1);
    EXPECT_EQ(*directory.WithMerged("t", *ann), (std::vector<std::string>{kAnn, kBob}));
    apply(crm::contact::v1::ContactUnmerged(), kBob);
    ann = *directory.Get("t", kAnn);
    EXPECT_EQ(ann->merged_count(), 0);
    EXPECT_EQ(*directory.WithMerged("t", *ann), (std::vector<std::string>{kAnn}));
  }
  EXPECT_EQ(checksums[0], checksums[1]);
}

// Get keeps what it read: an entry changed in the store behind the directory's back is not seen
// (which shows it answers from memory), one changed by a committed Apply is, as is a contact
// created after a Get found none; a store being rebuilt answers for itself, and once emptied
// nothing read before it is kept.
TEST(ContactDirectory, KeepsWhatItReadUntilACommitChangesIt) {
  testing::TempDir dir;
  StoredDirectory stored(dir.Sub("p"));
  const ContactDirectory& directory = stored.directory;
  stored.Create(kAnn, "Evans");
  ASSERT_EQ((*directory.Get("t", kAnn))->display_name(), "Evans");
  ASSERT_FALSE(directory.Get("t", kBob)->has_value());

  ContactDirectoryEntry behind;
  behind.set_contact_id(kAnn);
  behind.set_display_name("written behind its back");
  auto batch = stored.store->NewBatch();
  batch.Put(store::Cf::kState, store::KindPrefix('k', "t").append(kAnn),
            behind.SerializeAsString());
  ASSERT_TRUE(stored.store->Commit(batch).ok());
  directory.Committed();  // a commit that changed no entry through Apply
  EXPECT_EQ((*directory.Get("t", kAnn))->display_name(), "Evans");

  stored.Apply(Renamed("Cross"), kAnn);
  EXPECT_EQ((*directory.Get("t", kAnn))->display_name(), "Cross");
  EXPECT_EQ((*directory.Get("t", kAnn))->version(), 2);
  stored.Create(kBob, "Evans");
  EXPECT_TRUE(directory.Get("t", kBob)->has_value());

  stored.store->SetUnavailable("being rebuilt");
  EXPECT_EQ(directory.Get("t", kAnn).status().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(stored.store->Clear("rebuilding", "1").ok());
  directory.Committed();
  stored.store->SetAvailable();
  EXPECT_FALSE(directory.Get("t", kAnn)->has_value());
  EXPECT_FALSE(directory.Get("t", kBob)->has_value());
}

// A projector behind the log commits a full batch while it applies the next (reading through
// it): the next batch's changes are forgotten at the commit after which readers see them, not at
// the one before it, after which a reader keeps what it read.
TEST(ContactDirectory, AChangeInTheBatchBuiltDuringACommitIsSeenAfterItsOwnCommit) {
  testing::TempDir dir;
  StoredDirectory stored(dir.Sub("p"));
  const ContactDirectory& directory = stored.directory;
  stored.Create(kAnn, "Evans");
  EXPECT_EQ((*directory.Get("t", kAnn))->display_name(), "Evans");
  auto first = stored.store->NewBatch();
  ASSERT_TRUE(directory.Apply(stored.Next(Renamed("Cross"), kAnn), first).ok());
  directory.Built();
  auto second = stored.store->NewBatch();
  second.ReadThrough(&first);
  ASSERT_TRUE(directory.Apply(stored.Next(Renamed("Dale"), kAnn), second).ok());
  ASSERT_TRUE(stored.store->Commit(first).ok());
  directory.Committed();
  EXPECT_EQ((*directory.Get("t", kAnn))->display_name(), "Cross");  // read, and kept
  second.ReadThrough(nullptr);
  directory.Built();
  ASSERT_TRUE(stored.store->Commit(second).ok());
  directory.Committed();
  EXPECT_EQ((*directory.Get("t", kAnn))->display_name(), "Dale");
  EXPECT_EQ((*directory.Get("t", kAnn))->version(), 3);
}

// Readers racing the applier: a Get that begins after a change was committed never answers an
// older entry, though a read that began before the commit may end after it.
TEST(ContactDirectory, AReadNeverAnswersAnEntryOlderThanTheLastCommit) {
  testing::TempDir dir;
  StoredDirectory stored(dir.Sub("p"));
  const ContactDirectory& directory = stored.directory;
  stored.Apply(crm::contact::v1::ContactCreated(), kAnn);
  std::atomic<int64_t> committed{1};
  std::atomic<bool> done{false};
  std::atomic<int> older{0};
  std::atomic<int> reads{0};
  auto read = [&] {
    while (!done) {
      const int64_t before = committed.load();
      absl::StatusOr<std::optional<ContactDirectoryEntry>> entry = directory.Get("t", kAnn);
      if (!entry.ok() || !entry->has_value() || (*entry)->version() < before) ++older;
      ++reads;
    }
  };
  std::thread reader1(read);
  std::thread reader2(read);
  crm::contact::v1::ContactUpdated job;
  job.mutable_update_mask()->add_paths("job_title");
  for (int i = 0; i < 3000; ++i) {
    stored.Apply(job, kAnn);
    committed = stored.versions[kAnn];
  }
  done = true;
  reader1.join();
  reader2.join();
  EXPECT_EQ(older.load(), 0) << "of " << reads.load() << " reads";
  EXPECT_GT(reads.load(), 0);
}

}  // namespace
}  // namespace crm::directory

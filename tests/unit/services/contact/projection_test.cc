// The contact projection on a real RocksDB store: as_of reads at every point of a generated
// history, the audit trail with field diffs, affiliations, relationships and search.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <random>

#include "common/store/keys.h"
#include "common/store/projection_store.h"
#include "services/contact/domain/apply.h"
#include "services/contact/domain/decide.h"
#include "services/contact/domain/duplicates.h"
#include "services/contact/projection/contact_projection.h"
#include "services/contact/projection/history.h"
#include "tests/testing/events.h"
#include "tests/testing/testing.h"
#include "tests/unit/services/contact/test_keys.h"

namespace crm::contact {
namespace {

using crm::common::v1::EventEnvelope;
using google::protobuf::Timestamp;

Timestamp At(int64_t seconds) {
  Timestamp t;
  t.set_seconds(seconds);
  return t;
}

Facts AnyCompany() {
  Facts f;
  f.company_exists = [](const std::string&) { return true; };
  return f;
}

class ProjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(*store::ProjectionStore::Open(dir_.Sub("p")));
    keys_ = std::make_unique<TestKeys>(dir_.Sub("keys"));
    projection_ = std::make_unique<ContactProjection>(store_.get(), &keys_->sealer);
  }

  // Applies `payload` to aggregate `id` and commits; returns the decision.
  absl::Status Apply(const google::protobuf::Message& payload, const std::string& id,
                     int64_t expected, int64_t seconds, const std::string& source = "api") {
    EventEnvelope e;
    e.set_event_id("e" + std::to_string(++events_));
    e.set_tenant("t");
    e.set_aggregate_id(id);
    e.set_expected_version(expected);
    e.set_aggregate_version(expected + 1);
    e.set_event_type(payload.GetDescriptor()->full_name());
    e.mutable_payload()->PackFrom(payload);
    *e.mutable_occurred_at() = At(seconds);
    e.set_actor("tester");
    e.set_source(source);
    auto batch = store_->NewBatch();
    auto decision = projection_->Apply(e, batch);
    EXPECT_TRUE(decision.ok());
    EXPECT_TRUE(store_->Commit(batch).ok());
    return *decision;
  }

  std::string CreateCompany(const std::string& id, const std::string& name) {
    Company c;
    c.set_name(name);
    EXPECT_TRUE(Apply(*DecideCreateCompany(c, id), id, 0, 10).ok());
    return id;
  }

  testing::TempDir dir_;
  std::unique_ptr<store::ProjectionStore> store_;
  std::unique_ptr<TestKeys> keys_;
  std::unique_ptr<ContactProjection> projection_;
  int events_ = 0;
};

TEST_F(ProjectionTest, AsOfReturnsEveryVersionExactly) {
  std::mt19937 rng(7);
  Contact c;
  c.mutable_personal()->set_given_name("V0");
  ASSERT_TRUE(Apply(*DecideCreate(c, "C1", absl::Now(), Facts{}), "C1", 0, 1000).ok());
  // Point-in-time copies ("v/"): only of states a later change superseded.
  auto copies = [&] {
    int n = 0;
    EXPECT_TRUE(store_
                    ->Scan(store::Cf::kIndex, store::KindPrefix('v', "t", "C1"), "",
                           [&](std::string_view, std::string_view) {
                             ++n;
                             return true;
                           })
                    .ok());
    return n;
  };
  EXPECT_EQ(copies(), 0);
  std::vector<std::pair<int64_t, std::string>> states;  // (time, serialized state)
  states.emplace_back(1000, projection_->GetContact("t", "C1")->value().SerializeAsString());
  int64_t t = 1000;
  for (int v = 1; v < 40; ++v) {
    t += 1 + static_cast<int64_t>(rng() % 50);
    Contact values;
    values.set_id("C1");
    values.mutable_personal()->set_given_name("V" + std::to_string(v));
    values.set_job_title(rng() % 2 ? "odd" : "even");
    google::protobuf::FieldMask mask;
    mask.add_paths("personal.given_name");
    mask.add_paths("job_title");
    auto current = projection_->GetContact("t", "C1");
    ASSERT_TRUE(
        Apply(*DecideUpdate(**current, values, mask, v, absl::Now(), Facts{}), "C1", v, t).ok());
    states.emplace_back(t, projection_->GetContact("t", "C1")->value().SerializeAsString());
  }
  EXPECT_EQ(*projection_->GetContact("t", "C1", At(999)), std::nullopt);
  for (size_t i = 0; i < states.size(); ++i) {
    const auto at = projection_->GetContact("t", "C1", At(states[i].first));
    ASSERT_TRUE(at.ok() && at->has_value());
    EXPECT_EQ((*at)->SerializeAsString(), states[i].second) << "version " << i + 1;
    // Just before the next change, still this version.
    const int64_t until = i + 1 < states.size() ? states[i + 1].first - 1 : states[i].first + 1000;
    EXPECT_EQ(projection_->GetContact("t", "C1", At(until))->value().version(),
              static_cast<int64_t>(i + 1));
    // And by its version (the current one included).
    const auto exact = projection_->GetVersion<Contact>("t", "C1", static_cast<int64_t>(i + 1));
    ASSERT_TRUE(exact.ok() && exact->has_value());
    EXPECT_EQ((*exact)->SerializeAsString(), states[i].second);
  }
  EXPECT_EQ(copies(), static_cast<int>(states.size()) - 1);
  EXPECT_EQ(*projection_->GetVersion<Contact>("t", "C1", 41), std::nullopt);
}

// Every key and value of the projection, as one string.
std::string Dump(const store::ProjectionStore& store) {
  std::string all;
  for (store::Cf cf : {store::Cf::kState, store::Cf::kIndex, store::Cf::kLog}) {
    EXPECT_TRUE(store
                    .Scan(cf, "", "",
                          [&](std::string_view k, std::string_view v) {
                            all.append(k).append(v);
                            return true;
                          })
                    .ok());
  }
  return all;
}

// Each sealed event opens to the payload it was before sealing: its contact's personal data back
// in place, its sealed field gone, every other field as it was; with the key destroyed, to the
// payload without personal data. Nothing sealed, or a payload that does not decode, opens to
// nothing (apply takes the event as it is, and reports a payload that does not decode).
TEST_F(ProjectionTest, ASealedEventOpensToThePayloadItWasBeforeSealing) {
  crm::contact::v1::PersonalData personal;
  personal.set_given_name("Zephyrine");
  personal.set_family_name("Quist");
  personal.add_emails()->set_address("zq@acme.example");
  Contact contact;
  contact.set_id("A");
  contact.set_job_title("Pilot");
  contact.add_tags("vip");
  *contact.mutable_personal() = personal;
  ContactCreated created;
  *created.mutable_contact() = contact;
  ContactUpdated updated;
  updated.set_contact_id("A");
  *updated.mutable_contact() = contact;
  updated.mutable_update_mask()->add_paths("personal");
  ContactsMerged merged;
  merged.set_merged_id("A");
  merged.set_merge_id("m1");
  *merged.mutable_merged() = contact;
  merged.mutable_update_mask()->add_paths("personal.emails");
  auto envelope = [](const google::protobuf::Message& payload) {
    EventEnvelope e;
    e.set_event_id("e1");
    e.set_tenant("t");
    e.set_aggregate_id("A");
    e.set_event_type(payload.GetDescriptor()->full_name());
    e.mutable_payload()->PackFrom(payload);
    return e;
  };
  std::vector<std::unique_ptr<google::protobuf::Message>> clear;
  for (const google::protobuf::Message* m :
       std::initializer_list<const google::protobuf::Message*>{&created, &updated, &merged}) {
    std::unique_ptr<google::protobuf::Message> sealed(m->New());
    sealed->CopyFrom(*m);
    ASSERT_TRUE(keys_->sealer.Seal("t", *sealed).ok());
    const EventEnvelope event = envelope(*sealed);
    ASSERT_EQ(event.payload().value().find("Zephyrine"), std::string::npos);
    absl::StatusOr<std::optional<EventEnvelope>> opened = keys_->sealer.Open(event);
    ASSERT_TRUE(opened.ok()) << opened.status();
    ASSERT_TRUE(opened->has_value()) << m->GetTypeName();
    std::unique_ptr<google::protobuf::Message> back(m->New());
    ASSERT_TRUE((*opened)->payload().UnpackTo(back.get()));
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*back, *m))
        << m->GetTypeName() << ": " << back->ShortDebugString();
    EXPECT_EQ((*opened)->event_id(), "e1");
    EXPECT_EQ((*opened)->payload().type_url(), event.payload().type_url());
    // Nothing sealed (a payload from before sealing): nothing to open.
    EXPECT_FALSE(*keys_->sealer.Open(envelope(*m)));
    // Cut short: nothing opened.
    EventEnvelope cut = event;
    cut.mutable_payload()->mutable_value()->resize(event.payload().value().size() - 5);
    EXPECT_FALSE(*keys_->sealer.Open(cut)) << m->GetTypeName();
    clear.push_back(std::move(sealed));
  }
  // The key destroyed: opens to the payload without personal data.
  ASSERT_TRUE(keys_->vault->Forget("t", "A").ok());
  absl::StatusOr<std::optional<EventEnvelope>> erased = keys_->sealer.Open(envelope(*clear[0]));
  ASSERT_TRUE(erased.ok() && erased->has_value());
  ContactCreated without;
  ASSERT_TRUE((*erased)->payload().UnpackTo(&without));
  ContactCreated expected = created;
  expected.mutable_contact()->clear_personal();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(without, expected))
      << without.ShortDebugString();
}

TEST_F(ProjectionTest, SealedPersonalDataOpensAtApplyAndErasureLeavesNoTrace) {
  auto sealed = [&](auto event) {
    EXPECT_TRUE(keys_->sealer.Seal("t", event).ok());
    return event;
  };
  Contact a;
  a.mutable_personal()->set_given_name("Zephyrine");
  a.mutable_personal()->set_family_name("Quist");
  a.mutable_personal()->add_emails()->set_address("zq@acme.example");
  ContactCreated created_a = sealed(*DecideCreate(a, "A", absl::Now(), Facts{}));
  EXPECT_FALSE(created_a.contact().has_personal());
  EXPECT_EQ(created_a.SerializeAsString().find("Zephyrine"), std::string::npos);
  ASSERT_TRUE(Apply(created_a, "A", 0, 100).ok());
  EXPECT_EQ(projection_->GetContact("t", "A")->value().personal().given_name(), "Zephyrine");

  Contact b;
  b.mutable_personal()->set_family_name("Quist");
  b.mutable_personal()->add_phones()->set_number("+15550001111");
  ASSERT_TRUE(Apply(sealed(*DecideCreate(b, "B", absl::Now(), Facts{})), "B", 0, 110).ok());
  ContactMergedInto into;
  into.set_survivor_id("A");
  into.set_merge_id("m1");
  ASSERT_TRUE(Apply(into, "B", 1, 120).ok());
  ContactsMerged merged;
  merged.set_merged_id("B");
  merged.set_merge_id("m1");
  *merged.mutable_merged() = projection_->GetContact("t", "B")->value();
  merged = sealed(merged);
  EXPECT_FALSE(merged.merged().has_personal());
  ASSERT_TRUE(Apply(merged, "A", 1, 130).ok());
  ASSERT_EQ(projection_->GetContact("t", "A")->value().personal().phones_size(), 1);
  const std::string before = Dump(*store_);
  ASSERT_NE(before.find("Zephyrine"), std::string::npos);  // the check below can see it

  // Not while merged, unless with its survivor: the merged contact first, then the survivor.
  EXPECT_EQ(DecideErase(projection_->GetContact("t", "B").value(), "B").status().code(),
            absl::StatusCode::kFailedPrecondition);
  ContactErased wrong_survivor;
  wrong_survivor.set_survivor_id("C");
  EXPECT_EQ(Apply(wrong_survivor, "B", 2, 135).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(
      Apply(*DecideErase(projection_->GetContact("t", "B").value(), "B", true), "B", 2, 135).ok());
  ASSERT_TRUE(
      Apply(*DecideErase(projection_->GetContact("t", "A").value(), "A"), "A", 2, 140).ok());
  const std::string after = Dump(*store_);
  for (const char* trace : {"Zephyrine", "zephyrine", "Quist", "quist", "zq@acme", "5550001111"}) {
    EXPECT_EQ(after.find(trace), std::string::npos) << trace << " is still in the projection";
  }
  for (const char* id : {"A", "B"}) {
    const Contact gone = projection_->GetContact("t", id)->value();
    EXPECT_TRUE(gone.erased()) << id;
    EXPECT_TRUE(gone.archived()) << id;
    EXPECT_FALSE(gone.has_personal()) << id;
    EXPECT_TRUE(*keys_->vault->Destroyed("t", id)) << id;
  }
  EXPECT_EQ(projection_->GetContact("t", "A")->value().version(), 3);
  // Nothing from before the erasure can be read back through the history or as of a time.
  EXPECT_EQ(projection_->GetContact("t", "A", At(139))->has_value(), false);
  auto history = projection_->History("t", {"A", "B"}, false, 0, 100);
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->items.size(), 2u);
  EXPECT_EQ(history->items[0].event_type(), "crm.contact.v1.ContactErased");
  // Nothing more can be written to it; a second erasure is refused.
  EXPECT_EQ(DecideErase(projection_->GetContact("t", "A").value(), "A").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(keys_->sealer.Seal("t", created_a).code(), absl::StatusCode::kOk);  // nothing to seal
  ContactUpdated late;
  late.set_contact_id("A");
  late.mutable_contact()->mutable_personal()->set_given_name("Again");
  EXPECT_EQ(keys_->sealer.Seal("t", late).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ProjectionTest, HistoryRecordsEveryChangeWithBeforeAndAfter) {
  Contact c;
  c.mutable_personal()->set_given_name("Ada");
  c.mutable_personal()->add_emails()->set_address("ada@example.com");
  ASSERT_TRUE(Apply(*DecideCreate(c, "C1", absl::Now(), Facts{}), "C1", 0, 100).ok());
  Contact values;
  values.set_id("C1");
  values.mutable_personal()->set_given_name("Augusta");
  google::protobuf::FieldMask mask;
  mask.add_paths("personal.given_name");
  auto current = projection_->GetContact("t", "C1");
  ASSERT_TRUE(
      Apply(*DecideUpdate(**current, values, mask, 1, absl::Now(), Facts{}), "C1", 1, 200, "import")
          .ok());
  auto page = projection_->History("t", {"C1"}, /*company=*/false, 0, 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 2u);
  const HistoryEntry& created = page->items[0];
  EXPECT_EQ(created.version(), 1);
  EXPECT_EQ(created.actor(), "tester");
  EXPECT_EQ(created.source(), crm::contact::v1::CHANGE_SOURCE_API);
  // The first change of a record has nothing before it: every field it set is a change.
  const auto given = std::find_if(created.changes().begin(), created.changes().end(),
                                  [](const auto& c) { return c.path() == "personal.given_name"; });
  ASSERT_NE(given, created.changes().end());
  EXPECT_EQ(given->before(), "");
  EXPECT_EQ(given->after(), "\"Ada\"");
  const HistoryEntry& renamed = page->items[1];
  EXPECT_EQ(renamed.source(), crm::contact::v1::CHANGE_SOURCE_IMPORT);
  EXPECT_EQ(renamed.time().seconds(), 200);
  ASSERT_EQ(renamed.changes_size(), 1);
  EXPECT_EQ(renamed.changes(0).path(), "personal.given_name");
  EXPECT_EQ(renamed.changes(0).before(), "\"Ada\"");
  EXPECT_EQ(renamed.changes(0).after(), "\"Augusta\"");
  // Paging: one at a time.
  auto first = projection_->History("t", {"C1"}, /*company=*/false, 0, 1);
  EXPECT_EQ(first->items.size(), 1u);
  EXPECT_EQ(first->resume_after, "1");
  auto second = projection_->History("t", {"C1"}, /*company=*/false, 1, 1);
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_EQ(second->items[0].version(), 2);
  // A page's first entry still compares with the state before it, on the previous page.
  ASSERT_EQ(second->items[0].changes_size(), 1);
  EXPECT_EQ(second->items[0].changes(0).before(), "\"Ada\"");
  EXPECT_TRUE(second->resume_after.empty());
}

TEST_F(ProjectionTest, DiffListsOnlyChangedFields) {
  Contact before, after;
  before.mutable_personal()->set_given_name("A");
  before.add_tags("x");
  after = before;
  after.add_tags("y");
  (*after.mutable_attributes())["b"] = "2";
  (*after.mutable_attributes())["a"] = "1";
  const auto changes = Diff(&before, after);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].path(), "tags");
  EXPECT_EQ(changes[0].before(), "[\"x\"]");
  EXPECT_EQ(changes[0].after(), "[\"x\",\"y\"]");
  EXPECT_EQ(changes[1].path(), "attributes");
  EXPECT_EQ(changes[1].before(), "");
  EXPECT_EQ(changes[1].after(), "{\"a\":\"1\",\"b\":\"2\"}");  // Deterministic key order.
}

// A one-word query is ranked from the index; the scores and order must be those of scoring each
// contact's own terms (exact name 4, name prefix 3, exact other 2, other prefix 1) and its
// companies' names (2 exact, 1 prefix), best first, ties by id.
TEST_F(ProjectionTest, OneWordSearchRanksFromTheIndexAsAFullScoreWould) {
  CreateCompany("K1", "Rock Labs");
  CreateCompany("K2", "Rocket Works");
  CreateCompany("K3", "Other");
  auto create = [&](const std::string& id, const std::string& given, const std::string& family,
                    const std::string& email, const std::string& company) {
    Contact c;
    c.mutable_personal()->set_given_name(given);
    c.mutable_personal()->set_family_name(family);
    if (!email.empty()) c.mutable_personal()->add_emails()->set_address(email);
    if (!company.empty()) c.add_affiliations()->set_company_id(company);
    ASSERT_TRUE(Apply(*DecideCreate(c, id, absl::Now(), AnyCompany()), id, 0, 100).ok());
  };
  create("A", "Rocky", "Balboa", "", "");                   // name prefix: 3
  create("B", "Rock", "Hudson", "", "");                    // exact name: 4
  create("C", "Ann", "Lee", "rock@example.com", "");        // exact email word: 2
  create("D", "Bob", "Ray", "", "K1");                      // exact company word: 2
  create("E", "Cy", "Day", "rocketeer@example.com", "K2");  // prefixes: 1
  create("F", "Rock", "Gone", "", "");                      // archived below
  create("G", "Dee", "Roe", "", "K3");                      // no match
  ASSERT_TRUE(Apply(*DecideArchive(*projection_->GetContact("t", "F"), "F", 1), "F", 1, 200).ok());

  auto hits = projection_->SearchContacts("t", QueryWords("ROCK"), false, 100);
  ASSERT_TRUE(hits.ok()) << hits.status();
  std::vector<std::pair<std::string, double>> got;
  for (const auto& h : *hits) got.emplace_back(h.record.id(), h.score);
  EXPECT_EQ(got, (std::vector<std::pair<std::string, double>>{
                     {"B", 4}, {"A", 3}, {"C", 2}, {"D", 2}, {"E", 1}}));
  // The archived contact only when asked for, in its place.
  hits = projection_->SearchContacts("t", QueryWords("rock"), true, 100);
  ASSERT_EQ(hits->size(), 6u);
  EXPECT_EQ((*hits)[1].record.id(), "F");
  // A limit returns the best ones only.
  hits = projection_->SearchContacts("t", QueryWords("rock"), false, 100, 2);
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_EQ((*hits)[1].record.id(), "A");
  // Two words still need both.
  hits = projection_->SearchContacts("t", QueryWords("rock hud"), false, 100);
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].record.id(), "B");
}

TEST_F(ProjectionTest, AffiliationsListAndSearchByCompany) {
  CreateCompany("ACME", "Acme Rockets");
  CreateCompany("BETA", "Beta Labs");
  Contact c;
  c.mutable_personal()->set_given_name("Wile");
  c.add_affiliations()->set_company_id("ACME");
  ASSERT_TRUE(Apply(*DecideCreate(c, "C1", absl::Now(), AnyCompany()), "C1", 0, 100).ok());
  Contact d;
  d.mutable_personal()->set_given_name("Road");
  d.add_affiliations()->set_company_id("BETA");
  ASSERT_TRUE(Apply(*DecideCreate(d, "C2", absl::Now(), AnyCompany()), "C2", 0, 100).ok());

  ListFilter by_acme;
  by_acme.company_id = "ACME";
  auto page = projection_->ListContacts("t", by_acme, "", 10, 100);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].id(), "C1");

  auto hits = projection_->SearchContacts("t", QueryWords("rocket"), false, 100);
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].record.id(), "C1");
  hits = projection_->SearchContacts("t", QueryWords("road beta"), false, 100);
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].record.id(), "C2");

  // Moving the contact to another company moves it in the index.
  Contact values;
  values.set_id("C1");
  values.add_affiliations()->set_company_id("BETA");
  google::protobuf::FieldMask mask;
  mask.add_paths("affiliations");
  auto current = projection_->GetContact("t", "C1");
  ASSERT_TRUE(
      Apply(*DecideUpdate(**current, values, mask, 1, absl::Now(), AnyCompany()), "C1", 1, 200)
          .ok());
  EXPECT_TRUE(projection_->ListContacts("t", by_acme, "", 10, 100)->items.empty());
}

TEST_F(ProjectionTest, RelationshipsAreListedInBothDirections) {
  CreateCompany("ACME", "Acme");
  CreateCompany("BETA", "Beta");
  CompanyRelationshipAdded added;
  added.mutable_relationship()->set_related_company_id("BETA");
  added.mutable_relationship()->set_type(crm::contact::v1::RELATIONSHIP_TYPE_RESELLER);
  ASSERT_TRUE(Apply(added, "ACME", 1, 100).ok());
  auto incoming = projection_->IncomingRelationships("t", "BETA");
  ASSERT_EQ(incoming->size(), 1u);
  EXPECT_EQ((*incoming)[0].company_id(), "ACME");
  EXPECT_EQ((*incoming)[0].type(), crm::contact::v1::RELATIONSHIP_TYPE_RESELLER);
  CompanyRelationshipRemoved removed;
  *removed.mutable_relationship() = added.relationship();
  ASSERT_TRUE(Apply(removed, "ACME", 2, 200).ok());
  EXPECT_TRUE(projection_->IncomingRelationships("t", "BETA")->empty());
}

TEST_F(ProjectionTest, CompanySearchMatchesNameAndDomain) {
  Company c;
  c.set_name("Globex Corporation");
  c.set_domain("globex.example");
  ASSERT_TRUE(Apply(*DecideCreateCompany(c, "G1"), "G1", 0, 10).ok());
  EXPECT_EQ(projection_->SearchCompanies("t", QueryWords("glob corp"), false, 10)->size(), 1u);
  EXPECT_EQ(projection_->SearchCompanies("t", QueryWords("example"), false, 10)->size(), 1u);
  EXPECT_TRUE(projection_->SearchCompanies("t", QueryWords("initech"), false, 10)->empty());
}

}  // namespace
}  // namespace crm::contact

namespace crm::contact {
namespace {

Contact Person(const std::string& given, const std::string& family, const std::string& email) {
  Contact c;
  c.mutable_personal()->set_given_name(given);
  c.mutable_personal()->set_family_name(family);
  if (!email.empty()) c.mutable_personal()->add_emails()->set_address(email);
  return c;
}

// Per-aggregate event lists: the order within one list is fixed (one partition), the
// interleaving between lists is free.
// Builds such lists: each created contact starts a list; later events of it join that list.
struct Scenario {
  std::vector<std::vector<EventEnvelope>> lists;
  int n = 0;

  void Create(const std::string& id, const Contact& c) {
    const int k = n++;
    lists.push_back({crm::testing::MakeTestEvent(*DecideCreate(c, id, absl::Now(), Facts{}), id, 0,
                                                 100 + k, "ev" + std::to_string(k))});
  }
  // Event `payload` of the contact whose list is `list`, at `expected` version.
  void Then(size_t list, const google::protobuf::Message& payload, const std::string& id,
            int64_t expected, int64_t seconds) {
    lists[list].push_back(
        crm::testing::MakeTestEvent(payload, id, expected, seconds, "ev" + std::to_string(n++)));
  }
};

std::vector<std::vector<EventEnvelope>> DuplicateScenario() {
  Scenario s;
  s.Create("A", Person("John", "Smith", "john@x.io"));
  s.Create("B", Person("Jon", "Smith", ""));
  s.Create("C", Person("Johnny", "Smiht", "j.smith@y.io"));
  s.Create("D", Person("Ann", "Lee", "john@x.io"));
  s.Create("E", Person("Zed", "Zulu", ""));
  // B changes its email to C's; D is archived.
  ContactUpdated b_update;
  b_update.set_contact_id("B");
  b_update.mutable_contact()->mutable_personal()->add_emails()->set_address("j.smith@y.io");
  b_update.mutable_update_mask()->add_paths("personal.emails");
  s.Then(1, b_update, "B", 1, 500);
  ContactArchived d_archive;
  d_archive.set_contact_id("D");
  s.Then(3, d_archive, "D", 1, 600);
  return s.lists;
}

std::string ApplyInterleaved(const std::string& dir, std::vector<std::vector<EventEnvelope>> lists,
                             unsigned seed) {
  auto store = std::move(*store::ProjectionStore::Open(dir));
  TestKeys keys(dir + "-keys");
  ContactProjection projection(store.get(), &keys.sealer);
  std::mt19937 rng(seed);
  std::vector<size_t> next(lists.size(), 0);
  for (;;) {
    std::vector<size_t> ready;
    for (size_t i = 0; i < lists.size(); ++i) {
      if (next[i] < lists[i].size()) ready.push_back(i);
    }
    if (ready.empty()) break;
    const size_t pick = ready[rng() % ready.size()];
    auto batch = store->NewBatch();
    EXPECT_TRUE(projection.Apply(lists[pick][next[pick]++], batch).ok());
    EXPECT_TRUE(store->Commit(batch).ok());
  }
  return *store->Latest().Checksum();
}

TEST(DuplicatePairsInTheProjection, DoNotDependOnHowPartitionsInterleave) {
  testing::TempDir dir;
  const std::string first = ApplyInterleaved(dir.Sub("0"), DuplicateScenario(), 0);
  for (unsigned seed = 1; seed <= 10; ++seed) {
    EXPECT_EQ(ApplyInterleaved(dir.Sub(std::to_string(seed)), DuplicateScenario(), seed), first)
        << "seed " << seed;
  }
}

TEST(DuplicatePairsInTheProjection, FollowChangesAndArchiving) {
  testing::TempDir dir;
  auto store = std::move(*store::ProjectionStore::Open(dir.Sub("p")));
  TestKeys keys(dir.Sub("keys"));
  ContactProjection projection(store.get(), &keys.sealer);
  for (const auto& list : DuplicateScenario()) {
    for (const auto& e : list) {
      auto batch = store->NewBatch();
      ASSERT_TRUE(projection.Apply(e, batch).ok());
      ASSERT_TRUE(store->Commit(batch).ok());
    }
  }
  auto of_a = *projection.DuplicatesOf("t", "A");
  std::set<std::string> others;
  for (const auto& p : of_a) others.insert(p.other_contact_id());
  // D shared A's email but is archived; B and C have similar names.
  EXPECT_EQ(others, (std::set<std::string>{"B", "C"}));
  auto of_b = *projection.DuplicatesOf("t", "B");
  ASSERT_FALSE(of_b.empty());
  EXPECT_EQ(of_b[0].other_contact_id(), "C");  // Same email now: the best match.
  EXPECT_TRUE(projection.DuplicatesOf("t", "E")->empty());
  EXPECT_TRUE(projection.DuplicatesOf("t", "D")->empty());

  auto page = *projection.DuplicatePairs("t", "", 0.5, 2);
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_GE(page.items[0].score(), page.items[1].score());
  ASSERT_FALSE(page.resume_after.empty());
  auto rest = *projection.DuplicatePairs("t", page.resume_after, 0.5, 10);
  EXPECT_EQ(page.items.size() + rest.items.size(), 3u);  // A-B, A-C, B-C.
  EXPECT_TRUE(rest.resume_after.empty());
  EXPECT_TRUE(projection.DuplicatePairs("t", "", 0.99, 10)->items.empty());
}

// A, B ("Maria Garcia" twice) and C ("Marie Garcia") share the name blocks "n:gar|m" and
// "n:mar|g" with `fillers` others ("Mar??? Gar???", alike to no one); A and B also share their
// exact full name. `archive` fillers are archived afterwards.
std::vector<std::vector<EventEnvelope>> CommonNameScenario(int fillers, int archive) {
  Scenario s;
  s.Create("A", Person("Maria", "Garcia", ""));
  s.Create("B", Person("Maria", "Garcia", ""));
  s.Create("C", Person("Marie", "Garcia", ""));
  for (int i = 0; i < fillers; ++i) {
    std::string a = "Mar", b = "Gar";
    for (int x = i * 7919 + 13, d = 0; d < 3; ++d, x /= 26)
      a.push_back(static_cast<char>('a' + x % 26));
    for (int x = i * 104729 + 5, d = 0; d < 3; ++d, x /= 26)
      b.push_back(static_cast<char>('k' + x % 16));
    s.Create("F" + std::to_string(1000 + i), Person(a, b, ""));
  }
  for (int i = 0; i < archive; ++i) {
    ContactArchived archived;
    archived.set_contact_id("F" + std::to_string(1000 + i));
    s.Then(3 + static_cast<size_t>(i), archived, archived.contact_id(), 1, 900);
  }
  return s.lists;
}

std::set<std::string> PairedWith(const ContactProjection& projection, const std::string& id) {
  const auto pairs = projection.DuplicatesOf("t", id);
  EXPECT_TRUE(pairs.ok()) << pairs.status();
  std::set<std::string> out;
  if (pairs.ok()) {
    for (const auto& p : *pairs) out.insert(p.other_contact_id());
  }
  return out;
}

// The duplicate blocks that keep a member count ("z/"): only those over the limit.
// Blocks keeping a member count: the keys that are a block's prefix itself (members add an id).
int CountedBlocks(const store::ProjectionStore& store) {
  int n = 0;
  EXPECT_TRUE(store
                  .Scan(store::Cf::kIndex, store::KindPrefix('x', "t"), "",
                        [&](std::string_view key, std::string_view) {
                          n += key.ends_with(std::string_view("\0", 1)) ? 1 : 0;
                          return true;
                        })
                  .ok());
  return n;
}

// A contact looked up by an email or a phone many contacts share is the first of them, however
// many: past the limit the block keeps its count at its head, which the lookup steps over.
TEST(DuplicatePairsInTheProjection, AnEmailSharedPastTheLimitStillFindsItsFirstContact) {
  testing::TempDir dir;
  auto store = std::move(*store::ProjectionStore::Open(dir.Sub("p")));
  TestKeys keys(dir.Sub("keys"));
  ContactProjection projection(store.get(), &keys.sealer);
  Scenario s;
  for (int i = 0; i <= static_cast<int>(kMaxDuplicateBlock); ++i) {
    Contact c = Person("Given" + std::string(1, static_cast<char>('a' + i % 26)),
                       "Family" + std::to_string(i), "shared@example.com");
    c.mutable_personal()->add_phones()->set_number("+14155550100");
    s.Create("F" + std::to_string(1000 + i), c);
  }
  for (const auto& list : s.lists) {
    auto batch = store->NewBatch();
    ASSERT_TRUE(projection.Apply(list[0], batch).ok());
    ASSERT_TRUE(store->Commit(batch).ok());
  }
  EXPECT_GE(CountedBlocks(*store), 2);  // the email's and the phone's blocks keep a count
  const auto by_email = projection.FindByEmail("t", "shared@example.com");
  ASSERT_TRUE(by_email.ok()) << by_email.status();
  ASSERT_TRUE(by_email->has_value());
  EXPECT_EQ((*by_email)->id(), "F1000");
  const auto by_phone = projection.FindByPhone("t", "+14155550100");
  ASSERT_TRUE(by_phone.ok() && by_phone->has_value());
  EXPECT_EQ((*by_phone)->id(), "F1000");
  EXPECT_FALSE(projection.FindByEmail("t", "other@example.com")->has_value());
}

// A contact projection on a store of its own, each event applied in a batch of its own.
struct ProjectionOnAStore {
  explicit ProjectionOnAStore(const testing::TempDir& dir)
      : store(std::move(*store::ProjectionStore::Open(dir.Sub("p")))),
        keys(dir.Sub("keys")),
        projection(store.get(), &keys.sealer) {}
  void Apply(const EventEnvelope& e) {
    auto batch = store->NewBatch();
    EXPECT_TRUE(projection.Apply(e, batch).ok());
    EXPECT_TRUE(store->Commit(batch).ok());
  }
  std::unique_ptr<store::ProjectionStore> store;
  TestKeys keys;
  ContactProjection projection;
};

TEST(DuplicatePairsInTheProjection, ABlockTooCommonToBeEvidencePairsNoOneUntilItShrinks) {
  testing::TempDir dir;
  ProjectionOnAStore on(dir);
  const auto lists = CommonNameScenario(static_cast<int>(kMaxDuplicateBlock) - 2, 1);
  for (size_t i = 0; i + 1 < lists.size(); ++i) on.Apply(lists[i][0]);
  // The name blocks hold kMaxDuplicateBlock - 1 contacts: the similar names pair.
  EXPECT_EQ(PairedWith(on.projection, "C"), (std::set<std::string>{"A", "B"}));
  EXPECT_EQ(CountedBlocks(*on.store), 0);  // every block within the limit: none keeps a count
  EXPECT_EQ(PairedWith(on.projection, "A"), (std::set<std::string>{"B", "C"}));
  // One more makes them too common: only the exact full name still pairs A and B.
  on.Apply(lists.back()[0]);
  EXPECT_TRUE(PairedWith(on.projection, "C").empty());
  EXPECT_EQ(PairedWith(on.projection, "A"), (std::set<std::string>{"B"}));
  EXPECT_EQ(PairedWith(on.projection, "B"), (std::set<std::string>{"A"}));
  EXPECT_EQ(on.projection.DuplicatePairs("t", "", 0.5, 100)->items.size(), 1u);
  // One archived: back to the limit, and the pairs come back.
  on.Apply(lists[3][1]);
  EXPECT_EQ(PairedWith(on.projection, "C"), (std::set<std::string>{"A", "B"}));
  EXPECT_EQ(on.projection.DuplicatePairs("t", "", 0.5, 100)->items.size(), 3u);
}

TEST(DuplicatePairsInTheProjection, ABlockFarOverTheLimitPairsAgainWhenItShrinksToIt) {
  testing::TempDir dir;
  ProjectionOnAStore on(dir);
  // The name blocks grow to kMaxDuplicateBlock + 11 (their count kept, their members no longer
  // read), then shrink one archived filler at a time.
  const int over = 11;
  const auto lists = CommonNameScenario(static_cast<int>(kMaxDuplicateBlock) - 3 + over, over);
  for (const auto& list : lists) on.Apply(list[0]);
  EXPECT_TRUE(PairedWith(on.projection, "C").empty());
  EXPECT_EQ(CountedBlocks(*on.store), 2);  // the two name blocks over the limit
  for (int i = 0; i + 1 < over; ++i) on.Apply(lists[3 + static_cast<size_t>(i)][1]);
  EXPECT_TRUE(PairedWith(on.projection, "C").empty());  // still one over
  EXPECT_EQ(CountedBlocks(*on.store), 2);
  on.Apply(lists[3 + over - 1][1]);
  EXPECT_EQ(CountedBlocks(*on.store), 0);
  EXPECT_EQ(PairedWith(on.projection, "C"), (std::set<std::string>{"A", "B"}));
  EXPECT_EQ(PairedWith(on.projection, "A"), (std::set<std::string>{"B", "C"}));
}

TEST(DuplicatePairsInTheProjection, ABlockCrossingTheLimitDoesNotDependOnTheOrder) {
  testing::TempDir dir;
  const int fillers = static_cast<int>(kMaxDuplicateBlock) - 1;
  const std::string first = ApplyInterleaved(dir.Sub("0"), CommonNameScenario(fillers, 2), 0);
  for (unsigned seed = 1; seed <= 4; ++seed) {
    EXPECT_EQ(ApplyInterleaved(dir.Sub(std::to_string(seed)), CommonNameScenario(fillers, 2), seed),
              first)
        << "seed " << seed;
  }
}

// Applies the lists' events, interleaved by `seed`, `per_batch` to a batch. `fresh`: a new
// projection for each event, which keeps nothing in memory from one event to the next (every
// duplicate block read from the batch and the store); otherwise one projection for all of them.
std::string ApplyInBatches(const std::string& dir, std::vector<std::vector<EventEnvelope>> lists,
                           unsigned seed, size_t per_batch, bool fresh) {
  auto store = std::move(*store::ProjectionStore::Open(dir));
  TestKeys keys(dir + "-keys");
  auto projection = std::make_unique<ContactProjection>(store.get(), &keys.sealer);
  std::mt19937 rng(seed);
  std::vector<size_t> next(lists.size(), 0);
  for (bool more = true; more;) {
    auto batch = store->NewBatch();
    for (size_t n = 0; n < per_batch; ++n) {
      std::vector<size_t> ready;
      for (size_t i = 0; i < lists.size(); ++i) {
        if (next[i] < lists[i].size()) ready.push_back(i);
      }
      more = !ready.empty();
      if (!more) break;
      const size_t pick = ready[rng() % ready.size()];
      if (fresh) projection = std::make_unique<ContactProjection>(store.get(), &keys.sealer);
      EXPECT_TRUE(projection->Apply(lists[pick][next[pick]++], batch).ok());
    }
    EXPECT_TRUE(store->Commit(batch).ok());
  }
  return *store->Latest().Checksum();
}

TEST(DuplicatePairsInTheProjection, BlocksKeptInMemoryGiveWhatReadingThemAgainGives) {
  testing::TempDir dir;
  const int fillers = static_cast<int>(kMaxDuplicateBlock) - 1;
  // Blocks joined, left (archived), re-signed (an email changed), and crossing the limit both
  // ways, several events to a batch and one.
  int run = 0;
  for (const auto& lists : {DuplicateScenario(), CommonNameScenario(fillers, 2)}) {
    for (size_t per_batch : {size_t{1}, size_t{7}}) {
      for (unsigned seed : {1u, 2u}) {
        const std::string name = std::to_string(run++);
        EXPECT_EQ(ApplyInBatches(dir.Sub("kept" + name), lists, seed, per_batch, false),
                  ApplyInBatches(dir.Sub("read" + name), lists, seed, per_batch, true))
            << "run " << name << ", " << per_batch << " events a batch, seed " << seed;
      }
    }
  }
}

// A's full-name block is written unread while the name blocks are small; once the fillers take
// them past the limit, a second Maria Garcia is paired through it with A — with the blocks kept
// in memory as when every block is read again (the name blocks passing the limit end the
// memory's knowing every block).
TEST(DuplicatePairsInTheProjection, TheFullNameStillPairsOnceTheNameBlocksPassTheLimit) {
  Scenario s;
  s.Create("A", Person("Maria", "Garcia", ""));
  for (const auto& list : CommonNameScenario(static_cast<int>(kMaxDuplicateBlock), 0)) {
    if (list[0].aggregate_id().starts_with("F")) s.lists.push_back(list);
  }
  s.Create("Z", Person("Maria", "Garcia", ""));
  // One partition: A first, the fillers, Z last.
  std::vector<EventEnvelope> in_order;
  for (const auto& list : s.lists) in_order.push_back(list[0]);
  testing::TempDir dir;
  for (size_t per_batch : {size_t{1}, size_t{7}}) {
    const std::string name = std::to_string(per_batch);
    EXPECT_EQ(ApplyInBatches(dir.Sub("kept" + name), {in_order}, 0, per_batch, false),
              ApplyInBatches(dir.Sub("read" + name), {in_order}, 0, per_batch, true))
        << per_batch << " events a batch";
  }
  ProjectionOnAStore on(dir);
  for (const EventEnvelope& e : in_order) on.Apply(e);
  EXPECT_EQ(PairedWith(on.projection, "Z"), (std::set<std::string>{"A"}));
}

TEST(DuplicatePairsInTheProjection, ARebuildForgetsTheBlocksKeptFromBeforeIt) {
  testing::TempDir dir;
  ProjectionOnAStore on(dir);
  for (const auto& list : DuplicateScenario()) {
    for (const EventEnvelope& e : list) on.Apply(e);
  }
  EXPECT_EQ(PairedWith(on.projection, "A"), (std::set<std::string>{"B", "C"}));
  ASSERT_TRUE(on.store->Clear("rebuilding", "1").ok());
  // John Smith again, with A's email: nobody else is in the emptied store.
  on.Apply(crm::testing::MakeTestEvent(
      *DecideCreate(Person("John", "Smith", "john@x.io"), "Z", absl::Now(), Facts{}), "Z", 0, 2000,
      "z1"));
  EXPECT_TRUE(PairedWith(on.projection, "Z").empty());
}

TEST(DuplicateBlockCache, HoldsBlocksAsTheirWritesLeaveThem) {
  DuplicateBlockCache cache;
  EXPECT_TRUE(cache.Follow(0));  // the first call: a store not seen before
  const std::string block("x/t\0n:smi|j\0", 12);
  EXPECT_EQ(cache.Find(block), nullptr);
  cache.Keep(block, {{"b", "sig-b"}, {"d", "sig-d"}});
  cache.Put(block, "c", "sig-c");  // joins, in id order
  cache.Put(block, "a", "sig-a");
  cache.Put(block, "d", "sig-d2");  // re-signed
  cache.Erase(block, "b");          // leaves
  cache.Erase(block, "zz");         // was never in it
  cache.Put("other", "a", "s");     // a block not held stays not held
  ASSERT_NE(cache.Find(block), nullptr);
  EXPECT_EQ(*cache.Find(block), (std::vector<DuplicateBlockCache::Member>{
                                    {"a", "sig-a"}, {"c", "sig-c"}, {"d", "sig-d2"}}));
  EXPECT_EQ(cache.Find("other"), nullptr);
  EXPECT_EQ(cache.blocks(), 1u);
  cache.Drop(block);  // passed the limit
  EXPECT_EQ(cache.Find(block), nullptr);
  EXPECT_EQ(cache.bytes(), 0u);

  cache.Keep(block, {{"a", "s"}});
  EXPECT_FALSE(cache.Follow(0));  // the store was not emptied
  EXPECT_NE(cache.Find(block), nullptr);
  EXPECT_TRUE(cache.Follow(1));  // it was
  EXPECT_EQ(cache.Find(block), nullptr);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(DuplicateBlockCache, IsCompleteUntilABlockPassesTheLimitOrItOverflowsOrTheStoreIsEmptied) {
  DuplicateBlockCache cache;
  cache.Follow(0);
  EXPECT_FALSE(cache.complete());
  cache.SetComplete();
  cache.Keep("a", {});
  cache.Put("a", "c1", "s");
  EXPECT_TRUE(cache.complete());
  cache.Drop("a");  // passed the limit: not empty, and not held
  EXPECT_FALSE(cache.complete());

  cache.SetComplete();
  cache.Keep("big", {{"a", std::string(DuplicateBlockCache::kBytes / 2 + 1, 's')}});
  EXPECT_TRUE(cache.complete());
  cache.Keep("bigger", {{"b", std::string(DuplicateBlockCache::kBytes / 2 + 1, 's')}});
  EXPECT_FALSE(cache.complete());  // "big" went to make room: it is no longer known

  cache.SetComplete();
  cache.Follow(1);
  EXPECT_FALSE(cache.complete());
}

TEST(DuplicateBlockCache, StaysWithinItsBytes) {
  DuplicateBlockCache cache;
  const std::string big(DuplicateBlockCache::kBytes / 2 + 1, 's');
  cache.Keep("first", {{"a", big}});
  EXPECT_NE(cache.Find("first"), nullptr);
  cache.Keep("second", {{"b", big}});  // both would not fit: emptied first
  EXPECT_EQ(cache.Find("first"), nullptr);
  ASSERT_NE(cache.Find("second"), nullptr);
  EXPECT_EQ(cache.blocks(), 1u);
  EXPECT_LE(cache.bytes(), DuplicateBlockCache::kBytes);
  cache.Keep("huge", {{"c", std::string(DuplicateBlockCache::kBytes, 's')}});  // never fits
  EXPECT_EQ(cache.Find("huge"), nullptr);
  EXPECT_LE(cache.bytes(), DuplicateBlockCache::kBytes);
}

}  // namespace
}  // namespace crm::contact

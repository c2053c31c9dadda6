#include "services/contact/domain/quality.h"

#include <gtest/gtest.h>

#include "common/store/projection_store.h"
#include "services/contact/domain/decide.h"
#include "services/contact/projection/contact_projection.h"
#include "tests/testing/testing.h"
#include "tests/unit/services/contact/test_keys.h"

namespace crm::contact {
namespace {

namespace v1 = crm::contact::v1;

Contact Full() {
  Contact c;
  c.mutable_personal()->set_given_name("Ada");
  c.mutable_personal()->add_emails()->set_address("ada@x.io");
  c.add_consents()->set_channel(v1::CONSENT_CHANNEL_EMAIL);
  c.set_owner("sam");
  return c;
}

google::protobuf::Timestamp Days(int64_t days) {
  google::protobuf::Timestamp t;
  t.set_seconds(days * 86400);
  return t;
}

TEST(Quality, CompleteContactScoresFullAndFreshIsNotStale) {
  const DataQuality q =
      Assess(ContactChecks(Full()), DefaultRules(), Days(100), absl::FromUnixSeconds(110 * 86400));
  EXPECT_EQ(q.completeness(), 100);
  EXPECT_TRUE(q.issues().empty());
  EXPECT_FALSE(q.stale());
}

TEST(Quality, MissingFactsAreNamedAndWeighed) {
  Contact c = Full();
  c.clear_owner();
  c.mutable_personal()->clear_emails();
  c.set_job_title("Buyer");  // B2B: now a company is expected too.
  const DataQuality q = Assess(ContactChecks(c), DefaultRules(), Days(0), absl::FromUnixSeconds(0));
  // Weights: name 3, reachable 3, consent 2, owner 1, company 1 (address 0): met 5 of 10.
  EXPECT_EQ(q.completeness(), 50);
  std::set<int> checks;
  for (const auto& i : q.issues()) checks.insert(i.check());
  EXPECT_EQ(checks, (std::set<int>{v1::QUALITY_CHECK_REACHABLE, v1::QUALITY_CHECK_OWNER,
                                   v1::QUALITY_CHECK_COMPANY}));
}

TEST(Quality, RulesChangeWeightsAndStaleness) {
  DataQualityRules rules;
  auto* w = rules.add_weights();
  w->set_check(v1::QUALITY_CHECK_CONSENT);
  w->set_weight(0);
  rules.set_stale_after_days(30);
  Contact c = Full();
  c.clear_consents();
  const DataQuality q = Assess(ContactChecks(c), rules, Days(0), absl::FromUnixSeconds(31 * 86400));
  EXPECT_EQ(q.completeness(), 100);  // Consent no longer expected.
  EXPECT_TRUE(q.stale());
  ASSERT_EQ(q.issues_size(), 1);
  EXPECT_NE(q.issues(0).message().find("stale"), std::string::npos);
}

TEST(Quality, CompanyChecks) {
  Company c;
  c.set_name("Acme");
  const DataQuality q = Assess(CompanyChecks(c), DefaultRules(), Days(0), absl::FromUnixSeconds(0));
  EXPECT_EQ(q.completeness(), 0);  // Domain 2, industry 1, owner 1 all missing.
  c.set_domain("acme.example");
  EXPECT_EQ(Completeness(CompanyChecks(c), DefaultRules()), 50);
}

TEST(IncompleteContacts, WorstFirstPagedAndFollowingTheRules) {
  testing::TempDir dir;
  auto store = std::move(*store::ProjectionStore::Open(dir.Sub("p")));
  TestKeys keys(dir.Sub("keys"));
  ContactProjection projection(store.get(), &keys.sealer);
  int n = 0;
  auto create = [&](const std::string& id, Contact c) {
    crm::common::v1::EventEnvelope e;
    e.set_event_id("e" + std::to_string(++n));
    e.set_tenant("t");
    e.set_aggregate_id(id);
    e.set_aggregate_version(1);
    e.set_event_type("crm.contact.v1.ContactCreated");
    e.mutable_payload()->PackFrom(*DecideCreate(c, id, absl::Now(), Facts{}));
    auto batch = store->NewBatch();
    ASSERT_TRUE(projection.Apply(e, batch).ok());
    ASSERT_TRUE(store->Commit(batch).ok());
  };
  create("FULL", Full());
  Contact no_owner = Full();
  no_owner.clear_owner();
  create("NOOWNER", no_owner);
  Contact bare;
  bare.mutable_personal()->set_given_name("Bare");
  create("BARE", bare);
  Contact bare2 = bare;
  create("BARE2", bare2);

  auto all = *projection.IncompleteContacts("t", DefaultRules(), 100, "", 10);
  ASSERT_EQ(all.items.size(), 3u);
  EXPECT_EQ(all.items[0].id(), "BARE");
  EXPECT_EQ(all.items[1].id(), "BARE2");
  EXPECT_EQ(all.items[2].id(), "NOOWNER");

  auto first = *projection.IncompleteContacts("t", DefaultRules(), 100, "", 1);
  ASSERT_EQ(first.items.size(), 1u);
  std::vector<std::string> paged = {first.items[0].id()};
  std::string resume = first.resume_after;
  for (int i = 0; i < 5 && !resume.empty(); ++i) {
    auto next = *projection.IncompleteContacts("t", DefaultRules(), 100, resume, 1);
    for (const auto& c : next.items) paged.push_back(c.id());
    resume = next.resume_after;
  }
  EXPECT_EQ(paged, (std::vector<std::string>{"BARE", "BARE2", "NOOWNER"}));

  // If owners do not matter, NOOWNER is complete; reachability weighs most: BARE stays worst.
  DataQualityRules rules = DefaultRules();
  for (auto& w : *rules.mutable_weights()) {
    if (w.check() == v1::QUALITY_CHECK_OWNER) w.set_weight(0);
  }
  auto relaxed = *projection.IncompleteContacts("t", rules, 100, "", 10);
  EXPECT_EQ(relaxed.items.size(), 2u);
  EXPECT_TRUE(projection.IncompleteContacts("t", DefaultRules(), 10, "", 10)->items.empty());
}

}  // namespace
}  // namespace crm::contact

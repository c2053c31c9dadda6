// Automation's pure part and its projection: which events match which triggers, what a run is
// planned to do, and how the rule projection keeps rules, runs and the outbox of pending runs
// (on a real RocksDB).
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "common/projection/aggregate.h"
#include "common/store/projection_store.h"
#include "crm/analytics/v1/events.pb.h"
#include "crm/sales/v1/events.pb.h"
#include "services/analytics/automation/actions.h"
#include "services/analytics/automation/campaigns.h"
#include "services/analytics/automation/messages.h"
#include "services/analytics/automation/rule_projection.h"
#include "services/analytics/automation/segment_triggers.h"
#include "services/analytics/automation/time_triggers.h"
#include "services/analytics/automation/triggers.h"
#include "services/analytics/domain/metrics.h"
#include "tests/testing/testing.h"

namespace crm::analytics::automation {
namespace {

namespace av1 = crm::analytics::v1;
namespace sv1 = crm::sales::v1;
using crm::common::v1::EventEnvelope;

EventEnvelope Event(const std::string& id, const std::string& aggregate,
                    const google::protobuf::Message& payload, int64_t expected_version = 0) {
  EventEnvelope e;
  e.set_event_id(id);
  e.set_tenant("t");
  e.set_aggregate_id(aggregate);
  e.set_event_type(payload.GetDescriptor()->full_name());
  e.set_expected_version(expected_version);
  e.set_aggregate_version(expected_version + 1);
  e.mutable_occurred_at()->set_seconds(1700000000);
  e.mutable_payload()->PackFrom(payload);
  return e;
}

EventEnvelope Order(const std::string& id, const std::string& contact,
                    const std::vector<std::string>& products, int64_t total_cents) {
  sv1::OrderPlaced placed;
  sv1::Order& o = *placed.mutable_order();
  o.set_id(id);
  o.set_contact_id(contact);
  for (const std::string& p : products) o.add_line_items()->set_product_id(p);
  o.mutable_total()->set_currency_code("EUR");
  o.mutable_total()->set_minor_units(total_cents);
  return Event("E-" + id, id, placed);
}

Facts TestFacts() {
  Facts facts;
  facts.category_of = [](const std::string&, const std::string& p) {
    return p == "P-boots" ? std::string("Footwear") : std::string();
  };
  facts.deal = [](const std::string&, const std::string& id) -> std::optional<sv1::Deal> {
    if (id != "D1") return std::nullopt;
    sv1::Deal d;
    d.set_contact_id("C9");
    d.set_owner("dana");
    return d;
  };
  facts.owner_of = [](const std::string&, const std::string& c) {
    return c == "C1" ? std::string("olga") : std::string();
  };
  return facts;
}

av1::RuleTrigger OrderTrigger(std::vector<std::string> products,
                              std::vector<std::string> categories, int64_t min_cents = -1) {
  av1::RuleTrigger t;
  av1::OrderPlacedTrigger& o = *t.mutable_order_placed();
  for (auto& p : products) o.add_product_ids(p);
  for (auto& c : categories) o.add_categories(c);
  if (min_cents >= 0) {
    o.mutable_min_total()->set_currency_code("EUR");
    o.mutable_min_total()->set_minor_units(min_cents);
  }
  return t;
}

bool Matches(const av1::RuleTrigger& t, const EventEnvelope& e) {
  auto m = MatchTrigger(t, e, TestFacts());
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() && m->has_value();
}

TEST(TriggerTest, AnOrderMatchesEveryConditionSetAndOnlyWithAContact) {
  EXPECT_TRUE(Matches(OrderTrigger({}, {}), Order("O1", "C1", {"P1"}, 100)));
  EXPECT_FALSE(Matches(OrderTrigger({}, {}), Order("O1", "", {"P1"}, 100)));  // no customer
  EXPECT_TRUE(Matches(OrderTrigger({"P2", "P1"}, {}), Order("O1", "C1", {"P0", "P1"}, 100)));
  EXPECT_FALSE(Matches(OrderTrigger({"P2"}, {}), Order("O1", "C1", {"P1"}, 100)));
  EXPECT_TRUE(Matches(OrderTrigger({}, {"footwear"}), Order("O1", "C1", {"P-boots"}, 100)));
  EXPECT_FALSE(Matches(OrderTrigger({}, {"footwear"}), Order("O1", "C1", {"P1"}, 100)));
  EXPECT_TRUE(Matches(OrderTrigger({}, {}, 100), Order("O1", "C1", {"P1"}, 100)));
  EXPECT_FALSE(Matches(OrderTrigger({}, {}, 101), Order("O1", "C1", {"P1"}, 100)));
  // Both set: both must hold.
  EXPECT_FALSE(Matches(OrderTrigger({"P1"}, {"footwear"}), Order("O1", "C1", {"P1"}, 100)));
  // Another event type never matches an order trigger.
  sv1::OrderPaid paid;
  EXPECT_FALSE(Matches(OrderTrigger({}, {}), Event("E2", "O1", paid)));
}

TEST(TriggerTest, ACustomerConditionHoldsOnlyForTheSegmentsMembersAtTheEventsTime) {
  Facts facts = TestFacts();
  facts.segment = [](const std::string&, const std::string& id) -> std::optional<av1::Segment> {
    if (id != "S-vip") return std::nullopt;
    av1::Segment s;
    s.mutable_filter()->add_tags("vip");
    return s;
  };
  absl::Time asked_at;
  facts.is_member = [&](const std::string&, const av1::SegmentFilter& filter,
                        const std::string& contact, absl::Time at) -> absl::StatusOr<bool> {
    asked_at = at;
    return filter.tags(0) == "vip" && contact == "C1";
  };
  av1::RuleTrigger t = OrderTrigger({}, {});
  t.set_customer_segment_id("S-vip");
  auto match = MatchTrigger(t, Order("O1", "C1", {"P1"}, 100), facts);
  ASSERT_TRUE(match.ok()) << match.status();
  EXPECT_TRUE(match->has_value());
  EXPECT_EQ(asked_at, absl::FromUnixSeconds(1700000000));  // the event's time
  match = MatchTrigger(t, Order("O2", "C2", {"P1"}, 100), facts);
  ASSERT_TRUE(match.ok());
  EXPECT_FALSE(match->has_value());
  // Without the condition everyone; with a segment deleted since, an error naming it.
  EXPECT_TRUE(*MeetsCustomerCondition(OrderTrigger({}, {}), facts, "t", "C2", absl::Now()));
  t.set_customer_segment_id("S-gone");
  match = MatchTrigger(t, Order("O1", "C1", {"P1"}, 100), facts);
  EXPECT_TRUE(absl::IsNotFound(match.status()));
  EXPECT_TRUE(absl::StrContains(match.status().message(), "rule.trigger.customer_segment_id"));
}

TEST(TriggerTest, ADealEntersAStageWhenMovedThereOrCreatedInIt) {
  av1::RuleTrigger t;
  t.mutable_deal_stage_entered()->set_stage_id("proposal");
  sv1::DealStageMoved moved;
  moved.set_stage_id("proposal");
  auto m = MatchTrigger(t, Event("E1", "D1", moved), TestFacts());
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_EQ((*m)->deal_id, "D1");
  EXPECT_EQ((*m)->contact_id, "C9");  // from the deal as the projection holds it
  EXPECT_EQ((*m)->owner, "dana");
  moved.set_stage_id("won");
  EXPECT_FALSE(Matches(t, Event("E2", "D1", moved)));
  sv1::DealCreated created;
  created.mutable_deal()->set_stage_id("proposal");
  created.mutable_deal()->set_contact_id("C1");
  m = MatchTrigger(t, Event("E3", "D2", created), TestFacts());
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_EQ((*m)->owner, "olga");  // the deal has none: the contact's
}

TEST(TriggerTest, APayloadThatDoesNotDecodeIsAnError) {
  EventEnvelope e = Order("O1", "C1", {"P1"}, 1);
  e.mutable_payload()->set_value("\xff\xff");
  EXPECT_FALSE(MatchTrigger(OrderTrigger({}, {}), e, TestFacts()).ok());
}

av1::Rule TaskRule(const std::string& assignee) {
  av1::Rule rule;
  rule.set_id("R1");
  rule.set_name("Boots follow-up");
  *rule.mutable_trigger() = OrderTrigger({}, {"footwear"});
  av1::CreateTaskAction& a = *rule.add_actions()->mutable_create_task();
  a.set_title("Call {contact_id} about {order_id} ({rule_name})");
  a.set_description("Deal: {deal_id}.");
  a.set_assignee(assignee);
  a.set_due_in_days(2);
  return rule;
}

TEST(PlanTest, ARunCarriesTheTaskResolvedFromTheEventAndIsKeyedByTheEvent) {
  const EventEnvelope e = Order("O7", "C1", {"P-boots"}, 100);
  const Match match = **MatchTrigger(TaskRule("").trigger(), e, TestFacts());
  const av1::RuleTriggered planned = PlanRun(TaskRule(""), e, match);
  EXPECT_EQ(planned.run().id(), "E-O7");
  EXPECT_EQ(planned.run().rule_id(), "R1");
  EXPECT_EQ(planned.run().contact_id(), "C1");
  EXPECT_EQ(planned.run().state(), av1::RULE_RUN_STATE_PENDING);
  ASSERT_EQ(planned.planned_size(), 1);
  ASSERT_EQ(planned.run().results_size(), 1);
  const crm::interaction::v1::Task& task = planned.planned(0).create_task();
  EXPECT_EQ(task.title(), "Call C1 about O7 (Boots follow-up)");
  EXPECT_EQ(task.description(), "Deal: .");
  EXPECT_EQ(task.assignee(), "olga");  // the customer's owner
  EXPECT_EQ(task.contact_id(), "C1");
  EXPECT_EQ(task.due_time().seconds(), 1700000000 + 2 * 86400);
  // A named assignee wins.
  EXPECT_EQ(PlanRun(TaskRule("sam"), e, match).planned(0).create_task().assignee(), "sam");
}

TEST(PlanTest, AnActionWithoutAnAssigneeIsPlannedEmptyWithTheReason) {
  const EventEnvelope e = Order("O8", "C2", {"P-boots"}, 100);  // C2 has no owner
  const Match match = **MatchTrigger(TaskRule("").trigger(), e, TestFacts());
  const av1::RuleTriggered planned = PlanRun(TaskRule(""), e, match);
  EXPECT_FALSE(planned.planned(0).has_create_task());
  EXPECT_NE(planned.run().results(0).error().find("no assignee"), std::string::npos);
}

TEST(PlanTest, ContactActionsChangeTheEventsCustomer) {
  av1::Rule rule = TaskRule("sam");
  rule.mutable_actions()->Clear();
  rule.add_actions()->mutable_tag_contact()->set_tag("VIP");
  rule.add_actions()->mutable_set_lifecycle_stage()->set_stage(
      crm::contact::v1::LIFECYCLE_STAGE_CUSTOMER);
  const EventEnvelope e = Order("O9", "C1", {"P-boots"}, 100);
  const av1::RuleTriggered planned =
      PlanRun(rule, e, **MatchTrigger(rule.trigger(), e, TestFacts()));
  ASSERT_EQ(planned.planned_size(), 2);
  EXPECT_EQ(planned.planned(0).change_contact().contact_id(), "C1");
  EXPECT_EQ(planned.planned(0).change_contact().add_tag(), "vip");
  EXPECT_EQ(planned.planned(1).change_contact().lifecycle_stage(),
            crm::contact::v1::LIFECYCLE_STAGE_CUSTOMER);
  // A deal without a customer: nothing to change, said why.
  av1::RuleTrigger deal;
  deal.mutable_deal_stage_entered()->set_stage_id("won");
  rule.mutable_trigger()->CopyFrom(deal);
  sv1::DealCreated created;
  created.mutable_deal()->set_stage_id("won");
  const EventEnvelope d = Event("E5", "D5", created);
  const av1::RuleTriggered none = PlanRun(rule, d, **MatchTrigger(deal, d, TestFacts()));
  EXPECT_FALSE(none.planned(0).has_change_contact());
  EXPECT_EQ(none.run().results(0).error(), "the event concerns no customer");
}

TEST(PlanTest, ADelayedRunFallsDueThatLongAfterTheEvent) {
  av1::Rule rule = TaskRule("sam");
  rule.mutable_trigger()->mutable_delay()->set_seconds(180 * 86400);
  const EventEnvelope e = Order("O3", "C1", {"P-boots"}, 100);
  const av1::RuleTriggered planned =
      PlanRun(rule, e, **MatchTrigger(rule.trigger(), e, TestFacts()));
  EXPECT_EQ(planned.run().due_time().seconds(), 1700000000 + 180 * 86400);
  EXPECT_EQ(planned.run().next_attempt_time().seconds(), planned.run().due_time().seconds());
  // Without a delay: due at once.
  rule.mutable_trigger()->clear_delay();
  EXPECT_FALSE(
      PlanRun(rule, e, **MatchTrigger(rule.trigger(), e, TestFacts())).run().has_due_time());
}

TEST(PlanTest, ANotificationCarriesTheRunAndItsEvent) {
  av1::Rule rule = TaskRule("sam");
  rule.mutable_actions()->Clear();
  rule.add_actions()->mutable_notify_partners()->set_label("boots-follow-up");
  const EventEnvelope e = Order("O4", "C1", {"P-boots"}, 100);
  const av1::RuleTriggered planned =
      PlanRun(rule, e, **MatchTrigger(rule.trigger(), e, TestFacts()));
  const av1::RuleNotification& n = planned.planned(0).notify();
  EXPECT_EQ(n.rule_id(), "R1");
  EXPECT_EQ(n.run_id(), "E-O4");
  EXPECT_EQ(n.label(), "boots-follow-up");
  EXPECT_EQ(n.event_type(), "crm.sales.v1.OrderPlaced");
  EXPECT_EQ(n.aggregate_id(), "O4");
  EXPECT_EQ(n.contact_id(), "C1");
}

TEST(AutomationTokensTest, AreTenantTokenLinesWithCommentsAndNamedErrors) {
  auto tokens = ParseAutomationTokens("# tokens\nacme eyJ.a.b\n\n  globex\teyJ.c.d  \n");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(*tokens,
            (std::map<std::string, std::string>{{"acme", "eyJ.a.b"}, {"globex", "eyJ.c.d"}}));
  auto bad = ParseAutomationTokens("acme\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 1"), std::string_view::npos);
  bad = ParseAutomationTokens("acme a\nacme b\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 2"), std::string_view::npos);
}

class RuleProjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(*store::ProjectionStore::Open(dir_.Sub("p")));
    rules_ = std::make_unique<RuleProjection>(store_.get());
  }
  absl::Status Apply(const EventEnvelope& e) {
    auto batch = store_->NewBatch();
    absl::StatusOr<absl::Status> decided = rules_->Apply(e, batch);
    if (!decided.ok()) return decided.status();
    if (decided->ok()) {
      absl::Status committed = store_->Commit(batch);
      if (!committed.ok()) return committed;
    }
    return *decided;
  }
  av1::Rule Rule() { return (*rules_->GetRule("t", "R1"))->rule(); }

  testing::TempDir dir_;
  std::unique_ptr<store::ProjectionStore> store_;
  std::unique_ptr<RuleProjection> rules_;
};

// A user's change decided at one version still takes effect when only the engine's records came
// after it (it is rebasable), not when another change to the rule did; the engine's own records
// and events from before `rebasable` existed are held to their exact version.
TEST_F(RuleProjectionTest, AChangeTakesEffectPastTheEnginesRecordsButNotPastAnotherChange) {
  auto rebasable = [](EventEnvelope e) {
    e.set_rebasable(true);
    return e;
  };
  av1::RuleCreated created;
  *created.mutable_rule() = TaskRule("sam");
  ASSERT_TRUE(Apply(Event("V1", "R1", created, 0)).ok());
  av1::RuleEnabled enabled;
  (*enabled.mutable_start_cursors())["crm.sales.v1"] = "c0";
  ASSERT_TRUE(Apply(rebasable(Event("V2", "R1", enabled, 1))).ok());
  EXPECT_EQ((*rules_->GetRule("t", "R1"))->defined_version(), 2);
  av1::RuleCursorAdvanced advanced;
  advanced.set_topic("crm.sales.v1");
  advanced.set_cursor("c1");
  ASSERT_TRUE(Apply(Event("V3", "R1", advanced, 2)).ok());  // the engine, at version 3
  EXPECT_EQ((*rules_->GetRule("t", "R1"))->defined_version(), 2);

  // Decided at 2: takes effect at 4, past the engine's record; the cursor it moved is kept.
  av1::RuleUpdated updated;
  *updated.mutable_rule() = TaskRule("sam");
  updated.mutable_rule()->set_name("Renamed");
  ASSERT_TRUE(Apply(rebasable(Event("V4", "R1", updated, 2))).ok());
  EXPECT_EQ(Rule().name(), "Renamed");
  EXPECT_EQ(Rule().version(), 4);
  EXPECT_EQ((*rules_->GetRule("t", "R1"))->defined_version(), 4);
  EXPECT_EQ((*rules_->GetRule("t", "R1"))->cursors().at("crm.sales.v1"), "c1");

  // Decided at 3, before that change: refused, rebasable or not; so is one from the future.
  av1::RuleDisabled disabled;
  EXPECT_TRUE(absl::IsAborted(Apply(rebasable(Event("V5a", "R1", disabled, 3)))));
  EXPECT_TRUE(absl::IsAborted(Apply(rebasable(Event("V5b", "R1", disabled, 9)))));
  // The engine's record decided at 3 is refused too, and one without the field past a record.
  advanced.set_cursor("c2");
  EXPECT_TRUE(absl::IsAborted(Apply(Event("V5c", "R1", advanced, 3))));
  ASSERT_TRUE(Apply(Event("V5", "R1", advanced, 4)).ok());
  EXPECT_TRUE(absl::IsAborted(Apply(Event("V6a", "R1", disabled, 4))));
  EXPECT_TRUE(Rule().enabled());
  ASSERT_TRUE(Apply(rebasable(Event("V6", "R1", disabled, 4))).ok());
  EXPECT_FALSE(Rule().enabled());
  EXPECT_EQ(Rule().version(), 6);

  // The decide side: a caller's pin is good from the last change on, up to the version now.
  EXPECT_TRUE(projection::CheckDefinedVersion(6, 6, "expected_version", "rule", "R1", 0).ok());
  EXPECT_TRUE(projection::CheckDefinedVersion(9, 6, "expected_version", "rule", "R1", 6).ok());
  EXPECT_TRUE(projection::CheckDefinedVersion(9, 6, "expected_version", "rule", "R1", 9).ok());
  const absl::Status stale =
      projection::CheckDefinedVersion(9, 6, "expected_version", "rule", "R1", 5);
  EXPECT_TRUE(absl::IsAborted(stale));
  EXPECT_TRUE(absl::StartsWith(stale.message(), "expected_version: rule R1 is at version 9"))
      << stale;
  EXPECT_TRUE(
      absl::IsAborted(projection::CheckDefinedVersion(9, 6, "expected_version", "rule", "R1", 10)));
  // A record kept before the last change's version was: only the version now will do.
  EXPECT_TRUE(
      absl::IsAborted(projection::CheckDefinedVersion(9, 0, "expected_version", "rule", "R1", 8)));
  EXPECT_TRUE(projection::CheckDefinedVersion(9, 0, "expected_version", "rule", "R1", 9).ok());
}

TEST_F(RuleProjectionTest, KeepsRulesRunsAndThePendingOutbox) {
  av1::RuleCreated created;
  *created.mutable_rule() = TaskRule("sam");
  ASSERT_TRUE(Apply(Event("V1", "R1", created, 0)).ok());
  EXPECT_FALSE(Rule().enabled());
  EXPECT_EQ(Rule().version(), 1);
  EXPECT_EQ(Rule().name(), "Boots follow-up");
  // A stale version is refused and writes nothing.
  av1::RuleDisabled disabled;
  EXPECT_TRUE(absl::IsAborted(Apply(Event("V1b", "R1", disabled, 5))));
  EXPECT_TRUE(absl::IsNotFound(Apply(Event("V1c", "R2", disabled, 1))));

  av1::RuleEnabled enabled;
  (*enabled.mutable_start_cursors())["crm.sales.v1"] = "c0";
  ASSERT_TRUE(Apply(Event("V2", "R1", enabled, 1)).ok());
  EXPECT_TRUE(Rule().enabled());
  EXPECT_EQ((*rules_->GetRule("t", "R1"))->cursors().at("crm.sales.v1"), "c0");

  const EventEnvelope order = Order("O7", "C1", {"P-boots"}, 100);
  av1::RuleTriggered triggered =
      PlanRun(TaskRule("sam"), order, **MatchTrigger(TaskRule("").trigger(), order, TestFacts()));
  triggered.set_topic("crm.sales.v1");
  triggered.set_cursor_after("c1");
  ASSERT_TRUE(Apply(Event("V3", "R1", triggered, 2)).ok());
  EXPECT_EQ(Rule().run_count(), 1);
  EXPECT_EQ((*rules_->GetRule("t", "R1"))->cursors().at("crm.sales.v1"), "c1");
  auto pending = rules_->PendingRuns("t", "R1", 10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].planned(0).create_task().assignee(), "sam");
  // The same event decided again (the log held it twice): refused, still one run.
  EXPECT_TRUE(absl::IsFailedPrecondition(Apply(Event("V3b", "R1", triggered, 3))));

  // A failed attempt keeps it pending with its next attempt; a success takes it out.
  av1::RuleRunAttempted attempt;
  attempt.set_run_id("E-O7");
  attempt.set_state(av1::RULE_RUN_STATE_PENDING);
  attempt.add_results()->set_error("unavailable");
  attempt.mutable_next_attempt_time()->set_seconds(1700000100);
  ASSERT_TRUE(Apply(Event("V4", "R1", attempt, 3)).ok());
  ASSERT_EQ(rules_->PendingRuns("t", "R1", 10)->size(), 1u);
  attempt.set_state(av1::RULE_RUN_STATE_SUCCEEDED);
  attempt.mutable_results(0)->clear_error();
  attempt.mutable_results(0)->set_resource("tasks/T1");
  ASSERT_TRUE(Apply(Event("V5", "R1", attempt, 4)).ok());
  EXPECT_TRUE(rules_->PendingRuns("t", "R1", 10)->empty());
  auto runs = rules_->ListRuns("t", "R1", av1::RULE_RUN_STATE_UNSPECIFIED, "", 10, 100);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->runs.size(), 1u);
  EXPECT_EQ(runs->runs[0].state(), av1::RULE_RUN_STATE_SUCCEEDED);
  EXPECT_EQ(runs->runs[0].attempts(), 2);
  EXPECT_EQ(runs->runs[0].results(0).resource(), "tasks/T1");
  EXPECT_TRUE(
      rules_->ListRuns("t", "R1", av1::RULE_RUN_STATE_DEAD_LETTERED, "", 10, 100)->runs.empty());

  // Disabled: its positions are dropped (enabling again starts from then).
  ASSERT_TRUE(Apply(Event("V6", "R1", disabled, 5)).ok());
  EXPECT_FALSE(Rule().enabled());
  EXPECT_TRUE((*rules_->GetRule("t", "R1"))->cursors().empty());
  // Another tenant has no such rule.
  EXPECT_FALSE(rules_->GetRule("u", "R1")->has_value());
}

TEST_F(RuleProjectionTest, TheOutboxGivesTheSoonestDueFirst) {
  av1::RuleCreated created;
  *created.mutable_rule() = TaskRule("sam");
  ASSERT_TRUE(Apply(Event("V1", "R1", created, 0)).ok());
  av1::Rule later = TaskRule("sam");
  later.mutable_trigger()->mutable_delay()->set_seconds(86400);
  int64_t version = 1;
  for (const auto& [order, rule] : {std::pair{"O1", later}, std::pair{"O2", TaskRule("sam")}}) {
    const EventEnvelope e = Order(order, "C1", {"P-boots"}, 100);
    const av1::RuleTriggered t = PlanRun(rule, e, **MatchTrigger(rule.trigger(), e, TestFacts()));
    ASSERT_TRUE(Apply(Event(std::string("V-") + order, "R1", t, version++)).ok());
  }
  auto pending = rules_->PendingRuns("t", "R1", 10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].run().id(), "E-O2");  // at once
  EXPECT_EQ((*pending)[1].run().id(), "E-O1");  // a day later
  // A retry moves a run's place in the outbox to its next attempt.
  av1::RuleRunAttempted attempt;
  attempt.set_run_id("E-O2");
  attempt.set_state(av1::RULE_RUN_STATE_PENDING);
  attempt.mutable_next_attempt_time()->set_seconds(1700000000 + 2 * 86400);
  ASSERT_TRUE(Apply(Event("V4", "R1", attempt, version++)).ok());
  pending = rules_->PendingRuns("t", "R1", 10);
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].run().id(), "E-O1");
  // Cancelled: out of the outbox, not a dead letter.
  attempt.set_run_id("E-O1");
  attempt.set_state(av1::RULE_RUN_STATE_CANCELLED);
  ASSERT_TRUE(Apply(Event("V5", "R1", attempt, version++)).ok());
  pending = rules_->PendingRuns("t", "R1", 10);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].run().id(), "E-O2");
  EXPECT_EQ(Rule().dead_letter_count(), 0);
}

TEST_F(RuleProjectionTest, ANotificationIsPublishedOncePerRunAndAction) {
  av1::RuleNotification n;
  n.set_label("x");
  ASSERT_TRUE(Apply(Event("N1", "R1:E1:0", n, 0)).ok());
  EXPECT_TRUE(absl::IsAborted(Apply(Event("N2", "R1:E1:0", n, 0))));
  EXPECT_TRUE(Apply(Event("N3", "R1:E1:1", n, 0)).ok());
}

TEST_F(RuleProjectionTest, CountsDeadLettersInAndOut) {
  av1::RuleCreated created;
  *created.mutable_rule() = TaskRule("sam");
  ASSERT_TRUE(Apply(Event("V1", "R1", created, 0)).ok());
  const EventEnvelope order = Order("O7", "C1", {"P-boots"}, 100);
  av1::RuleTriggered triggered =
      PlanRun(TaskRule("sam"), order, **MatchTrigger(TaskRule("").trigger(), order, TestFacts()));
  ASSERT_TRUE(Apply(Event("V2", "R1", triggered, 1)).ok());
  av1::RuleRunAttempted attempt;
  attempt.set_run_id("E-O7");
  attempt.set_state(av1::RULE_RUN_STATE_DEAD_LETTERED);
  ASSERT_TRUE(Apply(Event("V3", "R1", attempt, 2)).ok());
  EXPECT_EQ(Rule().dead_letter_count(), 1);
  EXPECT_TRUE(rules_->PendingRuns("t", "R1", 10)->empty());
  attempt.set_run_id("nope");
  EXPECT_TRUE(absl::IsNotFound(Apply(Event("V4", "R1", attempt, 3))));
}

TEST(PlanTest, AMessageIsPlannedForTheEventsCustomerWithRuleFieldsFilled) {
  av1::Rule rule = TaskRule("sam");
  rule.mutable_actions()->Clear();
  av1::SendMessageAction& send = *rule.add_actions()->mutable_send_message();
  send.set_channel(crm::contact::v1::CONSENT_CHANNEL_EMAIL);
  send.set_subject("Your order {order_id}");
  send.set_body("Dear {given_name} {family_name}, thanks for {order_id} ({rule_name}).");
  const EventEnvelope e = Order("O5", "C1", {"P-boots"}, 100);
  const av1::RuleTriggered planned =
      PlanRun(rule, e, **MatchTrigger(rule.trigger(), e, TestFacts()));
  const av1::PlannedMessage& m = planned.planned(0).send_message();
  EXPECT_EQ(m.contact_id(), "C1");
  EXPECT_EQ(m.channel(), crm::contact::v1::CONSENT_CHANNEL_EMAIL);
  EXPECT_EQ(m.subject(), "Your order O5");
  // The customer's own fields are filled when it is sent, from the contact as it is then.
  EXPECT_EQ(m.body(), "Dear {given_name} {family_name}, thanks for O5 (Boots follow-up).");
  crm::contact::v1::Contact c;
  c.mutable_personal()->set_given_name("Ada");
  c.mutable_personal()->set_family_name("Lovelace");
  EXPECT_EQ(FillPersonal(m.body(), c), "Dear Ada Lovelace, thanks for O5 (Boots follow-up).");
}

absl::Time At(const char* zone, int y, int mo, int d, int h, int mi) {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone(zone, &tz)) << zone;
  return absl::FromCivil(absl::CivilMinute(y, mo, d, h, mi), tz);
}

av1::MessagingPolicy Quiet(const std::string& zone, const std::string& start,
                           const std::string& end) {
  av1::MessagingPolicy p;
  p.set_time_zone(zone);
  p.set_quiet_hours_start(start);
  p.set_quiet_hours_end(end);
  return p;
}

TEST(QuietHoursTest, SpanningMidnightInTheTenantsZone) {
  const av1::MessagingPolicy p = Quiet("Europe/Berlin", "21:00", "08:00");
  // 22:30 Berlin: quiet until 08:00 the next morning, Berlin time.
  EXPECT_EQ(QuietUntil(p, At("Europe/Berlin", 2026, 3, 10, 22, 30)),
            At("Europe/Berlin", 2026, 3, 11, 8, 0));
  // 03:00 Berlin: until 08:00 the same day.
  EXPECT_EQ(QuietUntil(p, At("Europe/Berlin", 2026, 3, 11, 3, 0)),
            At("Europe/Berlin", 2026, 3, 11, 8, 0));
  // The ends: 21:00 is quiet, 08:00 is not; noon is not.
  EXPECT_TRUE(QuietUntil(p, At("Europe/Berlin", 2026, 3, 11, 21, 0)).has_value());
  EXPECT_FALSE(QuietUntil(p, At("Europe/Berlin", 2026, 3, 11, 8, 0)).has_value());
  EXPECT_FALSE(QuietUntil(p, At("Europe/Berlin", 2026, 3, 11, 12, 0)).has_value());
  // 12:00 UTC is 13:00 in Berlin (winter): not quiet; 20:30 UTC is 21:30 there: quiet.
  EXPECT_FALSE(QuietUntil(p, At("UTC", 2026, 1, 5, 12, 0)).has_value());
  EXPECT_TRUE(QuietUntil(p, At("UTC", 2026, 1, 5, 20, 30)).has_value());
  // Across the spring-forward night the end is still 08:00 local (06:00 UTC, summer time).
  EXPECT_EQ(QuietUntil(p, At("Europe/Berlin", 2026, 3, 28, 23, 0)), At("UTC", 2026, 3, 29, 6, 0));
}

TEST(QuietHoursTest, WithinOneDayInUtcAndNoneWhenUnsetOrEqual) {
  const av1::MessagingPolicy p = Quiet("", "12:00", "14:00");
  EXPECT_EQ(QuietUntil(p, At("UTC", 2026, 5, 1, 13, 59)), At("UTC", 2026, 5, 1, 14, 0));
  EXPECT_FALSE(QuietUntil(p, At("UTC", 2026, 5, 1, 11, 59)).has_value());
  EXPECT_FALSE(QuietUntil(p, At("UTC", 2026, 5, 1, 14, 0)).has_value());
  EXPECT_FALSE(QuietUntil(av1::MessagingPolicy(), At("UTC", 2026, 5, 1, 3, 0)).has_value());
  EXPECT_FALSE(QuietUntil(Quiet("", "09:00", "09:00"), At("UTC", 2026, 5, 1, 9, 0)).has_value());
}

TEST(QuietHoursTest, ClocksAreHoursAndMinutes) {
  EXPECT_EQ(*ParseClock("00:00"), 0);
  EXPECT_EQ(*ParseClock("23:59"), 23 * 60 + 59);
  for (const char* bad : {"24:00", "7:00", "07:60", "07-00", "+1:00", "", "07:000"}) {
    EXPECT_FALSE(ParseClock(bad).ok()) << bad;
  }
}

TEST(MessageAddressTest, ThePrimaryEmailOrPhoneElseTheFirstElseWhyNot) {
  crm::contact::v1::Contact c;
  EXPECT_TRUE(absl::IsFailedPrecondition(
      MessageAddress(c, crm::contact::v1::CONSENT_CHANNEL_EMAIL).status()));
  EXPECT_TRUE(absl::IsFailedPrecondition(
      MessageAddress(c, crm::contact::v1::CONSENT_CHANNEL_SMS).status()));
  c.mutable_personal()->add_emails()->set_address("a@x.example");
  auto* primary = c.mutable_personal()->add_emails();
  primary->set_address("b@x.example");
  primary->set_primary(true);
  c.mutable_personal()->add_phones()->set_number("+4930123");
  EXPECT_EQ(*MessageAddress(c, crm::contact::v1::CONSENT_CHANNEL_EMAIL), "b@x.example");
  EXPECT_EQ(*MessageAddress(c, crm::contact::v1::CONSENT_CHANNEL_SMS), "+4930123");
  EXPECT_FALSE(MessageAddress(c, crm::contact::v1::CONSENT_CHANNEL_POST).ok());
}

class MessageProjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(*store::ProjectionStore::Open(dir_.Sub("p")));
    messages_ = std::make_unique<MessageProjection>(store_.get());
  }
  absl::Status Apply(const EventEnvelope& e) {
    auto batch = store_->NewBatch();
    absl::StatusOr<absl::Status> decided = messages_->Apply(e, batch);
    if (!decided.ok()) return decided.status();
    if (decided->ok()) {
      absl::Status committed = store_->Commit(batch);
      if (!committed.ok()) return committed;
    }
    return *decided;
  }
  absl::Status Queue(const std::string& id, const std::string& contact, int64_t at_seconds) {
    av1::OutboundMessage out;
    out.mutable_message()->set_contact_id(contact);
    out.mutable_message()->set_to("ada@example.com");
    out.mutable_message()->set_body("Hello Ada");
    out.mutable_message()->set_rule_id("R1");
    EventEnvelope e = Event("Q-" + id + std::to_string(at_seconds), id, out, 0);
    e.mutable_occurred_at()->set_seconds(at_seconds);
    return Apply(e);
  }

  testing::TempDir dir_;
  std::unique_ptr<store::ProjectionStore> store_;
  std::unique_ptr<MessageProjection> messages_;
};

TEST_F(MessageProjectionTest, QueuesEachMessageOnceAndCountsACustomersRecentMessages) {
  ASSERT_TRUE(Queue("M1", "C1", 1000).ok());
  ASSERT_TRUE(Queue("M2", "C1", 2000).ok());
  ASSERT_TRUE(Queue("M3", "C2", 2500).ok());
  // The same message again (a retry after a crash): refused, still three.
  EXPECT_TRUE(absl::IsAborted(Queue("M1", "C1", 3000)));
  const av1::Message m1 = **messages_->GetMessage("t", "M1");
  EXPECT_EQ(m1.state(), av1::MESSAGE_STATE_QUEUED);
  EXPECT_EQ(m1.version(), 1);
  EXPECT_EQ(m1.queue_time().seconds(), 1000);
  EXPECT_EQ(*messages_->CountSince("t", "C1", absl::FromUnixSeconds(0)), 2);
  EXPECT_EQ(*messages_->CountSince("t", "C1", absl::FromUnixSeconds(1500)), 1);
  EXPECT_EQ(*messages_->CountSince("t", "C1", absl::FromUnixSeconds(2001)), 0);
  EXPECT_EQ(*messages_->CountSince("u", "C1", absl::FromUnixSeconds(0)), 0);
  auto page = messages_->ListMessages("t", {"C1", "", ""}, "", 10, 100);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->messages.size(), 2u);
  EXPECT_EQ(page->messages[1].id(), "M2");
  EXPECT_EQ(messages_->ListMessages("t", {"", "R2", ""}, "", 10, 100)->messages.size(), 0u);
}

TEST_F(MessageProjectionTest, ReportsMoveAMessageOnAndOpenedIsNotUndoneByALateDelivery) {
  ASSERT_TRUE(Queue("M1", "C1", 1000).ok());
  av1::MessageStatusReported r;
  r.set_state(av1::MESSAGE_STATE_OPENED);
  r.mutable_time()->set_seconds(1100);
  ASSERT_TRUE(Apply(Event("S1", "M1", r, 1)).ok());
  r.set_state(av1::MESSAGE_STATE_DELIVERED);
  r.set_detail("250 OK");
  EXPECT_TRUE(absl::IsAborted(Apply(Event("S2", "M1", r, 1))));  // a stale version
  ASSERT_TRUE(Apply(Event("S3", "M1", r, 2)).ok());
  av1::Message m = **messages_->GetMessage("t", "M1");
  EXPECT_EQ(m.state(), av1::MESSAGE_STATE_OPENED);
  EXPECT_EQ(m.status_detail(), "250 OK");
  EXPECT_EQ(m.version(), 3);
  r.set_state(av1::MESSAGE_STATE_FAILED);
  ASSERT_TRUE(Apply(Event("S4", "M1", r, 3)).ok());
  EXPECT_EQ((*messages_->GetMessage("t", "M1"))->state(), av1::MESSAGE_STATE_FAILED);
  EXPECT_TRUE(absl::IsNotFound(Apply(Event("S5", "M9", r, 1))));
}

// A provider's reports are facts, not changes based on what the adapter read: two decided
// against the same version (sent at once) both take effect, in log order. A report written
// before reports were rebasable is held to its exact version, as when it was first applied.
TEST_F(MessageProjectionTest, ReportsRacingForOneMessageBothTakeEffect) {
  ASSERT_TRUE(Queue("M1", "C1", 1000).ok());
  av1::MessageStatusReported r;
  r.set_state(av1::MESSAGE_STATE_DELIVERED);
  r.set_detail("250 OK");
  r.mutable_time()->set_seconds(1100);
  auto report = [&](const std::string& event_id, int64_t expected, bool rebasable) {
    EventEnvelope e = Event(event_id, "M1", r, expected);
    e.set_rebasable(rebasable);
    return Apply(e);
  };
  ASSERT_TRUE(report("S1", 1, true).ok());
  r.set_state(av1::MESSAGE_STATE_OPENED);
  r.set_detail("");
  r.mutable_time()->set_seconds(1200);
  ASSERT_TRUE(report("S2", 1, true).ok());  // decided at version 1 too
  av1::Message m = **messages_->GetMessage("t", "M1");
  EXPECT_EQ(m.state(), av1::MESSAGE_STATE_OPENED);
  EXPECT_EQ(m.version(), 3);
  EXPECT_EQ(m.update_time().seconds(), 1200);
  r.set_state(av1::MESSAGE_STATE_FAILED);
  EXPECT_TRUE(absl::IsAborted(report("S3", 1, false)));  // an old, exact report
  EXPECT_TRUE(absl::IsAborted(report("S4", 4, true)));   // a version not reached
  EXPECT_EQ((*messages_->GetMessage("t", "M1"))->version(), 3);
}

// Providers send their reports out of order: the state is the latest report's by its time, and
// a report arriving after a newer one is taken (the version moves) without undoing it.
TEST_F(MessageProjectionTest, AReportArrivingAfterANewerOneDoesNotUndoIt) {
  ASSERT_TRUE(Queue("M1", "C1", 1000).ok());
  EXPECT_FALSE((*messages_->GetMessage("t", "M1"))->has_status_time());
  av1::MessageStatusReported r;
  auto report = [&](const std::string& event_id, av1::MessageState state, std::string detail,
                    int64_t at_seconds) {
    r.set_state(state);
    r.set_detail(std::move(detail));
    r.mutable_time()->set_seconds(at_seconds);
    const int64_t version = (*messages_->GetMessage("t", "M1"))->version();
    return Apply(Event(event_id, "M1", r, version));
  };
  ASSERT_TRUE(report("S1", av1::MESSAGE_STATE_FAILED, "550 mailbox full", 1300).ok());
  ASSERT_TRUE(report("S2", av1::MESSAGE_STATE_DELIVERED, "250 OK", 1200).ok());  // late
  av1::Message m = **messages_->GetMessage("t", "M1");
  EXPECT_EQ(m.state(), av1::MESSAGE_STATE_FAILED);
  EXPECT_EQ(m.status_detail(), "550 mailbox full");
  EXPECT_EQ(m.status_time().seconds(), 1300);
  EXPECT_EQ(m.update_time().seconds(), 1300);  // not moved back
  EXPECT_EQ(m.version(), 3);
  // A provider's clock behind the service's: its first report still counts.
  ASSERT_TRUE(Queue("M2", "C1", 2000).ok());
  r.set_state(av1::MESSAGE_STATE_DELIVERED);
  r.mutable_time()->set_seconds(1990);
  ASSERT_TRUE(Apply(Event("S3", "M2", r, 1)).ok());
  m = **messages_->GetMessage("t", "M2");
  EXPECT_EQ(m.state(), av1::MESSAGE_STATE_DELIVERED);
  EXPECT_EQ(m.status_time().seconds(), 1990);
  EXPECT_EQ(m.update_time().seconds(), 2000);
  // Newer again: it replaces.
  ASSERT_TRUE(report("S4", av1::MESSAGE_STATE_OPENED, "", 1400).ok());
  m = **messages_->GetMessage("t", "M1");
  EXPECT_EQ(m.state(), av1::MESSAGE_STATE_OPENED);
  EXPECT_EQ(m.status_detail(), "");
  EXPECT_EQ(m.status_time().seconds(), 1400);
  EXPECT_EQ(m.update_time().seconds(), 1400);
  EXPECT_EQ(m.version(), 4);
}

TEST_F(MessageProjectionTest, AnErasedCustomersMessagesKeepNoAddressOrText) {
  ASSERT_TRUE(Queue("M1", "C1", 1000).ok());
  ASSERT_TRUE(Queue("M2", "C2", 1000).ok());
  auto batch = store_->NewBatch();
  ASSERT_TRUE(messages_->Erase("t", "C1", batch).ok());
  ASSERT_TRUE(store_->Commit(batch).ok());
  const av1::Message erased = **messages_->GetMessage("t", "M1");
  EXPECT_TRUE(erased.to().empty());
  EXPECT_TRUE(erased.body().empty());
  EXPECT_EQ(erased.state(), av1::MESSAGE_STATE_QUEUED);
  EXPECT_EQ((*messages_->GetMessage("t", "M2"))->to(), "ada@example.com");
  // Still counted in the cap.
  EXPECT_EQ(*messages_->CountSince("t", "C1", absl::FromUnixSeconds(0)), 1);
}

TEST_F(MessageProjectionTest, APolicyIsVersionedAndDefaultsToNone) {
  EXPECT_EQ(messages_->GetPolicy("t")->version(), 0);
  av1::MessagingPolicySet set;
  set.mutable_policy()->set_max_messages_per_customer(3);
  set.mutable_policy()->mutable_cap_period()->set_seconds(7 * 86400);
  ASSERT_TRUE(Apply(Event("P1", kPolicyId, set, 0)).ok());
  EXPECT_TRUE(absl::IsAborted(Apply(Event("P2", kPolicyId, set, 0))));
  const av1::MessagingPolicy p = *messages_->GetPolicy("t");
  EXPECT_EQ(p.version(), 1);
  EXPECT_EQ(p.max_messages_per_customer(), 3);
  EXPECT_EQ(messages_->GetPolicy("u")->max_messages_per_customer(), 0);
}

class CampaignProjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(*store::ProjectionStore::Open(dir_.Sub("p")));
    campaigns_ = std::make_unique<CampaignProjection>(store_.get());
  }
  absl::Status Apply(const EventEnvelope& e) {
    auto batch = store_->NewBatch();
    absl::StatusOr<absl::Status> decided = campaigns_->Apply(e, batch);
    if (!decided.ok()) return decided.status();
    if (decided->ok()) {
      absl::Status committed = store_->Commit(batch);
      if (!committed.ok()) return committed;
    }
    return *decided;
  }
  // An order of `contact` for `cents` EUR at `at_seconds` starts (1) or stops (-1) counting.
  void Purchase(const std::string& contact, int64_t cents, int64_t at_seconds, int delta) {
    sv1::Order order;
    order.set_contact_id(contact);
    order.mutable_order_time()->set_seconds(at_seconds);
    order.mutable_net()->set_currency_code("EUR");
    order.mutable_net()->set_minor_units(cents);
    auto batch = store_->NewBatch();
    ASSERT_TRUE(campaigns_->CountPurchase("t", order, delta, batch).ok());
    ASSERT_TRUE(store_->Commit(batch).ok());
  }
  av1::Campaign Campaign() { return **campaigns_->GetCampaign("t", "K1"); }

  testing::TempDir dir_;
  std::unique_ptr<store::ProjectionStore> store_;
  std::unique_ptr<CampaignProjection> campaigns_;
};

TEST_F(CampaignProjectionTest, SendsTheTreatmentAndAttributesOrdersInTheWindowToEachGroup) {
  av1::CampaignLaunched launched;
  launched.mutable_campaign()->set_name("Spring");
  launched.mutable_campaign()->mutable_attribution_window()->set_seconds(10 * 86400);
  for (const auto& [contact, holdout] :
       {std::pair{"C1", false}, std::pair{"C2", false}, std::pair{"C3", true}}) {
    av1::CampaignRecipient& r = *launched.add_recipients();
    r.set_contact_id(contact);
    r.set_holdout(holdout);
  }
  launched.set_without_consent(4);
  ASSERT_TRUE(Apply(Event("L1", "K1", launched, 0)).ok());  // launched at 1700000000
  EXPECT_TRUE(absl::IsAborted(Apply(Event("L2", "K1", launched, 0))));
  EXPECT_EQ(Campaign().treatment().customers(), 2);
  EXPECT_EQ(Campaign().holdout().customers(), 1);
  EXPECT_EQ(Campaign().messages_pending(), 2);
  EXPECT_EQ(Campaign().without_consent(), 4);
  EXPECT_EQ(*campaigns_->PendingTargets("t", "K1", 10), (std::vector<std::string>{"C1", "C2"}));
  ASSERT_EQ(campaigns_->CampaignsToSend()->size(), 1u);

  av1::CampaignMessageSent sent;
  sent.set_contact_id("C1");
  sent.set_message_id("K1:C1");
  ASSERT_TRUE(Apply(Event("S1", "K1", sent, 1)).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(Apply(Event("S2", "K1", sent, 2))));  // sent already
  sent.set_contact_id("C3");  // the hold-out is sent nothing
  EXPECT_TRUE(absl::IsFailedPrecondition(Apply(Event("S3", "K1", sent, 2))));
  av1::CampaignMessageSent skipped;
  skipped.set_contact_id("C2");
  skipped.set_skipped("no consent for email");
  ASSERT_TRUE(Apply(Event("S4", "K1", skipped, 2)).ok());
  EXPECT_EQ(Campaign().messages_sent(), 1);
  EXPECT_EQ(Campaign().messages_skipped(), 1);
  EXPECT_EQ(Campaign().messages_pending(), 0);
  EXPECT_TRUE(campaigns_->PendingTargets("t", "K1", 10)->empty());
  EXPECT_TRUE(campaigns_->CampaignsToSend()->empty());
  EXPECT_EQ((*campaigns_->GetMember("t", "K1", "C2"))->skipped(), "no consent for email");

  // C1 buys twice in the window, once before the launch and once after it; C3 (hold-out) once;
  // C9 was no target.
  ASSERT_NO_FATAL_FAILURE(Purchase("C1", 1000, 1700000000 + 3600, 1));
  ASSERT_NO_FATAL_FAILURE(Purchase("C1", 500, 1700000000 + 86400, 1));
  ASSERT_NO_FATAL_FAILURE(Purchase("C1", 700, 1700000000 - 60, 1));
  ASSERT_NO_FATAL_FAILURE(Purchase("C1", 900, 1700000000 + 11 * 86400, 1));
  ASSERT_NO_FATAL_FAILURE(Purchase("C3", 2000, 1700000000 + 7200, 1));
  ASSERT_NO_FATAL_FAILURE(Purchase("C9", 5000, 1700000000 + 7200, 1));
  av1::Campaign c = Campaign();
  EXPECT_EQ(c.treatment().converted(), 1);
  EXPECT_EQ(c.treatment().orders(), 2);
  ASSERT_EQ(c.treatment().revenue_size(), 1);
  EXPECT_EQ(c.treatment().revenue(0).minor_units(), 1500);
  EXPECT_EQ(c.holdout().converted(), 1);
  EXPECT_EQ(c.holdout().revenue(0).minor_units(), 2000);
  // A cancelled order stops counting; the customer converted while another order counts.
  ASSERT_NO_FATAL_FAILURE(Purchase("C1", 500, 1700000000 + 86400, -1));
  EXPECT_EQ(Campaign().treatment().converted(), 1);
  EXPECT_EQ(Campaign().treatment().revenue(0).minor_units(), 1000);
  ASSERT_NO_FATAL_FAILURE(Purchase("C3", 2000, 1700000000 + 7200, -1));
  EXPECT_EQ(Campaign().holdout().converted(), 0);
  EXPECT_EQ(Campaign().holdout().orders(), 0);
}

// A tenant's orders look for its campaigns only once it has launched one: an order before any
// launch counts nowhere, the next order after the launch counts, and so does one read by a
// projection opened again on the same store (the launch found there).
TEST_F(CampaignProjectionTest, OrdersAfterTheTenantsFirstLaunchAreAttributed) {
  ASSERT_NO_FATAL_FAILURE(Purchase("C1", 300, 1700000000 + 60, 1));  // no campaign yet
  av1::CampaignLaunched launched;
  launched.mutable_campaign()->mutable_attribution_window()->set_seconds(10 * 86400);
  launched.add_recipients()->set_contact_id("C1");
  ASSERT_TRUE(Apply(Event("L1", "K1", launched, 0)).ok());  // launched at 1700000000
  ASSERT_NO_FATAL_FAILURE(Purchase("C1", 1000, 1700000000 + 3600, 1));
  EXPECT_EQ(Campaign().treatment().orders(), 1);
  EXPECT_EQ(Campaign().treatment().converted(), 1);
  campaigns_ = std::make_unique<CampaignProjection>(store_.get());
  ASSERT_NO_FATAL_FAILURE(Purchase("C1", 500, 1700000000 + 7200, 1));
  EXPECT_EQ(Campaign().treatment().orders(), 2);
  ASSERT_EQ(Campaign().treatment().revenue_size(), 1);
  EXPECT_EQ(Campaign().treatment().revenue(0).minor_units(), 1500);
}

absl::Time Day(int y, int m, int d, int h = 12) {
  return absl::FromCivil(absl::CivilHour(y, m, d, h), absl::UTCTimeZone());
}

av1::RuleTrigger NoPurchase(int days) {
  av1::RuleTrigger t;
  t.mutable_no_purchase()->set_days(days);
  return t;
}

av1::RuleTrigger Anniversary(av1::AnniversaryKind kind) {
  av1::RuleTrigger t;
  t.mutable_anniversary()->set_kind(kind);
  return t;
}

TEST(TimeTriggerTest, ALapseFallsDueNDaysAfterTheLastPurchaseOncePerLapse) {
  CustomerHistory c;
  c.contact_id = "C1";
  c.purchases = {{Day(2026, 1, 1), "O1"}, {Day(2026, 1, 20), "O2"}, {Day(2026, 4, 1), "O3"}};
  // 30 days: O1's lapse was ended by O2 (19 days later); O2 lapsed on 19 February; O3 lapses on
  // 1 May.
  auto due = DueMoments(NoPurchase(30), c, Day(2025, 1, 1), Day(2027, 1, 1), false);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].run_id, "C1:lapse:O2");
  EXPECT_EQ(due[0].due, Day(2026, 2, 19));
  EXPECT_EQ(due[0].order_id, "O2");
  EXPECT_EQ(due[1].run_id, "C1:lapse:O3");
  EXPECT_EQ(due[1].due, Day(2026, 5, 1));
  // What the engine acts on: only the current lapse, once it is due and after the enabling.
  due = DueMoments(NoPurchase(30), c, Day(2026, 1, 1), Day(2026, 5, 2), true);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].run_id, "C1:lapse:O3");
  EXPECT_TRUE(DueMoments(NoPurchase(30), c, Day(2026, 1, 1), Day(2026, 4, 30), true).empty());
  EXPECT_TRUE(DueMoments(NoPurchase(30), c, Day(2026, 5, 2), Day(2026, 6, 1), true).empty());
  // No purchase at all: no lapse.
  EXPECT_TRUE(DueMoments(NoPurchase(30), CustomerHistory{"C2", {}, absl::InfinitePast(), {}},
                         Day(2020, 1, 1), Day(2030, 1, 1), false)
                  .empty());
}

TEST(TimeTriggerTest, AnniversariesFallYearlyFromTheFirstPurchaseOrTheContactsCreation) {
  CustomerHistory c;
  c.contact_id = "C1";
  c.purchases = {{Day(2024, 2, 29, 9), "O1"}, {Day(2025, 6, 1), "O2"}};
  c.created = Day(2023, 7, 15, 8);
  auto due = DueMoments(Anniversary(av1::ANNIVERSARY_KIND_FIRST_PURCHASE), c, Day(2024, 1, 1),
                        Day(2028, 3, 1, 10), false);
  ASSERT_EQ(due.size(), 4u);
  EXPECT_EQ(due[0].run_id, "C1:anniversary:1");
  EXPECT_EQ(due[0].due, Day(2025, 3, 1, 9));  // no 29 February in 2025
  EXPECT_EQ(due[3].due, Day(2028, 2, 29, 9));
  // The engine: only the latest, and only those after the enabling.
  due = DueMoments(Anniversary(av1::ANNIVERSARY_KIND_FIRST_PURCHASE), c, Day(2024, 1, 1),
                   Day(2027, 1, 1), true);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].run_id, "C1:anniversary:2");
  due = DueMoments(Anniversary(av1::ANNIVERSARY_KIND_CONTACT_CREATED), c, Day(2026, 7, 1),
                   Day(2026, 8, 1), true);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].run_id, "C1:anniversary:3");
  EXPECT_EQ(due[0].due, Day(2026, 7, 15, 8));
  const auto event =
      TimeEvent("t", Anniversary(av1::ANNIVERSARY_KIND_CONTACT_CREATED), "C1", due[0]);
  EXPECT_EQ(event.event_id(), "C1:anniversary:3");
  EXPECT_EQ(event.event_type(), "time.anniversary");
  EXPECT_EQ(event.aggregate_id(), "C1");
  EXPECT_EQ(event.occurred_at().seconds(), absl::ToUnixSeconds(Day(2026, 7, 15, 8)));
}

TEST(TimeTriggerTest, ACaseBreachesWhenItsDueTimePassesWithoutAnAnswerOrResolution) {
  crm::interaction::v1::Case c;
  c.set_id("K1");
  c.set_status(crm::interaction::v1::CASE_STATUS_OPEN);
  projection::SetTimestamp(Day(2026, 3, 1, 10), c.mutable_first_response_due());
  projection::SetTimestamp(Day(2026, 3, 3, 10), c.mutable_resolution_due());
  av1::CaseSlaBreachTrigger either;
  auto due = CaseBreaches(either, c, Day(2026, 1, 1), Day(2026, 4, 1), true);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].run_id, "K1:sla:first_response");
  EXPECT_EQ(due[0].due, Day(2026, 3, 1, 10));
  EXPECT_EQ(due[1].run_id, "K1:sla:resolution");
  av1::CaseSlaBreachTrigger first;
  first.set_target(av1::SLA_TARGET_FIRST_RESPONSE);
  EXPECT_EQ(CaseBreaches(first, c, Day(2026, 1, 1), Day(2026, 4, 1), true).size(), 1u);
  // Not yet due; due before the rule was enabled.
  EXPECT_TRUE(CaseBreaches(first, c, Day(2026, 1, 1), Day(2026, 3, 1, 9), true).empty());
  EXPECT_TRUE(CaseBreaches(first, c, Day(2026, 3, 2), Day(2026, 4, 1), true).empty());
  // Answered late: no longer acted on, but a breach looking back; answered in time: none.
  projection::SetTimestamp(Day(2026, 3, 1, 11), c.mutable_first_response_time());
  EXPECT_TRUE(CaseBreaches(first, c, Day(2026, 1, 1), Day(2026, 4, 1), true).empty());
  EXPECT_EQ(CaseBreaches(first, c, Day(2026, 1, 1), Day(2026, 4, 1), false).size(), 1u);
  projection::SetTimestamp(Day(2026, 3, 1, 9), c.mutable_first_response_time());
  EXPECT_TRUE(CaseBreaches(first, c, Day(2026, 1, 1), Day(2026, 4, 1), false).empty());
  // Resolved: nothing to act on.
  c.set_status(crm::interaction::v1::CASE_STATUS_RESOLVED);
  EXPECT_TRUE(CaseBreaches(either, c, Day(2026, 1, 1), Day(2026, 4, 1), true).empty());
}

// A churn-risk curve from real purchases and the real metrics (no model fitted: the risk grows
// with the time since the last purchase over three times the typical interval).
TEST(TimeTriggerTest, AChurnRiskFallsDueWhenItFirstReachesTheThresholdOncePerLapse) {
  std::vector<crm::analytics::v1::LedgerPurchase> ledger;
  CustomerHistory c;
  c.contact_id = "C1";
  for (const auto& [at, id] : std::vector<std::pair<absl::Time, std::string>>{
           {Day(2026, 1, 1), "O1"}, {Day(2026, 1, 11), "O2"}, {Day(2026, 3, 1), "O3"}}) {
    c.purchases.emplace_back(at, id);
    auto& p = ledger.emplace_back();
    p.set_order_id(id);
    projection::SetTimestamp(at, p.mutable_order_time());
    p.mutable_net()->set_currency_code("EUR");
    p.mutable_net()->set_minor_units(1000);
  }
  c.churn_risk_bp = [&](absl::Time at) {
    return ChurnRiskBp(*FactsOf(ledger, "EUR", absl::ToUnixNanos(at)), std::nullopt,
                       absl::ToUnixNanos(at));
  };
  av1::RuleTrigger half;
  half.mutable_churn_risk()->set_threshold_bp(5000);
  // After O2 the typical interval is 10 days: 50 % at 15 days, before O3 came. After O3 the
  // gaps are 10 and 49 days (typical 10: the lower middle): 50 % on 16 March. (Basis points are
  // rounded: 5000 is reached at 4999.5, two minutes before.)
  auto due = DueMoments(half, c, Day(2025, 1, 1), Day(2027, 1, 1), false);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].run_id, "C1:churn:O2");
  EXPECT_LE(absl::AbsDuration(due[0].due - Day(2026, 1, 26)), absl::Minutes(3));
  EXPECT_EQ(due[1].run_id, "C1:churn:O3");
  EXPECT_LE(absl::AbsDuration(due[1].due - Day(2026, 3, 16)), absl::Minutes(3));
  EXPECT_EQ(c.churn_risk_bp(due[1].due), 5000);
  EXPECT_LT(c.churn_risk_bp(due[1].due - absl::Seconds(1)), 5000);
  // The engine: the current lapse, once reached; not when reached before the enabling.
  due = DueMoments(half, c, Day(2026, 1, 1), Day(2026, 3, 20), true);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].order_id, "O3");
  EXPECT_TRUE(DueMoments(half, c, Day(2026, 1, 1), Day(2026, 3, 15), true).empty());
  EXPECT_TRUE(DueMoments(half, c, Day(2026, 3, 17), Day(2026, 6, 1), true).empty());
  // One purchase: no interval, no risk.
  c.purchases.resize(1);
  ledger.resize(1);
  EXPECT_TRUE(DueMoments(half, c, Day(2025, 1, 1), Day(2030, 1, 1), false).empty());
  const TimeDue lapse{"C1:churn:O1", Day(2026, 2, 1), "O1"};
  EXPECT_EQ(TimeEvent("t", half, "C1", lapse).event_type(), "time.churn_risk");
}

TEST(SegmentTriggerTest, MovesAreTheDifferenceFromWhatTheRuleLastSaw) {
  std::map<std::string, av1::SegmentMemberRecord> seen;
  seen["A"].set_member(true);
  seen["B"].set_member(false);  // left once
  seen["C"].set_member(true);
  const SegmentMoves moves = DiffMembers(seen, {"A", "B", "D"});
  EXPECT_EQ(moves.joined, (std::vector<std::string>{"B", "D"}));
  EXPECT_EQ(moves.left, (std::vector<std::string>{"C"}));
  EXPECT_EQ(SegmentRunId("B", true, 3), "B:joined:3");
  const EventEnvelope e = SegmentEvent("t", "C", false, 2, Day(2026, 5, 1));
  EXPECT_EQ(e.event_id(), "C:left:2");
  EXPECT_EQ(e.event_type(), "segment.left");
  EXPECT_EQ(e.aggregate_id(), "C");
}

TEST_F(RuleProjectionTest, ASegmentTriggerKeepsTheMembersItSawAndLooksAfreshWhenEnabled) {
  av1::RuleCreated created;
  *created.mutable_rule() = TaskRule("sam");
  created.mutable_rule()->mutable_trigger()->mutable_segment_change()->set_segment_id("S1");
  created.mutable_rule()->mutable_trigger()->mutable_segment_change()->set_change(
      av1::SEGMENT_CHANGE_JOINED);
  ASSERT_TRUE(Apply(Event("V1", "R1", created, 0)).ok());
  ASSERT_TRUE(Apply(Event("V2", "R1", av1::RuleEnabled(), 1)).ok());
  EXPECT_FALSE(Rule().has_segment_watch_time());
  // The first look, in two chunks: A and B are members; acting starts after the last chunk.
  av1::RuleSegmentScanned look;
  auto* a = look.add_moves();
  a->set_contact_id("A");
  a->set_member(true);
  ASSERT_TRUE(Apply(Event("V3", "R1", look, 2)).ok());
  EXPECT_FALSE(Rule().has_segment_watch_time());
  look.mutable_moves(0)->set_contact_id("B");
  look.set_baseline_complete(true);
  ASSERT_TRUE(Apply(Event("V4", "R1", look, 3)).ok());
  EXPECT_EQ(Rule().segment_watch_time().seconds(), 1700000000);
  // C joins: a run, recorded with the move in one event.
  av1::RuleTriggered triggered = PlanRun(Rule(), SegmentEvent("t", "C", true, 1, Day(2026, 5, 1)),
                                         Match{"C", "", "", "", "sam"});
  triggered.mutable_segment_move()->set_contact_id("C");
  triggered.mutable_segment_move()->set_member(true);
  ASSERT_TRUE(Apply(Event("V5", "R1", triggered, 4)).ok());
  EXPECT_EQ(Rule().run_count(), 1);
  ASSERT_TRUE(rules_->GetRun("t", "R1", "C:joined:1")->has_value());
  // B leaves (not acted on by a JOINED rule).
  av1::RuleSegmentScanned left;
  left.add_moves()->set_contact_id("B");
  ASSERT_TRUE(Apply(Event("V6", "R1", left, 5)).ok());
  auto members = rules_->SegmentMembers("t", "R1");
  ASSERT_TRUE(members.ok());
  ASSERT_EQ(members->size(), 3u);
  EXPECT_TRUE(members->at("A").member());
  EXPECT_FALSE(members->at("B").member());
  EXPECT_EQ(members->at("B").changes(), 2);
  EXPECT_TRUE(members->at("C").member());
  EXPECT_EQ(members->at("C").changes(), 1);
  // Disabled and enabled again: the members stay, and the next look is a first look again.
  ASSERT_TRUE(Apply(Event("V7", "R1", av1::RuleDisabled(), 6)).ok());
  ASSERT_TRUE(Apply(Event("V8", "R1", av1::RuleEnabled(), 7)).ok());
  EXPECT_FALSE(Rule().has_segment_watch_time());
  EXPECT_EQ(rules_->SegmentMembers("t", "R1")->size(), 3u);
  EXPECT_TRUE(rules_->SegmentMembers("t", "R2")->empty());
}

}  // namespace
}  // namespace crm::analytics::automation

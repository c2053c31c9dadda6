#include "services/analytics/automation/triggers.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/projection/aggregate.h"
#include "common/projection/records.h"
#include "common/status/status_macros.h"
#include "crm/sales/v1/events.pb.h"

namespace crm::analytics::automation {

namespace av1 = crm::analytics::v1;
namespace sv1 = crm::sales::v1;
using crm::common::v1::EventEnvelope;

namespace {

constexpr char kOrderPlaced[] = "crm.sales.v1.OrderPlaced";
constexpr char kDealCreated[] = "crm.sales.v1.DealCreated";
constexpr char kDealStageMoved[] = "crm.sales.v1.DealStageMoved";
constexpr int64_t kNanosPerDay = 86400LL * 1000000000LL;

bool OrderMatches(const av1::OrderPlacedTrigger& t, const std::string& tenant,
                  const sv1::Order& order, const Facts& facts) {
  if (order.contact_id().empty()) return false;
  if (!t.product_ids().empty()) {
    bool found = false;
    for (const auto& line : order.line_items()) {
      for (const std::string& p : t.product_ids()) found |= line.product_id() == p;
    }
    if (!found) return false;
  }
  if (!t.categories().empty()) {
    bool found = false;
    for (const auto& line : order.line_items()) {
      const std::string category =
          absl::AsciiStrToLower(facts.category_of(tenant, line.product_id()));
      if (category.empty()) continue;
      for (const std::string& c : t.categories()) found |= absl::AsciiStrToLower(c) == category;
    }
    if (!found) return false;
  }
  if (t.has_min_total()) {
    if (order.total().currency_code() != t.min_total().currency_code() ||
        order.total().minor_units() < t.min_total().minor_units()) {
      return false;
    }
  }
  return true;
}

// MatchTrigger without the customer condition.
absl::StatusOr<std::optional<Match>> MatchEvent(const av1::RuleTrigger& trigger,
                                                const EventEnvelope& event, const Facts& facts) {
  const std::string& type = event.event_type();
  Match match;
  if (trigger.has_order_placed() && type == kOrderPlaced) {
    absl::StatusOr<sv1::OrderPlaced> placed = projection::UnpackPayload<sv1::OrderPlaced>(event);
    if (!placed.ok()) return placed.status();
    if (!OrderMatches(trigger.order_placed(), event.tenant(), placed->order(), facts)) {
      return std::nullopt;
    }
    match.contact_id = placed->order().contact_id();
    match.order_id = event.aggregate_id();
    match.owner = facts.owner_of(event.tenant(), match.contact_id);
    return match;
  }
  if (trigger.has_deal_stage_entered() && (type == kDealCreated || type == kDealStageMoved)) {
    std::optional<sv1::Deal> deal;
    std::string stage;
    if (type == kDealCreated) {
      absl::StatusOr<sv1::DealCreated> created = projection::UnpackPayload<sv1::DealCreated>(event);
      if (!created.ok()) return created.status();
      deal = created->deal();
      stage = created->deal().stage_id();
    } else {
      absl::StatusOr<sv1::DealStageMoved> moved =
          projection::UnpackPayload<sv1::DealStageMoved>(event);
      if (!moved.ok()) return moved.status();
      stage = moved->stage_id();
      deal = facts.deal(event.tenant(), event.aggregate_id());
    }
    if (stage != trigger.deal_stage_entered().stage_id()) return std::nullopt;
    match.deal_id = event.aggregate_id();
    if (deal) {
      match.contact_id = deal->contact_id();
      match.owner = deal->owner();
    }
    if (match.owner.empty() && !match.contact_id.empty()) {
      match.owner = facts.owner_of(event.tenant(), match.contact_id);
    }
    return match;
  }
  return std::nullopt;
}

}  // namespace

const std::vector<std::string>& RuleTopics() {
  static const auto* topics = new std::vector<std::string>{"crm.sales.v1"};
  return *topics;
}

std::vector<std::string> TriggerEventTypes(const av1::RuleTrigger& trigger) {
  switch (trigger.kind_case()) {
    case av1::RuleTrigger::kOrderPlaced:
      return {kOrderPlaced};
    case av1::RuleTrigger::kDealStageEntered:
      return {kDealCreated, kDealStageMoved};
    case av1::RuleTrigger::kNoPurchase:  // time and segment triggers read no topic
    case av1::RuleTrigger::kAnniversary:
    case av1::RuleTrigger::kCaseSlaBreach:
    case av1::RuleTrigger::kChurnRisk:
    case av1::RuleTrigger::kSegmentChange:
    case av1::RuleTrigger::KIND_NOT_SET:
      break;
  }
  return {};
}

std::string TriggerTopic(const av1::RuleTrigger& trigger) {
  return trigger.has_order_placed() || trigger.has_deal_stage_entered() ? "crm.sales.v1" : "";
}

absl::StatusOr<std::optional<Match>> MatchTrigger(const av1::RuleTrigger& trigger,
                                                  const EventEnvelope& event, const Facts& facts) {
  ASSIGN_OR_RETURN(std::optional<Match> match, MatchEvent(trigger, event, facts));
  if (!match || trigger.customer_segment_id().empty()) return match;
  ASSIGN_OR_RETURN(const bool meets,
                   MeetsCustomerCondition(trigger, facts, event.tenant(), match->contact_id,
                                          projection::TimeOf(event.occurred_at())));
  if (!meets) return std::nullopt;
  return match;
}

absl::StatusOr<bool> MeetsCustomerCondition(const av1::RuleTrigger& trigger, const Facts& facts,
                                            const std::string& tenant,
                                            const std::string& contact_id, absl::Time at) {
  if (trigger.customer_segment_id().empty()) return true;
  if (contact_id.empty()) return false;
  ASSIGN_OR_RETURN(
      const av1::Segment segment,
      SegmentOf(facts, tenant, trigger.customer_segment_id(), "rule.trigger.customer_segment_id"));
  return facts.is_member(tenant, segment.filter(), contact_id, at);
}

std::string FillTemplate(const std::string& text, const av1::Rule& rule, const Match& match) {
  return absl::StrReplaceAll(text, {{"{contact_id}", match.contact_id},
                                    {"{order_id}", match.order_id},
                                    {"{deal_id}", match.deal_id},
                                    {"{case_id}", match.case_id},
                                    {"{rule_name}", rule.name()}});
}

absl::StatusOr<av1::Segment> SegmentOf(const Facts& facts, const std::string& tenant,
                                       const std::string& segment_id, const char* field) {
  std::optional<av1::Segment> segment = facts.segment(tenant, segment_id);
  if (!segment) {
    return absl::NotFoundError(absl::StrCat(field, ": segment ", segment_id, " does not exist"));
  }
  return *std::move(segment);
}

av1::RuleTriggered PlanRun(const av1::Rule& rule, const EventEnvelope& event, const Match& match) {
  av1::RuleTriggered triggered;
  av1::RuleRun& run = *triggered.mutable_run();
  run.set_id(event.event_id());
  run.set_rule_id(rule.id());
  run.set_event_type(event.event_type());
  run.set_aggregate_id(event.aggregate_id());
  run.set_contact_id(match.contact_id);
  *run.mutable_event_time() = event.occurred_at();
  run.set_state(av1::RULE_RUN_STATE_PENDING);
  if (rule.trigger().has_delay() && rule.trigger().delay().seconds() > 0) {
    const absl::Time due =
        projection::TimeOf(event.occurred_at()) + absl::Seconds(rule.trigger().delay().seconds());
    projection::SetTimestamp(due, run.mutable_due_time());
    *run.mutable_next_attempt_time() = run.due_time();
  }
  for (int i = 0; i < rule.actions_size(); ++i) {
    const av1::RuleAction& action = rule.actions(i);
    av1::RuleActionResult& result = *run.add_results();
    result.set_index(i);
    av1::PlannedAction& planned = *triggered.add_planned();
    if (action.has_notify_partners()) {
      av1::RuleNotification& n = *planned.mutable_notify();
      n.set_rule_id(rule.id());
      n.set_run_id(event.event_id());
      n.set_label(action.notify_partners().label());
      n.set_event_type(event.event_type());
      n.set_aggregate_id(event.aggregate_id());
      n.set_contact_id(match.contact_id);
      *n.mutable_event_time() = event.occurred_at();
    }
    if (action.has_tag_contact() || action.has_set_lifecycle_stage()) {
      if (match.contact_id.empty()) {
        result.set_error("the event concerns no customer");
        continue;
      }
      av1::PlannedContactChange& change = *planned.mutable_change_contact();
      change.set_contact_id(match.contact_id);
      if (action.has_tag_contact()) {
        change.set_add_tag(absl::AsciiStrToLower(action.tag_contact().tag()));
      } else {
        change.set_lifecycle_stage(action.set_lifecycle_stage().stage());
      }
    }
    if (action.has_send_message()) {
      if (match.contact_id.empty()) {
        result.set_error("the event concerns no customer");
        continue;
      }
      const av1::SendMessageAction& a = action.send_message();
      av1::PlannedMessage& message = *planned.mutable_send_message();
      message.set_contact_id(match.contact_id);
      message.set_channel(a.channel());
      message.set_subject(FillTemplate(a.subject(), rule, match));
      message.set_body(FillTemplate(a.body(), rule, match));
    }
    if (action.has_create_task()) {
      const av1::CreateTaskAction& a = action.create_task();
      const std::string assignee = a.assignee().empty() ? match.owner : a.assignee();
      if (assignee.empty()) {
        result.set_error(
            "create_task: no assignee (the action names none and the customer "
            "has no owner)");
        continue;
      }
      crm::interaction::v1::Task& task = *planned.mutable_create_task();
      task.set_kind(crm::interaction::v1::TASK_KIND_TASK);
      task.set_title(FillTemplate(a.title(), rule, match));
      task.set_description(FillTemplate(a.description(), rule, match));
      task.set_assignee(assignee);
      task.set_contact_id(match.contact_id);
      task.set_deal_id(match.deal_id);
      task.set_case_id(match.case_id);
      const int64_t due =
          projection::TimestampNanos(event.occurred_at()) + a.due_in_days() * kNanosPerDay;
      task.mutable_due_time()->set_seconds(due / 1000000000);
      task.mutable_due_time()->set_nanos(static_cast<int32_t>(due % 1000000000));
    }
  }
  return triggered;
}

}  // namespace crm::analytics::automation

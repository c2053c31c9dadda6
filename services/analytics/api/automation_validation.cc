#include "services/analytics/api/automation_validation.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "common/money/money.h"
#include "common/projection/aggregate.h"
#include "common/status/status_macros.h"
#include "services/analytics/automation/messages.h"

namespace crm::analytics {

using automation::ParseClock;
using validation::Invalid;
namespace av1 = crm::analytics::v1;

namespace {

constexpr int kMaxConditions = 100;
constexpr int kMaxActions = 10;
constexpr int kMaxDueDays = 3650;

// An id of another service's record named in a rule (a product, a stage), or of a message.
absl::Status CheckRef(const std::string& field, const std::string& id, size_t max = 64) {
  if (id.empty()) return Invalid(field, "is required");
  if (id.size() > max) return Invalid(field, absl::StrCat("must be at most ", max, " characters"));
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return Invalid(field, "must be printable ASCII without spaces");
  }
  return absl::OkStatus();
}

absl::Status CheckTrigger(const av1::RuleTrigger& t) {
  if (t.has_delay()) {
    const auto& d = t.delay();
    if (d.nanos() != 0 || d.seconds() < 0 || d.seconds() > int64_t{kMaxDueDays} * 86400) {
      return Invalid("rule.trigger.delay",
                     absl::StrCat("must be whole seconds, 0 to ", kMaxDueDays, " days"));
    }
  }
  if (!t.customer_segment_id().empty()) {
    RETURN_IF_ERROR(CheckRef("rule.trigger.customer_segment_id", t.customer_segment_id()));
    if (t.has_segment_change()) {
      return Invalid("rule.trigger.customer_segment_id",
                     "must be empty with segment_change (its segment is the trigger)");
    }
  }
  switch (t.kind_case()) {
    case av1::RuleTrigger::kOrderPlaced: {
      const av1::OrderPlacedTrigger& o = t.order_placed();
      if (o.product_ids_size() > kMaxConditions) {
        return Invalid("rule.trigger.order_placed.product_ids",
                       absl::StrCat("at most ", kMaxConditions, " entries"));
      }
      for (int i = 0; i < o.product_ids_size(); ++i) {
        RETURN_IF_ERROR(CheckRef(absl::StrCat("rule.trigger.order_placed.product_ids[", i, "]"),
                                 o.product_ids(i)));
      }
      if (o.categories_size() > kMaxConditions) {
        return Invalid("rule.trigger.order_placed.categories",
                       absl::StrCat("at most ", kMaxConditions, " entries"));
      }
      for (int i = 0; i < o.categories_size(); ++i) {
        RETURN_IF_ERROR(validation::CheckText(
            absl::StrCat("rule.trigger.order_placed.categories[", i, "]"), o.categories(i), 100,
            /*required=*/true));
      }
      if (o.has_min_total()) {
        RETURN_IF_ERROR(money::Validate("rule.trigger.order_placed.min_total", o.min_total()));
        if (o.min_total().minor_units() < 0) {
          return Invalid("rule.trigger.order_placed.min_total.minor_units", "must not be negative");
        }
      }
      return absl::OkStatus();
    }
    case av1::RuleTrigger::kDealStageEntered:
      return CheckRef("rule.trigger.deal_stage_entered.stage_id",
                      t.deal_stage_entered().stage_id());
    case av1::RuleTrigger::kNoPurchase:
      if (t.no_purchase().days() < 1 || t.no_purchase().days() > kMaxDueDays) {
        return Invalid("rule.trigger.no_purchase.days", absl::StrCat("must be 1 to ", kMaxDueDays));
      }
      return absl::OkStatus();
    case av1::RuleTrigger::kAnniversary:
      if (t.anniversary().kind() == av1::ANNIVERSARY_KIND_UNSPECIFIED ||
          !av1::AnniversaryKind_IsValid(t.anniversary().kind())) {
        return Invalid("rule.trigger.anniversary.kind",
                       "is required: ANNIVERSARY_KIND_FIRST_PURCHASE or "
                       "ANNIVERSARY_KIND_CONTACT_CREATED");
      }
      return absl::OkStatus();
    case av1::RuleTrigger::kCaseSlaBreach:
      if (!av1::SlaTarget_IsValid(t.case_sla_breach().target())) {
        return Invalid("rule.trigger.case_sla_breach.target",
                       absl::StrCat(t.case_sla_breach().target(), " is not an SlaTarget"));
      }
      return absl::OkStatus();
    case av1::RuleTrigger::kChurnRisk:
      if (t.churn_risk().threshold_bp() < 1 || t.churn_risk().threshold_bp() > 10000) {
        return Invalid("rule.trigger.churn_risk.threshold_bp",
                       "must be 1 to 10000 (basis points of risk)");
      }
      return absl::OkStatus();
    case av1::RuleTrigger::kSegmentChange:
      if (t.segment_change().change() == av1::SEGMENT_CHANGE_UNSPECIFIED ||
          !av1::SegmentChange_IsValid(t.segment_change().change())) {
        return Invalid("rule.trigger.segment_change.change",
                       "is required: SEGMENT_CHANGE_JOINED or SEGMENT_CHANGE_LEFT");
      }
      return CheckRef("rule.trigger.segment_change.segment_id", t.segment_change().segment_id());
    case av1::RuleTrigger::KIND_NOT_SET:
      break;
  }
  return Invalid("rule.trigger",
                 "is required: set order_placed, deal_stage_entered, no_purchase, anniversary, "
                 "case_sla_breach, churn_risk or segment_change");
}

absl::Status CheckSendMessage(const std::string& field, const av1::SendMessageAction& a) {
  const bool sms = a.channel() == crm::contact::v1::CONSENT_CHANNEL_SMS;
  if (a.channel() != crm::contact::v1::CONSENT_CHANNEL_EMAIL && !sms) {
    return Invalid(field + ".channel", "is required: CONSENT_CHANNEL_EMAIL or CONSENT_CHANNEL_SMS");
  }
  if (sms && !a.subject().empty()) {
    return Invalid(field + ".subject", "must be empty for an SMS (it has no subject)");
  }
  RETURN_IF_ERROR(validation::CheckText(field + ".subject", a.subject(), 200, /*required=*/false));
  if (a.body().size() > 65536) return Invalid(field + ".body", "must be at most 65536 bytes");
  return validation::CheckText(field + ".body", a.body(), sms ? 1600 : 65536, /*required=*/true);
}

absl::Status CheckActions(const google::protobuf::RepeatedPtrField<av1::RuleAction>& actions) {
  if (actions.empty()) return Invalid("rule.actions", "name at least one action");
  if (actions.size() > kMaxActions) {
    return Invalid("rule.actions", absl::StrCat("at most ", kMaxActions, " actions"));
  }
  for (int i = 0; i < actions.size(); ++i) {
    const std::string field = absl::StrCat("rule.actions[", i, "]");
    if (actions[i].has_tag_contact()) {
      RETURN_IF_ERROR(validation::CheckText(field + ".tag_contact.tag",
                                            actions[i].tag_contact().tag(), 64, /*required=*/true));
      continue;
    }
    if (actions[i].has_notify_partners()) {
      RETURN_IF_ERROR(validation::CheckText(field + ".notify_partners.label",
                                            actions[i].notify_partners().label(), 100,
                                            /*required=*/true));
      continue;
    }
    if (actions[i].has_send_message()) {
      RETURN_IF_ERROR(CheckSendMessage(field + ".send_message", actions[i].send_message()));
      continue;
    }
    if (actions[i].has_set_lifecycle_stage()) {
      const auto stage = actions[i].set_lifecycle_stage().stage();
      if (stage == crm::contact::v1::LIFECYCLE_STAGE_UNSPECIFIED ||
          !crm::contact::v1::LifecycleStage_IsValid(stage)) {
        return Invalid(field + ".set_lifecycle_stage.stage",
                       "is required: a LifecycleStage such as LIFECYCLE_STAGE_CUSTOMER");
      }
      continue;
    }
    if (!actions[i].has_create_task()) {
      return Invalid(field,
                     "set an action: create_task, tag_contact, set_lifecycle_stage, "
                     "notify_partners or send_message");
    }
    const av1::CreateTaskAction& a = actions[i].create_task();
    RETURN_IF_ERROR(
        validation::CheckText(field + ".create_task.title", a.title(), 200, /*required=*/true));
    if (a.description().size() > 65536) {
      return Invalid(field + ".create_task.description", "must be at most 65536 bytes");
    }
    RETURN_IF_ERROR(validation::CheckText(field + ".create_task.description", a.description(),
                                          65536, /*required=*/false));
    if (!a.assignee().empty()) {
      RETURN_IF_ERROR(
          validation::CheckPrincipal(field + ".create_task.assignee", a.assignee(), 128));
    }
    if (a.due_in_days() < 0 || a.due_in_days() > kMaxDueDays) {
      return Invalid(field + ".create_task.due_in_days",
                     absl::StrCat("must be 0 to ", kMaxDueDays));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckOutputOnly(const av1::Rule& r) {
  if (r.enabled() || r.version() != 0 || r.has_create_time() || r.has_update_time() ||
      r.run_count() != 0 || r.dead_letter_count() != 0) {
    return Invalid("rule.enabled",
                   "enabled, version, create_time, update_time, run_count and dead_letter_count "
                   "are output only (use EnableRule, DisableRule)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateCreateRule(const av1::CreateRuleRequest& request) {
  RETURN_IF_ERROR(validation::CheckRequestId(request.request_id()));
  if (!request.has_rule()) return Invalid("rule", "is required");
  const av1::Rule& r = request.rule();
  if (!r.id().empty()) return Invalid("rule.id", "must be empty; the service assigns ids");
  RETURN_IF_ERROR(CheckOutputOnly(r));
  RETURN_IF_ERROR(validation::CheckText("rule.name", r.name(), 200, /*required=*/true));
  RETURN_IF_ERROR(CheckTrigger(r.trigger()));
  return CheckActions(r.actions());
}

absl::Status ValidateGetRule(const av1::GetRuleRequest& request) {
  return validation::CheckId("id", request.id(), "rule");
}

absl::Status ValidateUpdateRule(const av1::UpdateRuleRequest& request) {
  RETURN_IF_ERROR(validation::CheckWriteCommon(request.request_id(), request.expected_version()));
  if (!request.has_rule()) return Invalid("rule", "is required");
  const av1::Rule& r = request.rule();
  RETURN_IF_ERROR(validation::CheckId("rule.id", r.id(), "rule"));
  RETURN_IF_ERROR(CheckOutputOnly(r));
  if (request.update_mask().paths().empty()) {
    return Invalid("update_mask", "name at least one field: name, trigger, actions");
  }
  std::set<std::string> seen;
  for (const std::string& path : request.update_mask().paths()) {
    if (!seen.insert(path).second) {
      return Invalid("update_mask", absl::StrCat("\"", path, "\" is repeated"));
    }
    if (path == "name") {
      RETURN_IF_ERROR(validation::CheckText("rule.name", r.name(), 200, /*required=*/true));
    } else if (path == "trigger") {
      RETURN_IF_ERROR(CheckTrigger(r.trigger()));
    } else if (path == "actions") {
      RETURN_IF_ERROR(CheckActions(r.actions()));
    } else {
      return Invalid("update_mask",
                     absl::StrCat("\"", path.substr(0, 100),
                                  "\" cannot be changed; the fields are name, trigger, actions"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateEnableRule(const av1::EnableRuleRequest& request) {
  RETURN_IF_ERROR(validation::CheckWriteCommon(request.request_id(), request.expected_version()));
  return validation::CheckId("id", request.id(), "rule");
}

absl::Status ValidateDisableRule(const av1::DisableRuleRequest& request) {
  RETURN_IF_ERROR(validation::CheckWriteCommon(request.request_id(), request.expected_version()));
  return validation::CheckId("id", request.id(), "rule");
}

absl::StatusOr<validation::ValidPage> ValidateListRules(const av1::ListRulesRequest& request) {
  return validation::ReadPage(request, 'R', 1000, 50);
}

absl::StatusOr<size_t> ValidateTestRule(const av1::TestRuleRequest& request) {
  if (request.rule_id().empty() == !request.has_rule()) {
    return Invalid("rule_id", "name an existing rule, or give `rule` instead (one of the two)");
  }
  if (!request.rule_id().empty()) {
    RETURN_IF_ERROR(validation::CheckId("rule_id", request.rule_id(), "rule"));
  } else {
    RETURN_IF_ERROR(
        validation::CheckText("rule.name", request.rule().name(), 200, /*required=*/false));
    RETURN_IF_ERROR(CheckTrigger(request.rule().trigger()));
    RETURN_IF_ERROR(CheckActions(request.rule().actions()));
  }
  if (!request.has_start_time()) return Invalid("start_time", "is required");
  if (!request.has_end_time()) return Invalid("end_time", "is required");
  RETURN_IF_ERROR(validation::CheckTimestamp("start_time", request.start_time()));
  RETURN_IF_ERROR(validation::CheckTimestamp("end_time", request.end_time()));
  if (projection::TimestampNanos(request.end_time()) <=
      projection::TimestampNanos(request.start_time())) {
    return Invalid("end_time", "must be after start_time");
  }
  if (request.max_customers() < 0 || request.max_customers() > 1000) {
    return Invalid("max_customers", "must be 0 to 1000");
  }
  return request.max_customers() == 0 ? size_t{100} : static_cast<size_t>(request.max_customers());
}

absl::StatusOr<validation::ValidPage> ValidateListRuleRuns(
    const av1::ListRuleRunsRequest& request) {
  RETURN_IF_ERROR(validation::CheckId("rule_id", request.rule_id(), "rule"));
  if (!av1::RuleRunState_IsValid(request.state())) {
    return Invalid("state", absl::StrCat(request.state(), " is not a RuleRunState"));
  }
  return validation::ReadPage(request, 'N', 1000, 50);
}

absl::Status ValidateGetMessagingPolicy(const av1::GetMessagingPolicyRequest&) {
  return absl::OkStatus();
}

absl::Status ValidateUpdateMessagingPolicy(const av1::UpdateMessagingPolicyRequest& request) {
  RETURN_IF_ERROR(validation::CheckWriteCommon(request.request_id(), request.expected_version()));
  if (!request.has_policy()) return Invalid("policy", "is required");
  const av1::MessagingPolicy& p = request.policy();
  if (!p.time_zone().empty()) {
    absl::TimeZone zone;
    if (p.time_zone().size() > 64 || !absl::LoadTimeZone(p.time_zone(), &zone)) {
      return Invalid("policy.time_zone",
                     "is not a known IANA time zone such as \"Europe/Berlin\" (empty: UTC)");
    }
  }
  if (p.quiet_hours_start().empty() != p.quiet_hours_end().empty()) {
    return Invalid(
        p.quiet_hours_start().empty() ? "policy.quiet_hours_start" : "policy.quiet_hours_end",
        "is required with the other end of the quiet hours");
  }
  if (!p.quiet_hours_start().empty()) {
    if (absl::Status s = ParseClock(p.quiet_hours_start()).status(); !s.ok()) {
      return Invalid("policy.quiet_hours_start", std::string(s.message()));
    }
    if (absl::Status s = ParseClock(p.quiet_hours_end()).status(); !s.ok()) {
      return Invalid("policy.quiet_hours_end", std::string(s.message()));
    }
  }
  if (p.max_messages_per_customer() < 0 || p.max_messages_per_customer() > 1000) {
    return Invalid("policy.max_messages_per_customer", "must be 0 (no cap) to 1000");
  }
  if (p.max_messages_per_customer() == 0) {
    if (p.has_cap_period()) {
      return Invalid("policy.cap_period", "is set only with max_messages_per_customer");
    }
    return absl::OkStatus();
  }
  if (!p.has_cap_period()) {
    return Invalid("policy.cap_period", "is required with max_messages_per_customer");
  }
  const auto& d = p.cap_period();
  if (d.nanos() != 0 || d.seconds() < 3600 || d.seconds() > int64_t{365} * 86400) {
    return Invalid("policy.cap_period", "must be whole seconds, 1 hour to 365 days");
  }
  return absl::OkStatus();
}

absl::Status ValidateGetMessage(const av1::GetMessageRequest& request) {
  return CheckRef("id", request.id(), 128);
}

absl::StatusOr<validation::ValidPage> ValidateListMessages(
    const av1::ListMessagesRequest& request) {
  if (!request.contact_id().empty()) {
    RETURN_IF_ERROR(validation::CheckId("contact_id", request.contact_id(), "contact"));
  }
  if (!request.rule_id().empty()) {
    RETURN_IF_ERROR(validation::CheckId("rule_id", request.rule_id(), "rule"));
  }
  if (!request.campaign_id().empty()) {
    RETURN_IF_ERROR(validation::CheckId("campaign_id", request.campaign_id(), "campaign"));
  }
  return validation::ReadPage(request, 'M', 1000, 50);
}

absl::Status ValidateReportMessageStatus(const av1::ReportMessageStatusRequest& request) {
  RETURN_IF_ERROR(validation::CheckRequestId(request.request_id()));
  RETURN_IF_ERROR(CheckRef("message_id", request.message_id(), 128));
  const av1::MessageState state = request.state();
  if (state != av1::MESSAGE_STATE_DELIVERED && state != av1::MESSAGE_STATE_FAILED &&
      state != av1::MESSAGE_STATE_OPENED) {
    return Invalid("state",
                   "is required: MESSAGE_STATE_DELIVERED, MESSAGE_STATE_FAILED or "
                   "MESSAGE_STATE_OPENED");
  }
  RETURN_IF_ERROR(validation::CheckText("detail", request.detail(), 1000,
                                        /*required=*/state == av1::MESSAGE_STATE_FAILED));
  if (request.has_time()) {
    RETURN_IF_ERROR(validation::CheckTimestamp("time", request.time()));
    if (projection::TimeOf(request.time()) > absl::Now() + absl::Minutes(5)) {
      return Invalid("time", "must not be in the future");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateLaunchCampaign(const av1::LaunchCampaignRequest& request) {
  RETURN_IF_ERROR(validation::CheckRequestId(request.request_id()));
  if (!request.has_campaign()) return Invalid("campaign", "is required");
  const av1::Campaign& c = request.campaign();
  if (!c.id().empty()) return Invalid("campaign.id", "must be empty; the service assigns ids");
  if (c.has_launch_time() || c.has_treatment() || c.has_holdout() || c.messages_sent() != 0 ||
      c.messages_skipped() != 0 || c.messages_pending() != 0 || c.without_consent() != 0 ||
      c.version() != 0) {
    return Invalid("campaign.launch_time",
                   "launch_time, treatment, holdout, messages_*, without_consent and version are "
                   "output only");
  }
  RETURN_IF_ERROR(validation::CheckText("campaign.name", c.name(), 200, /*required=*/true));
  if (c.segment_id().empty() == c.contact_ids().empty()) {
    return Invalid("campaign.segment_id",
                   "name the audience: a segment_id, or contact_ids instead (one of the two)");
  }
  if (!c.segment_id().empty()) {
    RETURN_IF_ERROR(validation::CheckId("campaign.segment_id", c.segment_id(), "segment"));
  }
  if (c.contact_ids_size() > 10000) {
    return Invalid("campaign.contact_ids", "at most 10000 entries");
  }
  for (int i = 0; i < c.contact_ids_size(); ++i) {
    RETURN_IF_ERROR(validation::CheckId(absl::StrCat("campaign.contact_ids[", i, "]"),
                                        c.contact_ids(i), "contact"));
  }
  av1::SendMessageAction message;
  message.set_channel(c.channel());
  message.set_subject(c.subject());
  message.set_body(c.body());
  RETURN_IF_ERROR(CheckSendMessage("campaign", message));
  if (c.holdout_percent() < 0 || c.holdout_percent() > 50) {
    return Invalid("campaign.holdout_percent", "must be 0 to 50");
  }
  if (!c.has_attribution_window()) return Invalid("campaign.attribution_window", "is required");
  const auto& w = c.attribution_window();
  if (w.nanos() != 0 || w.seconds() < 86400 || w.seconds() > int64_t{90} * 86400) {
    return Invalid("campaign.attribution_window", "must be whole seconds, 1 to 90 days");
  }
  return absl::OkStatus();
}

absl::Status ValidateGetCampaign(const av1::GetCampaignRequest& request) {
  return validation::CheckId("id", request.id(), "campaign");
}

absl::StatusOr<validation::ValidPage> ValidateListCampaigns(
    const av1::ListCampaignsRequest& request) {
  return validation::ReadPage(request, 'K', 1000, 50);
}

}  // namespace crm::analytics

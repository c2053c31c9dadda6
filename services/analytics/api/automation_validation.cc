#include "services/analytics/api/automation_validation.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "common/money/money.h"
#include "common/projection/aggregate.h"
#include "common/status/status_macros.h"

namespace crm::analytics {

using validation::Invalid;
namespace av1 = crm::analytics::v1;

namespace {

constexpr int kMaxConditions = 100;
constexpr int kMaxActions = 10;
constexpr int kMaxDueDays = 3650;

// An id of another service's record named in a rule (a product, a stage).
absl::Status CheckRef(const std::string& field, const std::string& id) {
  if (id.empty()) return Invalid(field, "is required");
  if (id.size() > 64) return Invalid(field, "must be at most 64 characters");
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
    case av1::RuleTrigger::KIND_NOT_SET:
      break;
  }
  return Invalid("rule.trigger", "is required: set order_placed or deal_stage_entered");
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
                     "set an action: create_task, tag_contact, set_lifecycle_stage or "
                     "notify_partners");
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

}  // namespace crm::analytics

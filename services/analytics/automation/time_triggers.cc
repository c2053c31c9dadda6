#include "services/analytics/automation/time_triggers.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/projection/aggregate.h"

namespace crm::analytics::automation {

namespace av1 = crm::analytics::v1;

bool IsTimeTrigger(const av1::RuleTrigger& trigger) {
  return trigger.has_no_purchase() || trigger.has_anniversary() || trigger.has_case_sla_breach() ||
         trigger.has_churn_risk();
}

bool ReadsCases(const av1::RuleTrigger& trigger) { return trigger.has_case_sla_breach(); }

std::vector<TimeDue> CaseBreaches(const av1::CaseSlaBreachTrigger& trigger,
                                  const crm::interaction::v1::Case& c, absl::Time from,
                                  absl::Time to, bool current_only) {
  namespace iv1 = crm::interaction::v1;
  std::vector<TimeDue> out;
  // Breached when nothing came by the due time: nothing yet, or (looking back) later.
  auto check = [&](bool has_due, const google::protobuf::Timestamp& due_at, bool done,
                   const google::protobuf::Timestamp& done_at, const char* target) {
    if (!has_due) return;
    const absl::Time due = projection::TimeOf(due_at);
    if (due < from || due > to) return;
    if (done && (current_only || projection::TimeOf(done_at) <= due)) return;
    out.push_back({absl::StrCat(c.id(), ":sla:", target), due, ""});
  };
  const bool closed =
      c.status() == iv1::CASE_STATUS_RESOLVED || c.status() == iv1::CASE_STATUS_CLOSED;
  if (current_only && closed) return out;
  if (trigger.target() != av1::SLA_TARGET_RESOLUTION) {
    check(c.has_first_response_due(), c.first_response_due(), c.has_first_response_time(),
          c.first_response_time(), "first_response");
  }
  if (trigger.target() != av1::SLA_TARGET_FIRST_RESPONSE) {
    check(c.has_resolution_due(), c.resolution_due(), c.has_resolution_time(), c.resolution_time(),
          "resolution");
  }
  return out;
}

bool ReadsPurchases(const av1::RuleTrigger& trigger) {
  return trigger.has_no_purchase() || trigger.has_churn_risk() ||
         (trigger.has_anniversary() &&
          trigger.anniversary().kind() == av1::ANNIVERSARY_KIND_FIRST_PURCHASE);
}

std::vector<TimeDue> DueMoments(const av1::RuleTrigger& trigger, const CustomerHistory& customer,
                                absl::Time from, absl::Time to, bool current_only) {
  std::vector<TimeDue> out;
  const auto& bought = customer.purchases;
  if (trigger.has_no_purchase()) {
    const absl::Duration lapse = absl::Hours(24) * trigger.no_purchase().days();
    const size_t first = current_only && !bought.empty() ? bought.size() - 1 : 0;
    for (size_t i = first; i < bought.size(); ++i) {
      const absl::Time due = bought[i].first + lapse;
      // Ended by the next purchase before it fell due: no lapse.
      if (i + 1 < bought.size() && bought[i + 1].first < due) continue;
      if (due < from || due > to) continue;
      out.push_back(
          {absl::StrCat(customer.contact_id, ":lapse:", bought[i].second), due, bought[i].second});
    }
    return out;
  }
  if (trigger.has_churn_risk()) {
    const int32_t threshold = trigger.churn_risk().threshold_bp();
    if (!customer.churn_risk_bp) return out;
    const auto& risk = customer.churn_risk_bp;
    const size_t first = current_only && !bought.empty() ? bought.size() - 1 : 0;
    for (size_t i = first; i < bought.size(); ++i) {
      // The lapse after purchase i, within [from, to]: the risk grows through it.
      const absl::Time bought_at = bought[i].first;
      const absl::Time start = std::max(bought_at, from);
      absl::Time end = to;
      if (i + 1 < bought.size()) end = std::min(end, bought[i + 1].first - absl::Nanoseconds(1));
      if (start > end || risk(end) < threshold) continue;
      absl::Time below = start;
      if (risk(start) >= threshold) {
        if (start > bought_at) continue;  // reached before `from`
        below = start - absl::Nanoseconds(1);
      }
      // The first second at the threshold: risk(below) < threshold <= risk(at).
      absl::Time at = end;
      while (at - below > absl::Seconds(1)) {
        const absl::Time mid = below + (at - below) / 2;
        (risk(mid) >= threshold ? at : below) = mid;
      }
      out.push_back(
          {absl::StrCat(customer.contact_id, ":churn:", bought[i].second), at, bought[i].second});
    }
    return out;
  }
  if (!trigger.has_anniversary()) return out;
  const absl::Time origin = trigger.anniversary().kind() == av1::ANNIVERSARY_KIND_FIRST_PURCHASE
                                ? (bought.empty() ? absl::InfinitePast() : bought.front().first)
                                : customer.created;
  if (origin == absl::InfinitePast()) return out;
  const absl::CivilSecond start = absl::ToCivilSecond(origin, absl::UTCTimeZone());
  for (int years = 1; years <= 200; ++years) {
    // absl normalises 29 February in a year without it to 1 March.
    const absl::Time due =
        absl::FromCivil(absl::CivilSecond(start.year() + years, start.month(), start.day(),
                                          start.hour(), start.minute(), start.second()),
                        absl::UTCTimeZone());
    if (due > to) break;
    if (due < from) continue;
    if (current_only) out.clear();
    out.push_back({absl::StrCat(customer.contact_id, ":anniversary:", years), due, ""});
  }
  return out;
}

crm::common::v1::EventEnvelope TimeEvent(const std::string& tenant, const av1::RuleTrigger& trigger,
                                         const std::string& aggregate_id, const TimeDue& due) {
  crm::common::v1::EventEnvelope event;
  event.set_event_id(due.run_id);
  event.set_tenant(tenant);
  event.set_event_type(trigger.has_no_purchase()       ? "time.no_purchase"
                       : trigger.has_churn_risk()      ? "time.churn_risk"
                       : trigger.has_case_sla_breach() ? "time.case_sla_breach"
                                                       : "time.anniversary");
  event.set_aggregate_type(trigger.has_case_sla_breach() ? "case" : "contact");
  event.set_aggregate_id(aggregate_id);
  projection::SetTimestamp(due.due, event.mutable_occurred_at());
  return event;
}

}  // namespace crm::analytics::automation

// Time triggers: rules that fire when time passes rather than on an event — a customer who has
// not bought for N days (NoPurchaseTrigger), a customer's anniversary (AnniversaryTrigger), a
// customer's churn risk rising to a threshold (ChurnRiskTrigger), a case breaching its SLA. The
// pure part: when each falls due for a customer, and the stand-in event a due moment is planned
// from (PlanRun), so a time run is decided, recorded and performed like any other run.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "crm/analytics/v1/resources.pb.h"
#include "crm/common/v1/envelope.pb.h"
#include "crm/interaction/v1/resources.pb.h"

namespace crm::analytics::automation {

// What time triggers read of a customer.
struct CustomerHistory {
  std::string contact_id;
  // Purchases as (order time, order id), oldest first.
  std::vector<std::pair<absl::Time, std::string>> purchases;
  // When the contact was created (InfinitePast when unknown).
  absl::Time created = absl::InfinitePast();
  // The customer's churn risk in basis points at a time, from their purchases up to then (set
  // with the purchases; valid while the call that gave this history runs). It does not fall
  // between two purchases.
  std::function<int32_t(absl::Time)> churn_risk_bp;
};

// One moment a time trigger falls due for a customer.
struct TimeDue {
  // The run's id: "<contact>:lapse:<order id>", "<contact>:churn:<order id>" or
  // "<contact>:anniversary:<years>" — one run per lapse or anniversary, whatever is scanned
  // again.
  std::string run_id;
  absl::Time due;
  // For a lapse or a churn risk: the last order before it.
  std::string order_id;
};

bool IsTimeTrigger(const crm::analytics::v1::RuleTrigger& trigger);
// Whether the trigger reads cases (else customers).
bool ReadsCases(const crm::analytics::v1::RuleTrigger& trigger);
// Whether the trigger reads purchases (else the contact's creation).
bool ReadsPurchases(const crm::analytics::v1::RuleTrigger& trigger);

// The moments `trigger` falls due for `customer` within [from, to], oldest first. With
// `current_only` (what the engine acts on): only the lapse after the last purchase (one a later
// purchase ended is not acted on) and only the latest anniversary. A churn risk falls due when it
// first reaches the threshold after a purchase (to the second); one that reached it before
// `from` does not fall due again until the customer buys again.
std::vector<TimeDue> DueMoments(const crm::analytics::v1::RuleTrigger& trigger,
                                const CustomerHistory& customer, absl::Time from, absl::Time to,
                                bool current_only);

// The SLA breaches of case `c` due within [from, to]: run ids "<case>:sla:first_response" /
// "<case>:sla:resolution", due at the target's due time. With `current_only` (what the engine
// acts on) only those still in breach: no response yet, not resolved or closed; else also those
// answered or resolved late.
std::vector<TimeDue> CaseBreaches(const crm::analytics::v1::CaseSlaBreachTrigger& trigger,
                                  const crm::interaction::v1::Case& c, absl::Time from,
                                  absl::Time to, bool current_only);

// The event a due moment stands for, to plan its run from: id the run id, type
// "time.no_purchase", "time.churn_risk", "time.anniversary" or "time.case_sla_breach", aggregate
// `aggregate_id`
// (the customer, the case), occurred at the due time.
crm::common::v1::EventEnvelope TimeEvent(const std::string& tenant,
                                         const crm::analytics::v1::RuleTrigger& trigger,
                                         const std::string& aggregate_id, const TimeDue& due);

}  // namespace crm::analytics::automation

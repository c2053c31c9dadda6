// Trigger matching and action planning: the pure part of automation. Whether an event matches a
// rule's trigger, and what the rule's actions will do for it, decided from the event and the
// facts read for it (what the analytics projection knows when the engine reads the event), so
// it is tested without a store and recorded as decided (RuleTriggered).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "crm/analytics/v1/events.pb.h"
#include "crm/analytics/v1/resources.pb.h"
#include "crm/common/v1/envelope.pb.h"
#include "crm/contact/v1/resources.pb.h"
#include "crm/interaction/v1/resources.pb.h"
#include "crm/sales/v1/resources.pb.h"
#include "services/analytics/automation/time_triggers.h"

namespace crm::analytics::automation {

// The topics rules follow, and the event types each trigger kind reads.
const std::vector<std::string>& RuleTopics();
std::vector<std::string> TriggerEventTypes(const crm::analytics::v1::RuleTrigger& trigger);
// The topic of a trigger's events ("crm.sales.v1").
std::string TriggerTopic(const crm::analytics::v1::RuleTrigger& trigger);

// What matching reads besides the event.
struct Facts {
  // A product's category ("" when unknown).
  std::function<std::string(const std::string& tenant, const std::string& product_id)> category_of;
  // A deal as the projection holds it.
  std::function<std::optional<crm::sales::v1::Deal>(const std::string& tenant,
                                                    const std::string& deal_id)>
      deal;
  // A contact's owner ("" when unknown).
  std::function<std::string(const std::string& tenant, const std::string& contact_id)> owner_of;
  // A contact as the analytics projection holds it (consents, archived; no personal data).
  std::function<std::optional<crm::contact::v1::Contact>(const std::string& tenant,
                                                         const std::string& contact_id)>
      contact;
  // A segment as the projection holds it.
  std::function<std::optional<crm::analytics::v1::Segment>(const std::string& tenant,
                                                           const std::string& segment_id)>
      segment;
  // Whether customer `contact_id` meets `filter` at `as_of`.
  std::function<absl::StatusOr<bool>(const std::string& tenant,
                                     const crm::analytics::v1::SegmentFilter& filter,
                                     const std::string& contact_id, absl::Time as_of)>
      is_member;
  // Calls `fn` for each customer meeting `filter` at `as_of` (merged and deleted contacts are not
  // members), in contact id order, until it returns false.
  std::function<absl::Status(const std::string& tenant,
                             const crm::analytics::v1::SegmentFilter& filter, absl::Time as_of,
                             const std::function<bool(const crm::contact::v1::Contact&)>& fn)>
      members;
  // Calls `fn` for every customer of the tenant: those who bought, with their purchases
  // (`with_purchases`), else every contact with its creation time.
  std::function<absl::Status(const std::string& tenant, bool with_purchases,
                             const std::function<void(const CustomerHistory&)>& fn)>
      customers;
  // Calls `fn` for every case of the tenant.
  std::function<absl::Status(const std::string& tenant,
                             const std::function<void(const crm::interaction::v1::Case&)>& fn)>
      cases;
};

// Whether customer `contact_id` meets the trigger's customer_segment_id condition at `at` (true
// without one); NOT_FOUND when the segment no longer exists.
absl::StatusOr<bool> MeetsCustomerCondition(const crm::analytics::v1::RuleTrigger& trigger,
                                            const Facts& facts, const std::string& tenant,
                                            const std::string& contact_id, absl::Time at);

// Segment `segment_id` of `tenant`; NOT_FOUND naming `field` when there is none.
absl::StatusOr<crm::analytics::v1::Segment> SegmentOf(const Facts& facts, const std::string& tenant,
                                                      const std::string& segment_id,
                                                      const char* field);

// The run a matching event starts: its identity and the customer concerned.
struct Match {
  std::string contact_id;
  std::string order_id;
  std::string deal_id;
  std::string case_id;
  std::string owner;  // of the deal or case, else of the contact
};

// Whether `event` matches `trigger` (its customer_segment_id condition too, at the event's time);
// nullopt when it does not. INVALID_ARGUMENT when the event's payload does not decode, NOT_FOUND
// when the condition's segment no longer exists.
absl::StatusOr<std::optional<Match>> MatchTrigger(const crm::analytics::v1::RuleTrigger& trigger,
                                                  const crm::common::v1::EventEnvelope& event,
                                                  const Facts& facts);

// The run decided for `rule` and `event` (state PENDING, one result per action) and what each
// action will do. An action that cannot be planned (no assignee) is planned empty and its
// result carries the error: the run is then dead-lettered at its first attempt.
crm::analytics::v1::RuleTriggered PlanRun(const crm::analytics::v1::Rule& rule,
                                          const crm::common::v1::EventEnvelope& event,
                                          const Match& match);

// "{contact_id}", "{order_id}", "{deal_id}", "{case_id}", "{rule_name}" in `text` replaced.
std::string FillTemplate(const std::string& text, const crm::analytics::v1::Rule& rule,
                         const Match& match);

}  // namespace crm::analytics::automation

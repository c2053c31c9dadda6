// RuleProjection: the automation rules of every tenant and their runs, the part of the analytics
// projection that the automation engine and AutomationService read. Built only from the rule
// events on crm.analytics.v1 (aggregate type "rule": created, updated, enabled, disabled, each
// run decided, each attempt at a run's actions, each move of a read position), so a rebuild
// gives back every rule with its runs and where each stands. The runs not yet finished are the
// outbox the engine works through.
//
// Keys (tenant-prefixed, beside the analytics projection's own):
//   kState "R/" tenant \0 rule_id              -> RuleRecord
//   kState "U/" tenant \0 rule_id \0 run_id    -> RuleRunRecord (run_id: the event's id)
//   kState "N/" tenant \0 rule_id:run_id:index -> "" (a RuleNotification published)
//   kState "G/" tenant \0 rule_id \0 contact_id -> SegmentMemberRecord (as a SegmentChangeTrigger
//                                                 last saw the customer)
//   kIndex "P/" tenant \0 rule_id \0 due(BE64 ns) run_id -> "" (a run whose actions are to be
//                                                 done: the outbox, soonest first)
//
// Apply runs on the projector thread; the reads are thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/store/projection_store.h"
#include "crm/analytics/v1/events.pb.h"
#include "crm/analytics/v1/projection.pb.h"
#include "crm/common/v1/envelope.pb.h"

namespace crm::analytics::automation {

inline constexpr char kRuleAggregateType[] = "rule";
inline constexpr char kNotificationAggregateType[] = "notification";

// True for the event types this projection applies ("crm.analytics.v1.Rule...").
bool IsRuleEvent(std::string_view event_type);

class RuleProjection {
 public:
  explicit RuleProjection(store::ProjectionStore* store) : store_(store) {}

  // Applies one rule event. The decision: OK, or ABORTED when the event expects another
  // version of the rule, NOT_FOUND when there is none (then nothing is written).
  absl::StatusOr<absl::Status> Apply(const crm::common::v1::EventEnvelope& event,
                                     store::ProjectionStore::Batch& batch);

  absl::StatusOr<std::optional<crm::analytics::v1::RuleRecord>> GetRule(std::string_view tenant,
                                                                        std::string_view id) const;
  // The tenant's rules after id `after`, at most `limit`, in id order.
  absl::StatusOr<std::vector<crm::analytics::v1::RuleRecord>> ListRules(std::string_view tenant,
                                                                        std::string_view after,
                                                                        size_t limit) const;
  // Every rule of every tenant, as (tenant, record): what the engine works through.
  absl::StatusOr<std::vector<std::pair<std::string, crm::analytics::v1::RuleRecord>>> AllRules()
      const;

  absl::StatusOr<std::optional<crm::analytics::v1::RuleRunRecord>> GetRun(
      std::string_view tenant, std::string_view rule_id, std::string_view run_id) const;
  // The rule's runs after id `after` in `state` (every state when UNSPECIFIED), at most `limit`,
  // in run id order; reads at most `max_scanned` records: `scanned_to` is the last id read.
  struct RunPage {
    std::vector<crm::analytics::v1::RuleRun> runs;
    std::string scanned_to;
    bool at_end = false;
  };
  absl::StatusOr<RunPage> ListRuns(std::string_view tenant, std::string_view rule_id,
                                   crm::analytics::v1::RuleRunState state, std::string_view after,
                                   size_t limit, size_t max_scanned) const;
  // The customers the rule's SegmentChangeTrigger has seen, by contact id.
  absl::StatusOr<std::map<std::string, crm::analytics::v1::SegmentMemberRecord>> SegmentMembers(
      std::string_view tenant, std::string_view rule_id) const;
  // The rule's pending runs (actions to be done), at most `limit`, the soonest due first.
  absl::StatusOr<std::vector<crm::analytics::v1::RuleRunRecord>> PendingRuns(
      std::string_view tenant, std::string_view rule_id, size_t limit) const;

 private:
  // Records `move` on the customer's SegmentMemberRecord, counting the change.
  static absl::Status MoveMember(std::string_view tenant, std::string_view rule_id,
                                 const crm::analytics::v1::SegmentMove& move,
                                 store::ProjectionStore::Batch& batch);

  store::ProjectionStore* const store_;
};

}  // namespace crm::analytics::automation

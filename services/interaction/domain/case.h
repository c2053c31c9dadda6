// Support cases: the status machine, SLA targets per priority and breach computation. Pure.
//
// SLA due times come from the case's own events: the targets in force are stamped into the
// event that opens the case or changes its priority (from the service's configuration), so
// apply needs no configuration and every replica computes the same dues. Whether an answer came
// late is decided from event times at apply; whether an open case is late *now* depends on the
// time of the read (MarkBreaches).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crm/common/v1/envelope.pb.h"
#include "crm/interaction/v1/events.pb.h"
#include "crm/interaction/v1/resources.pb.h"

namespace crm::interaction {

using crm::interaction::v1::Case;
using crm::interaction::v1::CaseStatus;
using crm::interaction::v1::Priority;
using crm::interaction::v1::SlaTargets;

inline constexpr char kCaseAggregateType[] = "case";

// SLA targets per priority.
class SlaPolicy {
 public:
  // Urgent 1h/8h, high 4h/24h, normal 8h/72h, low 24h/168h (first response/resolution).
  static SlaPolicy Default();
  // Parses "urgent=1h,high=4h,..." for first response and for resolution; priorities not named
  // keep their default. INVALID_ARGUMENT names `first_flag` or `resolution_flag`.
  static absl::StatusOr<SlaPolicy> Parse(const std::string& first_response,
                                         const std::string& resolution,
                                         const std::string& first_flag,
                                         const std::string& resolution_flag);
  SlaTargets For(Priority priority) const;

 private:
  std::map<int, SlaTargets> targets_;
};

// Whether a case may move from `from` to `to`.
bool AllowedMove(CaseStatus from, CaseStatus to);

using crm::interaction::v1::CaseAssigned;
using crm::interaction::v1::CaseCommented;
using crm::interaction::v1::CaseOpened;
using crm::interaction::v1::CasePriorityChanged;
using crm::interaction::v1::CaseStatusChanged;

// `check_contact` checks the directory (as for interactions).
absl::StatusOr<CaseOpened> DecideOpenCase(
    const Case& requested, const std::string& id, const SlaPolicy& policy,
    const std::function<absl::Status(const std::string& field, const std::string& id)>&
        check_contact);
absl::StatusOr<CaseAssigned> DecideAssign(const std::optional<Case>& current, const std::string& id,
                                          const std::string& owner, int64_t expected_version);
absl::StatusOr<CaseCommented> DecideComment(const std::optional<Case>& current,
                                            const std::string& id,
                                            const crm::interaction::v1::CaseComment& comment,
                                            int64_t expected_version);
absl::StatusOr<CasePriorityChanged> DecidePriority(const std::optional<Case>& current,
                                                   const std::string& id, Priority priority,
                                                   const SlaPolicy& policy,
                                                   int64_t expected_version);
absl::StatusOr<CaseStatusChanged> DecideStatus(const std::optional<Case>& current,
                                               const std::string& id, CaseStatus status,
                                               int64_t expected_version);

// The case after one of its events (ABORTED on a version race; FAILED_PRECONDITION for a move
// the status machine does not allow).
absl::StatusOr<Case> ApplyCase(const std::optional<Case>& current,
                               const crm::common::v1::EventEnvelope& event);

// Sets the breach flags of targets still pending that `now` has passed.
void MarkBreaches(Case& c, absl::Time now);

// Whether `event_type` is a case event.
bool IsCaseEvent(std::string_view event_type);

}  // namespace crm::interaction

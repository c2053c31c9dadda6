// Segment triggers: rules that fire when a customer joins or leaves a segment
// (SegmentChangeTrigger). A segment is a filter evaluated on read, so the rule keeps the members
// it last saw (RuleProjection::SegmentMembers) and the engine compares them with the members now.
// The pure part: the moves between the two, and the stand-in event a move is planned from, so a
// segment run is decided, recorded and performed like any other run.
//
//   SegmentMoves moves = DiffMembers(seen, members_now);
//   for (const std::string& c : moves.joined) PlanRun(rule, SegmentEvent(tenant, c, true, n, now),
//   m);
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "crm/analytics/v1/projection.pb.h"
#include "crm/common/v1/envelope.pb.h"

namespace crm::analytics::automation {

// Who moved since the rule last looked, each in contact id order.
struct SegmentMoves {
  std::vector<std::string> joined;  // members now, not members then (or never seen)
  std::vector<std::string> left;    // members then, not members now
};

// The moves from `seen` (contact -> as the rule last saw them) to `members` (the members now).
SegmentMoves DiffMembers(const std::map<std::string, crm::analytics::v1::SegmentMemberRecord>& seen,
                         const std::set<std::string>& members);

// The run id of a customer's `changes`-th change seen by the rule: "<contact>:joined:<n>" or
// "<contact>:left:<n>".
std::string SegmentRunId(const std::string& contact_id, bool joined, int changes);

// The event a move stands for: id the run id, type "segment.joined" or "segment.left",
// aggregate the customer, occurred at `at` (when the engine saw it).
crm::common::v1::EventEnvelope SegmentEvent(const std::string& tenant,
                                            const std::string& contact_id, bool joined, int changes,
                                            absl::Time at);

}  // namespace crm::analytics::automation

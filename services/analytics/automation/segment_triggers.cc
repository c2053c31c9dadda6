#include "services/analytics/automation/segment_triggers.h"

#include "absl/strings/str_cat.h"
#include "common/projection/aggregate.h"

namespace crm::analytics::automation {

SegmentMoves DiffMembers(const std::map<std::string, crm::analytics::v1::SegmentMemberRecord>& seen,
                         const std::set<std::string>& members) {
  SegmentMoves moves;
  for (const std::string& id : members) {
    const auto it = seen.find(id);
    if (it == seen.end() || !it->second.member()) moves.joined.push_back(id);
  }
  for (const auto& [id, record] : seen) {
    if (record.member() && !members.contains(id)) moves.left.push_back(id);
  }
  return moves;
}

std::string SegmentRunId(const std::string& contact_id, bool joined, int changes) {
  return absl::StrCat(contact_id, joined ? ":joined:" : ":left:", changes);
}

crm::common::v1::EventEnvelope SegmentEvent(const std::string& tenant,
                                            const std::string& contact_id, bool joined, int changes,
                                            absl::Time at) {
  crm::common::v1::EventEnvelope event;
  event.set_event_id(SegmentRunId(contact_id, joined, changes));
  event.set_tenant(tenant);
  event.set_event_type(joined ? "segment.joined" : "segment.left");
  event.set_aggregate_type("contact");
  event.set_aggregate_id(contact_id);
  projection::SetTimestamp(at, event.mutable_occurred_at());
  return event;
}

}  // namespace crm::analytics::automation

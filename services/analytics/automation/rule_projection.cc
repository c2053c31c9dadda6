#include "services/analytics/automation/rule_projection.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/projection/aggregate.h"
#include "common/projection/projector.h"
#include "common/projection/records.h"
#include "common/status/status_macros.h"
#include "common/store/big_endian.h"
#include "common/store/keys.h"
#include "common/store/record_scan.h"
#include "crm/analytics/v1/events.pb.h"

namespace crm::analytics::automation {

namespace av1 = crm::analytics::v1;
using crm::common::v1::EventEnvelope;
using store::Cf;

namespace {

constexpr char kRule = 'R';
constexpr char kRun = 'U';
constexpr char kPending = 'P';
constexpr char kNotification = 'N';
constexpr char kSegmentMember = 'G';

std::string RunKey(char kind, std::string_view tenant, std::string_view rule_id,
                   std::string_view run_id) {
  return store::KindPrefix(kind, tenant, rule_id).append(run_id);
}

// The outbox entry of a run: ordered by when it is due (0: at once), then run id.
std::string PendingKey(std::string_view tenant, std::string_view rule_id,
                       const google::protobuf::Timestamp& due, std::string_view run_id) {
  std::string k = store::KindPrefix(kPending, tenant, rule_id);
  store::PutBigEndian(k,
                      static_cast<uint64_t>(std::max<int64_t>(0, projection::TimestampNanos(due))));
  return k.append(run_id);
}

// Counts a run's move from `before` to `after` on its rule.
void Count(av1::Rule& rule, av1::RuleRunState before, av1::RuleRunState after) {
  if (before == av1::RULE_RUN_STATE_DEAD_LETTERED) {
    rule.set_dead_letter_count(rule.dead_letter_count() - 1);
  }
  if (after == av1::RULE_RUN_STATE_DEAD_LETTERED) {
    rule.set_dead_letter_count(rule.dead_letter_count() + 1);
  }
}

}  // namespace

bool IsRuleEvent(std::string_view event_type) {
  return event_type.starts_with("crm.analytics.v1.Rule");
}

absl::StatusOr<absl::Status> RuleProjection::Apply(const EventEnvelope& event,
                                                   store::ProjectionStore::Batch& batch) {
  const std::string& tenant = event.tenant();
  const std::string& id = event.aggregate_id();
  if (event.event_type() == "crm.analytics.v1.RuleNotification") {
    // One per run and action: a second is refused.
    const std::string key = store::KindKey(kNotification, tenant, id);
    ASSIGN_OR_RETURN(std::optional<std::string> seen, batch.Get(Cf::kState, key));
    if (seen || event.expected_version() != 0) {
      return absl::AbortedError(absl::StrCat("notification ", id, " was published already"));
    }
    batch.Put(Cf::kState, key, "");
    return absl::OkStatus();
  }
  const std::string key = store::KindKey(kRule, tenant, id);
  ASSIGN_OR_RETURN(std::optional<std::string> raw, batch.Get(Cf::kState, key));
  ASSIGN_OR_RETURN(std::optional<av1::RuleRecord> current,
                   projection::ParseRecord<av1::RuleRecord>(raw, "rule"));
  const int64_t at = current ? current->rule().version() : 0;
  if (!projection::TakesEffect(event, at, current ? current->defined_version() : 0)) {
    if (!current && event.expected_version() != 0) {
      return absl::NotFoundError(absl::StrCat("rule ", id, " does not exist"));
    }
    return absl::AbortedError(
        absl::StrCat("rule ", id, " is at version ", at, ", not ", event.expected_version()));
  }
  const std::string& type = event.event_type();
  // The rule's own fields, as against the engine's records of its runs.
  const bool defines =
      type == "crm.analytics.v1.RuleCreated" || type == "crm.analytics.v1.RuleUpdated" ||
      type == "crm.analytics.v1.RuleEnabled" || type == "crm.analytics.v1.RuleDisabled";
  auto put = [&](const std::string& k, const google::protobuf::Message& value) {
    batch.Put(Cf::kState, k, projection::SerializeDeterministic(value));
  };

  if (type == "crm.analytics.v1.RuleCreated") {
    absl::StatusOr<av1::RuleCreated> created = projection::UnpackPayload<av1::RuleCreated>(event);
    if (!created.ok()) return created.status();
    av1::RuleRecord record;
    av1::Rule& r = *record.mutable_rule();
    *r.mutable_name() = created->rule().name();
    *r.mutable_trigger() = created->rule().trigger();
    *r.mutable_actions() = created->rule().actions();
    r.set_id(id);
    r.set_version(at + 1);
    record.set_defined_version(at + 1);
    *r.mutable_create_time() = event.occurred_at();
    *r.mutable_update_time() = event.occurred_at();
    put(key, record);
    return absl::OkStatus();
  }

  if (!current) return absl::NotFoundError(absl::StrCat("rule ", id, " does not exist"));
  av1::RuleRecord next = *current;
  av1::Rule& rule = *next.mutable_rule();
  rule.set_version(at + 1);
  if (defines) next.set_defined_version(at + 1);

  if (type == "crm.analytics.v1.RuleUpdated") {
    absl::StatusOr<av1::RuleUpdated> updated = projection::UnpackPayload<av1::RuleUpdated>(event);
    if (!updated.ok()) return updated.status();
    *rule.mutable_name() = updated->rule().name();
    *rule.mutable_trigger() = updated->rule().trigger();
    *rule.mutable_actions() = updated->rule().actions();
    *rule.mutable_update_time() = event.occurred_at();
    rule.clear_segment_watch_time();  // the segment may be another: look afresh
  } else if (type == "crm.analytics.v1.RuleEnabled") {
    absl::StatusOr<av1::RuleEnabled> enabled = projection::UnpackPayload<av1::RuleEnabled>(event);
    if (!enabled.ok()) return enabled.status();
    rule.set_enabled(true);
    *next.mutable_enable_time() = event.occurred_at();
    next.clear_cursors();
    rule.clear_segment_watch_time();  // who moved while disabled is not acted on
    for (const auto& [topic, cursor] : enabled->start_cursors()) {
      (*next.mutable_cursors())[topic] = cursor;
    }
    *rule.mutable_update_time() = event.occurred_at();
  } else if (type == "crm.analytics.v1.RuleDisabled") {
    rule.set_enabled(false);
    next.clear_cursors();
    *rule.mutable_update_time() = event.occurred_at();
  } else if (type == "crm.analytics.v1.RuleCursorAdvanced") {
    absl::StatusOr<av1::RuleCursorAdvanced> advanced =
        projection::UnpackPayload<av1::RuleCursorAdvanced>(event);
    if (!advanced.ok()) return advanced.status();
    // A position read while enabled, recorded after a disable, is not kept.
    if (rule.enabled()) (*next.mutable_cursors())[advanced->topic()] = advanced->cursor();
  } else if (type == "crm.analytics.v1.RuleTriggered") {
    absl::StatusOr<av1::RuleTriggered> triggered =
        projection::UnpackPayload<av1::RuleTriggered>(event);
    if (!triggered.ok()) return triggered.status();
    const std::string& run_id = triggered->run().id();
    const std::string run_key = RunKey(kRun, tenant, id, run_id);
    ASSIGN_OR_RETURN(std::optional<std::string> existing, batch.Get(Cf::kState, run_key));
    if (existing) {
      return absl::FailedPreconditionError(absl::StrCat("rule ", id, " already has run ", run_id));
    }
    av1::RuleRunRecord record;
    *record.mutable_run() = triggered->run();
    *record.mutable_planned() = triggered->planned();
    av1::RuleRun& run = *record.mutable_run();
    run.set_rule_id(id);
    run.set_state(av1::RULE_RUN_STATE_PENDING);
    *run.mutable_create_time() = event.occurred_at();
    *run.mutable_update_time() = event.occurred_at();
    put(run_key, record);
    batch.Put(Cf::kIndex, PendingKey(tenant, id, run.next_attempt_time(), run_id), "");
    rule.set_run_count(rule.run_count() + 1);
    if (rule.enabled() && !triggered->topic().empty()) {
      (*next.mutable_cursors())[triggered->topic()] = triggered->cursor_after();
    }
    if (triggered->has_segment_move()) {
      RETURN_IF_ERROR(MoveMember(tenant, id, triggered->segment_move(), batch));
    }
  } else if (type == "crm.analytics.v1.RuleSegmentScanned") {
    absl::StatusOr<av1::RuleSegmentScanned> scanned =
        projection::UnpackPayload<av1::RuleSegmentScanned>(event);
    if (!scanned.ok()) return scanned.status();
    for (const av1::SegmentMove& move : scanned->moves()) {
      RETURN_IF_ERROR(MoveMember(tenant, id, move, batch));
    }
    if (scanned->baseline_complete()) *rule.mutable_segment_watch_time() = event.occurred_at();
  } else if (type == "crm.analytics.v1.RuleRunAttempted") {
    absl::StatusOr<av1::RuleRunAttempted> attempted =
        projection::UnpackPayload<av1::RuleRunAttempted>(event);
    if (!attempted.ok()) return attempted.status();
    const std::string run_key = RunKey(kRun, tenant, id, attempted->run_id());
    ASSIGN_OR_RETURN(std::optional<std::string> rraw, batch.Get(Cf::kState, run_key));
    ASSIGN_OR_RETURN(std::optional<av1::RuleRunRecord> record,
                     projection::ParseRecord<av1::RuleRunRecord>(rraw, "rule run"));
    if (!record) {
      return absl::NotFoundError(
          absl::StrCat("run ", attempted->run_id(), " of rule ", id, " does not exist"));
    }
    av1::RuleRun& run = *record->mutable_run();
    batch.Delete(Cf::kIndex, PendingKey(tenant, id, run.next_attempt_time(), run.id()));
    Count(rule, run.state(), attempted->state());
    run.set_state(attempted->state());
    *run.mutable_results() = attempted->results();
    if (!attempted->deferred()) run.set_attempts(run.attempts() + 1);
    *run.mutable_update_time() = attempted->time();
    if (attempted->state() == av1::RULE_RUN_STATE_PENDING) {
      *run.mutable_next_attempt_time() = attempted->next_attempt_time();
      batch.Put(Cf::kIndex, PendingKey(tenant, id, run.next_attempt_time(), run.id()), "");
    } else {
      run.clear_next_attempt_time();
    }
    put(run_key, *record);
  }
  // Any other rule event (of a later version) moves the version on and changes nothing else.
  put(key, next);
  return absl::OkStatus();
}

absl::Status RuleProjection::MoveMember(std::string_view tenant, std::string_view rule_id,
                                        const av1::SegmentMove& move,
                                        store::ProjectionStore::Batch& batch) {
  const std::string key = RunKey(kSegmentMember, tenant, rule_id, move.contact_id());
  ASSIGN_OR_RETURN(std::optional<std::string> raw, batch.Get(Cf::kState, key));
  ASSIGN_OR_RETURN(std::optional<av1::SegmentMemberRecord> record,
                   projection::ParseRecord<av1::SegmentMemberRecord>(raw, "segment member"));
  av1::SegmentMemberRecord next = record.value_or(av1::SegmentMemberRecord());
  next.set_member(move.member());
  next.set_changes(next.changes() + 1);
  batch.Put(Cf::kState, key, projection::SerializeDeterministic(next));
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, av1::SegmentMemberRecord>> RuleProjection::SegmentMembers(
    std::string_view tenant, std::string_view rule_id) const {
  const std::string prefix = store::KindPrefix(kSegmentMember, tenant, rule_id);
  std::map<std::string, av1::SegmentMemberRecord> out;
  absl::Status error;
  RETURN_IF_ERROR(
      store_->Scan(Cf::kState, prefix, "", [&](std::string_view key, std::string_view value) {
        av1::SegmentMemberRecord record;
        if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          error = absl::DataLossError(
              absl::StrCat("segment member ", std::string(key.substr(prefix.size())), " of rule ",
                           std::string(rule_id), " does not decode"));
          return false;
        }
        out.emplace(std::string(key.substr(prefix.size())), std::move(record));
        return true;
      }));
  RETURN_IF_ERROR(error);
  return out;
}

absl::StatusOr<std::optional<av1::RuleRecord>> RuleProjection::GetRule(std::string_view tenant,
                                                                       std::string_view id) const {
  ASSIGN_OR_RETURN(std::optional<std::string> raw,
                   store_->Get(Cf::kState, store::KindKey(kRule, tenant, id)));
  return projection::ParseRecord<av1::RuleRecord>(raw, "rule");
}

absl::StatusOr<std::vector<av1::RuleRecord>> RuleProjection::ListRules(std::string_view tenant,
                                                                       std::string_view after,
                                                                       size_t limit) const {
  return store::ScanRecords<av1::RuleRecord>(store_->Latest(), kRule, tenant, after, limit);
}

absl::StatusOr<std::vector<std::pair<std::string, av1::RuleRecord>>> RuleProjection::AllRules()
    const {
  return store::ScanAllTenants<av1::RuleRecord>(store_->Latest(), kRule);
}

absl::StatusOr<std::optional<av1::RuleRunRecord>> RuleProjection::GetRun(
    std::string_view tenant, std::string_view rule_id, std::string_view run_id) const {
  ASSIGN_OR_RETURN(std::optional<std::string> raw,
                   store_->Get(Cf::kState, RunKey(kRun, tenant, rule_id, run_id)));
  return projection::ParseRecord<av1::RuleRunRecord>(raw, "rule run");
}

absl::StatusOr<RuleProjection::RunPage> RuleProjection::ListRuns(
    std::string_view tenant, std::string_view rule_id, av1::RuleRunState state,
    std::string_view after, size_t limit, size_t max_scanned) const {
  ASSIGN_OR_RETURN(store::FilteredPage<av1::RuleRunRecord> found,
                   store::ScanFiltered<av1::RuleRunRecord>(
                       store_->Latest(), store::KindPrefix(kRun, tenant, rule_id), after, limit,
                       max_scanned, [state](const av1::RuleRunRecord& r) {
                         return state == av1::RULE_RUN_STATE_UNSPECIFIED ||
                                r.run().state() == state;
                       }));
  RunPage page;
  for (av1::RuleRunRecord& r : found.records) page.runs.push_back(std::move(*r.mutable_run()));
  page.scanned_to = std::move(found.scanned_to);
  page.at_end = found.at_end;
  return page;
}

absl::StatusOr<std::vector<av1::RuleRunRecord>> RuleProjection::PendingRuns(
    std::string_view tenant, std::string_view rule_id, size_t limit) const {
  const std::string prefix = store::KindPrefix(kPending, tenant, rule_id);
  std::vector<std::string> ids;
  RETURN_IF_ERROR(store_->Scan(Cf::kIndex, prefix, "", [&](std::string_view key, std::string_view) {
    if (ids.size() >= limit) return false;
    ids.emplace_back(key.substr(prefix.size() + 8));  // after the due time
    return true;
  }));
  std::vector<av1::RuleRunRecord> out;
  for (const std::string& id : ids) {
    ASSIGN_OR_RETURN(std::optional<av1::RuleRunRecord> record, GetRun(tenant, rule_id, id));
    if (record) out.push_back(*std::move(record));
  }
  return out;
}

}  // namespace crm::analytics::automation

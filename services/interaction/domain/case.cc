#include "services/interaction/domain/case.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/projection/aggregate.h"

namespace crm::interaction {

using crm::common::v1::EventEnvelope;
using google::protobuf::Timestamp;

namespace {

Timestamp Plus(const Timestamp& t, int64_t seconds) {
  Timestamp out = t;
  out.set_seconds(t.seconds() + seconds);
  return out;
}

bool After(const Timestamp& a, const Timestamp& b) {
  return projection::TimestampNanos(a) > projection::TimestampNanos(b);
}

Priority Effective(Priority p) { return p == v1::PRIORITY_UNSPECIFIED ? v1::PRIORITY_NORMAL : p; }

absl::Status CheckWritable(const std::optional<Case>& current, const std::string& id,
                           int64_t expected_version) {
  return projection::CheckExpectedVersion(current, "case", id, expected_version);
}

SlaTargets Targets(int64_t first, int64_t resolution) {
  SlaTargets t;
  t.set_first_response_seconds(first);
  t.set_resolution_seconds(resolution);
  return t;
}

void SetDues(Case& c) {
  *c.mutable_first_response_due() = Plus(c.create_time(), c.sla().first_response_seconds());
  *c.mutable_resolution_due() = Plus(c.create_time(), c.sla().resolution_seconds());
  c.set_first_response_breached(c.has_first_response_time() &&
                                After(c.first_response_time(), c.first_response_due()));
  c.set_resolution_breached(c.has_resolution_time() &&
                            After(c.resolution_time(), c.resolution_due()));
}

void RespondAt(Case& c, const Timestamp& t) {
  if (c.has_first_response_time()) return;
  *c.mutable_first_response_time() = t;
  c.set_first_response_breached(After(t, c.first_response_due()));
}

}  // namespace

SlaPolicy SlaPolicy::Default() {
  SlaPolicy p;
  p.targets_[v1::PRIORITY_URGENT] = Targets(3600, 8 * 3600);
  p.targets_[v1::PRIORITY_HIGH] = Targets(4 * 3600, 24 * 3600);
  p.targets_[v1::PRIORITY_NORMAL] = Targets(8 * 3600, 72 * 3600);
  p.targets_[v1::PRIORITY_LOW] = Targets(24 * 3600, 168 * 3600);
  return p;
}

absl::StatusOr<SlaPolicy> SlaPolicy::Parse(const std::string& first_response,
                                           const std::string& resolution,
                                           const std::string& first_flag,
                                           const std::string& resolution_flag) {
  SlaPolicy p = Default();
  for (const auto& [spec, flag, first] :
       {std::tuple{first_response, first_flag, true}, {resolution, resolution_flag, false}}) {
    for (absl::string_view item : absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
      std::vector<std::string> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
      v1::Priority priority;
      absl::Duration d;
      if (kv.size() != 2 ||
          !v1::Priority_Parse("PRIORITY_" + absl::AsciiStrToUpper(kv[0]), &priority) ||
          priority == v1::PRIORITY_UNSPECIFIED || !absl::ParseDuration(kv[1], &d) ||
          d < absl::Seconds(1)) {
        return absl::InvalidArgumentError(absl::StrCat(
            flag, ": \"", std::string(item),
            "\" must be priority=duration (urgent, high, normal, low; e.g. high=4h, at least 1s)"));
      }
      SlaTargets& t = p.targets_[priority];
      if (first) {
        t.set_first_response_seconds(absl::ToInt64Seconds(d));
      } else {
        t.set_resolution_seconds(absl::ToInt64Seconds(d));
      }
    }
  }
  return p;
}

SlaTargets SlaPolicy::For(Priority priority) const { return targets_.at(Effective(priority)); }

bool AllowedMove(CaseStatus from, CaseStatus to) {
  switch (from) {
    case v1::CASE_STATUS_NEW:
    case v1::CASE_STATUS_REOPENED:
      return to == v1::CASE_STATUS_OPEN || to == v1::CASE_STATUS_WAITING_ON_CUSTOMER ||
             to == v1::CASE_STATUS_RESOLVED || to == v1::CASE_STATUS_CLOSED;
    case v1::CASE_STATUS_OPEN:
      return to == v1::CASE_STATUS_WAITING_ON_CUSTOMER || to == v1::CASE_STATUS_RESOLVED ||
             to == v1::CASE_STATUS_CLOSED;
    case v1::CASE_STATUS_WAITING_ON_CUSTOMER:
      return to == v1::CASE_STATUS_OPEN || to == v1::CASE_STATUS_RESOLVED ||
             to == v1::CASE_STATUS_CLOSED;
    case v1::CASE_STATUS_RESOLVED:
      return to == v1::CASE_STATUS_CLOSED || to == v1::CASE_STATUS_REOPENED;
    case v1::CASE_STATUS_CLOSED:
      return to == v1::CASE_STATUS_REOPENED;
    default:
      return false;
  }
}

absl::StatusOr<CaseOpened> DecideOpenCase(
    const Case& requested, const std::string& id, const SlaPolicy& policy,
    const std::function<absl::Status(const std::string&, const std::string&)>& check_contact) {
  if (absl::Status s = check_contact("case.contact_id", requested.contact_id()); !s.ok()) return s;
  CaseOpened event;
  Case* c = event.mutable_case_();
  *c = requested;
  c->set_id(id);
  c->set_priority(Effective(requested.priority()));
  *c->mutable_sla() = policy.For(c->priority());
  return event;
}

absl::StatusOr<CaseAssigned> DecideAssign(const std::optional<Case>& current, const std::string& id,
                                          const std::string& owner, int64_t expected_version) {
  if (absl::Status s = CheckWritable(current, id, expected_version); !s.ok()) return s;
  CaseAssigned event;
  event.set_owner(owner);
  return event;
}

absl::StatusOr<CaseCommented> DecideComment(const std::optional<Case>& current,
                                            const std::string& id,
                                            const crm::interaction::v1::CaseComment& comment,
                                            int64_t expected_version) {
  if (absl::Status s = CheckWritable(current, id, expected_version); !s.ok()) return s;
  if (current->comments_size() >= 1000) {
    return absl::FailedPreconditionError("case has 1000 comments, the most allowed");
  }
  CaseCommented event;
  *event.mutable_comment() = comment;
  event.mutable_comment()->clear_create_time();
  return event;
}

absl::StatusOr<CasePriorityChanged> DecidePriority(const std::optional<Case>& current,
                                                   const std::string& id, Priority priority,
                                                   const SlaPolicy& policy,
                                                   int64_t expected_version) {
  if (absl::Status s = CheckWritable(current, id, expected_version); !s.ok()) return s;
  if (current->priority() == priority) {
    return absl::FailedPreconditionError("priority: the case already has this priority");
  }
  CasePriorityChanged event;
  event.set_priority(priority);
  *event.mutable_sla() = policy.For(priority);
  return event;
}

absl::StatusOr<CaseStatusChanged> DecideStatus(const std::optional<Case>& current,
                                               const std::string& id, CaseStatus status,
                                               int64_t expected_version) {
  if (absl::Status s = CheckWritable(current, id, expected_version); !s.ok()) return s;
  if (!AllowedMove(current->status(), status)) {
    return absl::FailedPreconditionError(absl::StrCat("status: a case cannot move from ",
                                                      v1::CaseStatus_Name(current->status()),
                                                      " to ", v1::CaseStatus_Name(status)));
  }
  CaseStatusChanged event;
  event.set_status(status);
  return event;
}

bool IsCaseEvent(std::string_view t) {
  return t == "crm.interaction.v1.CaseOpened" || t == "crm.interaction.v1.CaseAssigned" ||
         t == "crm.interaction.v1.CaseCommented" || t == "crm.interaction.v1.CasePriorityChanged" ||
         t == "crm.interaction.v1.CaseStatusChanged";
}

absl::StatusOr<Case> ApplyCase(const std::optional<Case>& current, const EventEnvelope& event) {
  if (absl::Status s = projection::CheckEventVersion(current, event, "case"); !s.ok()) return s;
  const std::string& type = event.event_type();
  Timestamp t = event.occurred_at();
  if (current && After(current->update_time(), t)) t = current->update_time();
  Case next;
  if (type == "crm.interaction.v1.CaseOpened") {
    CaseOpened opened;
    if (!event.payload().UnpackTo(&opened)) return absl::InvalidArgumentError("bad CaseOpened");
    next = std::move(*opened.mutable_case_());
    next.set_status(v1::CASE_STATUS_NEW);
    *next.mutable_create_time() = t;
    SetDues(next);
  } else {
    if (!current) {
      return absl::NotFoundError(absl::StrCat("case ", event.aggregate_id(), " does not exist"));
    }
    next = *current;
    if (type == "crm.interaction.v1.CaseAssigned") {
      CaseAssigned assigned;
      if (!event.payload().UnpackTo(&assigned)) return absl::InvalidArgumentError("bad payload");
      next.set_owner(assigned.owner());
    } else if (type == "crm.interaction.v1.CaseCommented") {
      CaseCommented commented;
      if (!event.payload().UnpackTo(&commented)) return absl::InvalidArgumentError("bad payload");
      auto* comment = next.add_comments();
      *comment = commented.comment();
      *comment->mutable_create_time() = t;
      if (comment->public_()) RespondAt(next, t);
    } else if (type == "crm.interaction.v1.CasePriorityChanged") {
      CasePriorityChanged changed;
      if (!event.payload().UnpackTo(&changed)) return absl::InvalidArgumentError("bad payload");
      next.set_priority(changed.priority());
      *next.mutable_sla() = changed.sla();
      SetDues(next);
    } else if (type == "crm.interaction.v1.CaseStatusChanged") {
      CaseStatusChanged changed;
      if (!event.payload().UnpackTo(&changed)) return absl::InvalidArgumentError("bad payload");
      if (!AllowedMove(current->status(), changed.status())) {
        return absl::FailedPreconditionError(absl::StrCat(
            "case ", event.aggregate_id(), " cannot move from ",
            v1::CaseStatus_Name(current->status()), " to ", v1::CaseStatus_Name(changed.status())));
      }
      next.set_status(changed.status());
      if (changed.status() == v1::CASE_STATUS_WAITING_ON_CUSTOMER) RespondAt(next, t);
      if (changed.status() == v1::CASE_STATUS_RESOLVED ||
          (changed.status() == v1::CASE_STATUS_CLOSED && !next.has_resolution_time())) {
        *next.mutable_resolution_time() = t;
        next.set_resolution_breached(After(t, next.resolution_due()));
      }
      if (changed.status() == v1::CASE_STATUS_REOPENED) {
        next.clear_resolution_time();
        next.set_resolution_breached(false);
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("not a case event: ", type));
    }
  }
  next.set_id(event.aggregate_id());
  next.set_version(event.aggregate_version());
  *next.mutable_update_time() = t;
  return next;
}

void MarkBreaches(Case& c, absl::Time now) {
  const int64_t n = absl::ToUnixNanos(now);
  if (!c.has_first_response_time() && n > projection::TimestampNanos(c.first_response_due())) {
    c.set_first_response_breached(true);
  }
  if (!c.has_resolution_time() && n > projection::TimestampNanos(c.resolution_due())) {
    c.set_resolution_breached(true);
  }
}

}  // namespace crm::interaction

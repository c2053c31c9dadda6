#include "services/interaction/api/validation.h"

#include <map>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/ids/ids.h"
#include "common/projection/aggregate.h"
#include "common/status/status_macros.h"
#include "common/validation/normalize.h"
#include "common/validation/request_fields.h"

namespace crm::interaction {

using validation::CheckText;
using validation::CheckTimestamp;
using validation::Invalid;

namespace {

// An id from another service (case, deal): printable, at most 128 characters.
absl::Status CheckForeignId(const std::string& field, const std::string& id) {
  if (id.size() > 128) return Invalid(field, "must be at most 128 characters");
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return Invalid(field, "must be printable ASCII without spaces");
  }
  return absl::OkStatus();
}

using FieldCheck = std::function<absl::Status(Interaction&, absl::Time now)>;

const std::map<std::string, FieldCheck>& Checks() {
  static const auto* checks = new std::map<std::string, FieldCheck>{
      {"channel",
       [](Interaction& i, absl::Time) {
         if (i.channel() == v1::CHANNEL_UNSPECIFIED || !v1::Channel_IsValid(i.channel())) {
           return Invalid("interaction.channel",
                          "must be CALL, EMAIL, MEETING, CHAT, SMS, WEB_VISIT, SOCIAL, VISIT or "
                          "NOTE");
         }
         return absl::OkStatus();
       }},
      {"direction",
       [](Interaction& i, absl::Time) {
         if (!v1::Direction_IsValid(i.direction())) {
           return Invalid("interaction.direction", "must be INBOUND or OUTBOUND");
         }
         return absl::OkStatus();
       }},
      {"subject",
       [](Interaction& i, absl::Time) {
         return CheckText("interaction.subject", i.subject(), kMaxSubjectChars);
       }},
      {"body",
       [](Interaction& i, absl::Time) {
         if (i.body().size() > kMaxBodyBytes) {
           return Invalid("interaction.body",
                          absl::StrCat("must be at most ", kMaxBodyBytes, " bytes"));
         }
         return CheckText("interaction.body", i.body(), kMaxBodyBytes);
       }},
      {"occurred_at",
       [](Interaction& i, absl::Time now) {
         if (!i.has_occurred_at()) return Invalid("interaction.occurred_at", "is required");
         RETURN_IF_ERROR(CheckTimestamp("interaction.occurred_at", i.occurred_at()));
         if (i.occurred_at().seconds() < 0) {
           return Invalid("interaction.occurred_at", "must not be before 1970");
         }
         if (absl::FromUnixNanos(projection::TimestampNanos(i.occurred_at())) >
             now + absl::Hours(24)) {
           return Invalid("interaction.occurred_at", "must not be more than a day ahead");
         }
         return absl::OkStatus();
       }},
      {"duration_seconds",
       [](Interaction& i, absl::Time) {
         if (i.duration_seconds() < 0 || i.duration_seconds() > kMaxDurationSeconds) {
           return Invalid("interaction.duration_seconds",
                          absl::StrCat("must be 0 to ", kMaxDurationSeconds));
         }
         return absl::OkStatus();
       }},
      {"contact_ids",
       [](Interaction& i, absl::Time) {
         if (i.contact_ids().empty()) return Invalid("interaction.contact_ids", "needs a contact");
         if (static_cast<size_t>(i.contact_ids_size()) > kMaxContacts) {
           return Invalid("interaction.contact_ids",
                          absl::StrCat("at most ", kMaxContacts, " are allowed"));
         }
         std::set<std::string> seen;
         for (int k = 0; k < i.contact_ids_size(); ++k) {
           const std::string field = absl::StrCat("interaction.contact_ids[", k, "]");
           RETURN_IF_ERROR(validation::CheckId(field, i.contact_ids(k), "contact"));
           if (!seen.insert(i.contact_ids(k)).second) return Invalid(field, "appears twice");
         }
         return absl::OkStatus();
       }},
      {"company_id",
       [](Interaction& i, absl::Time) {
         if (i.company_id().empty()) return absl::OkStatus();
         return validation::CheckId("interaction.company_id", i.company_id(), "company");
       }},
      {"owner",
       [](Interaction& i, absl::Time) {
         return validation::CheckPrincipal("interaction.owner", i.owner(), 128);
       }},
      {"outcome", [](Interaction& i,
                     absl::Time) { return CheckText("interaction.outcome", i.outcome(), 200); }},
      {"case_id", [](Interaction& i,
                     absl::Time) { return CheckForeignId("interaction.case_id", i.case_id()); }},
      {"deal_id", [](Interaction& i,
                     absl::Time) { return CheckForeignId("interaction.deal_id", i.deal_id()); }},
  };
  return *checks;
}

}  // namespace

absl::StatusOr<Interaction> ValidateLog(const v1::LogInteractionRequest& request, absl::Time now) {
  RETURN_IF_ERROR(validation::CheckRequestId(request.request_id()));
  if (!request.has_interaction()) return Invalid("interaction", "is required");
  Interaction i = request.interaction();
  if (!i.id().empty()) return Invalid("interaction.id", "must be empty; the service assigns ids");
  for (const auto& [path, check] : Checks()) RETURN_IF_ERROR(check(i, now));
  return i;
}

absl::StatusOr<ValidUpdate> ValidateUpdate(const v1::UpdateInteractionRequest& request,
                                           absl::Time now) {
  RETURN_IF_ERROR(validation::CheckWriteCommon(request.request_id(), request.expected_version()));
  if (!request.has_interaction()) return Invalid("interaction", "is required");
  RETURN_IF_ERROR(validation::CheckId("interaction.id", request.interaction().id(), "interaction"));
  if (request.update_mask().paths().empty()) {
    return Invalid("update_mask", "must name at least one field to change");
  }
  ValidUpdate out;
  out.values = request.interaction();
  std::set<std::string> paths(request.update_mask().paths().begin(),
                              request.update_mask().paths().end());
  for (const std::string& path : paths) {
    const auto it = Checks().find(path);
    if (it == Checks().end()) {
      return Invalid("update_mask",
                     absl::StrCat("\"", path, "\" is not a field that can be updated"));
    }
    RETURN_IF_ERROR(it->second(out.values, now));
    out.mask.add_paths(path);
  }
  return out;
}

absl::Status ValidateGet(const v1::GetInteractionRequest& request) {
  return validation::CheckId("id", request.id(), "interaction");
}

absl::Status ValidateDelete(const v1::DeleteInteractionRequest& request) {
  RETURN_IF_ERROR(validation::CheckWriteCommon(request.request_id(), request.expected_version()));
  return validation::CheckId("id", request.id(), "interaction");
}

absl::StatusOr<ValidTimeline> ValidateTimeline(const v1::ListTimelineRequest& request) {
  ValidTimeline out;
  if (request.contact_id().empty() == request.company_id().empty()) {
    return Invalid("contact_id", "give exactly one of contact_id and company_id");
  }
  if (!request.contact_id().empty()) {
    RETURN_IF_ERROR(validation::CheckId("contact_id", request.contact_id(), "contact"));
  } else {
    RETURN_IF_ERROR(validation::CheckId("company_id", request.company_id(), "company"));
  }
  ASSIGN_OR_RETURN(out.page_size, validation::PageSize(request.page_size(), 500, 50));
  for (int k = 0; k < request.channels_size(); ++k) {
    if (request.channels(k) == v1::CHANNEL_UNSPECIFIED ||
        !v1::Channel_IsValid(request.channels(k))) {
      return Invalid(absl::StrCat("channels[", k, "]"), "is not a channel");
    }
    out.filter.channels.insert(request.channels(k));
  }
  for (int k = 0; k < request.kinds_size(); ++k) {
    if (request.kinds(k) == v1::TIMELINE_KIND_UNSPECIFIED ||
        !v1::TimelineKind_IsValid(request.kinds(k))) {
      return Invalid(absl::StrCat("kinds[", k, "]"), "is not a timeline kind");
    }
    out.filter.kinds.insert(request.kinds(k));
  }
  if (request.has_start_time()) {
    RETURN_IF_ERROR(CheckTimestamp("start_time", request.start_time()));
    out.filter.start_nanos = projection::TimestampNanos(request.start_time());
  }
  if (request.has_end_time()) {
    RETURN_IF_ERROR(CheckTimestamp("end_time", request.end_time()));
    out.filter.end_nanos = projection::TimestampNanos(request.end_time());
  }
  if (out.filter.start_nanos && out.filter.end_nanos &&
      *out.filter.start_nanos >= *out.filter.end_nanos) {
    return Invalid("end_time", "must be after start_time");
  }
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(
        std::string raw,
        validation::ReadPageToken(request.page_token(), 'T', validation::PagingIdentity(request)));
    if (!absl::WebSafeBase64Unescape(raw, &out.resume_after) || out.resume_after.size() < 8) {
      return Invalid("page_token", "is not a token this service issued");
    }
  }
  return out;
}

// --- Cases ------------------------------------------------------------------------------------

namespace {

absl::Status CheckPriority(const std::string& field, v1::Priority p, bool required) {
  if (!v1::Priority_IsValid(p) || (required && p == v1::PRIORITY_UNSPECIFIED)) {
    return Invalid(field, "must be LOW, NORMAL, HIGH or URGENT");
  }
  return absl::OkStatus();
}

absl::Status CheckCaseWrite(const std::string& id, const std::string& request_id,
                            int64_t expected_version) {
  RETURN_IF_ERROR(validation::CheckWriteCommon(request_id, expected_version));
  return validation::CheckId("id", id, "case");
}

}  // namespace

absl::StatusOr<Case> ValidateOpenCase(const v1::OpenCaseRequest& request) {
  RETURN_IF_ERROR(validation::CheckRequestId(request.request_id()));
  if (!request.has_case_()) return Invalid("case", "is required");
  Case c = request.case_();
  if (!c.id().empty()) return Invalid("case.id", "must be empty; the service assigns ids");
  RETURN_IF_ERROR(CheckText("case.subject", c.subject(), kMaxSubjectChars, /*required=*/true));
  if (c.description().size() > kMaxBodyBytes) {
    return Invalid("case.description", absl::StrCat("must be at most ", kMaxBodyBytes, " bytes"));
  }
  RETURN_IF_ERROR(CheckText("case.description", c.description(), kMaxBodyBytes));
  RETURN_IF_ERROR(validation::CheckId("case.contact_id", c.contact_id(), "contact"));
  if (!c.company_id().empty()) {
    RETURN_IF_ERROR(validation::CheckId("case.company_id", c.company_id(), "company"));
  }
  RETURN_IF_ERROR(validation::CheckPrincipal("case.owner", c.owner(), 128));
  RETURN_IF_ERROR(CheckPriority("case.priority", c.priority(), false));
  if (c.status() != v1::CASE_STATUS_UNSPECIFIED || c.comments_size() > 0 || c.has_sla()) {
    return Invalid("case.status", "status, comments and sla are output only");
  }
  return c;
}

absl::Status ValidateGetCase(const v1::GetCaseRequest& request) {
  return validation::CheckId("id", request.id(), "case");
}

absl::Status ValidateAssignCase(const v1::AssignCaseRequest& request) {
  RETURN_IF_ERROR(CheckCaseWrite(request.id(), request.request_id(), request.expected_version()));
  return validation::CheckPrincipal("owner", request.owner(), 128);
}

absl::Status ValidateCommentOnCase(const v1::CommentOnCaseRequest& request) {
  RETURN_IF_ERROR(CheckCaseWrite(request.id(), request.request_id(), request.expected_version()));
  if (!request.has_comment()) return Invalid("comment", "is required");
  RETURN_IF_ERROR(CheckText("comment.body", request.comment().body(), kMaxBodyBytes, true));
  if (request.comment().body().size() > kMaxBodyBytes) {
    return Invalid("comment.body", absl::StrCat("must be at most ", kMaxBodyBytes, " bytes"));
  }
  if (request.comment().author().empty()) return Invalid("comment.author", "is required");
  return validation::CheckPrincipal("comment.author", request.comment().author(), 128);
}

absl::Status ValidateChangeCasePriority(const v1::ChangeCasePriorityRequest& request) {
  RETURN_IF_ERROR(CheckCaseWrite(request.id(), request.request_id(), request.expected_version()));
  return CheckPriority("priority", request.priority(), true);
}

absl::Status ValidateChangeCaseStatus(const v1::ChangeCaseStatusRequest& request) {
  RETURN_IF_ERROR(CheckCaseWrite(request.id(), request.request_id(), request.expected_version()));
  if (request.status() == v1::CASE_STATUS_UNSPECIFIED || request.status() == v1::CASE_STATUS_NEW ||
      !v1::CaseStatus_IsValid(request.status())) {
    return Invalid("status", "must be OPEN, WAITING_ON_CUSTOMER, RESOLVED, CLOSED or REOPENED");
  }
  return absl::OkStatus();
}

absl::StatusOr<ValidCaseList> ValidateListCases(const v1::ListCasesRequest& request) {
  ValidCaseList out;
  ASSIGN_OR_RETURN(out.page_size, validation::PageSize(request.page_size(), 1000, 50));
  for (int k = 0; k < request.statuses_size(); ++k) {
    if (request.statuses(k) == v1::CASE_STATUS_UNSPECIFIED ||
        !v1::CaseStatus_IsValid(request.statuses(k))) {
      return Invalid(absl::StrCat("statuses[", k, "]"), "is not a case status");
    }
    out.filter.statuses.insert(request.statuses(k));
  }
  RETURN_IF_ERROR(validation::CheckPrincipal("owner", request.owner(), 128));
  out.filter.owner = request.owner();
  RETURN_IF_ERROR(CheckPriority("priority", request.priority(), false));
  out.filter.priority = request.priority();
  if (request.has_breached()) out.filter.breached = request.breached();
  if (!request.contact_id().empty()) {
    RETURN_IF_ERROR(validation::CheckId("contact_id", request.contact_id(), "contact"));
    out.filter.contact_id = request.contact_id();
  }
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(
        out.resume_after,
        validation::ReadPageToken(request.page_token(), 'C', validation::PagingIdentity(request)));
    if (!ids::IsWellFormed(out.resume_after)) {
      return Invalid("page_token", "is not a token this service issued");
    }
  }
  return out;
}

std::string CasesPageToken(const v1::ListCasesRequest& request, const std::string& resume_after) {
  return validation::MakePageToken('C', validation::PagingIdentity(request), resume_after);
}

// --- Tasks ------------------------------------------------------------------------------------

absl::StatusOr<Task> ValidateCreateTask(const v1::CreateTaskRequest& request) {
  RETURN_IF_ERROR(validation::CheckRequestId(request.request_id()));
  if (!request.has_task()) return Invalid("task", "is required");
  Task t = request.task();
  if (!t.id().empty()) return Invalid("task.id", "must be empty; the service assigns ids");
  if (!v1::TaskKind_IsValid(t.kind())) return Invalid("task.kind", "must be TASK or APPOINTMENT");
  RETURN_IF_ERROR(CheckText("task.title", t.title(), kMaxSubjectChars, /*required=*/true));
  if (t.description().size() > kMaxBodyBytes) {
    return Invalid("task.description", absl::StrCat("must be at most ", kMaxBodyBytes, " bytes"));
  }
  RETURN_IF_ERROR(CheckText("task.description", t.description(), kMaxBodyBytes));
  if (t.kind() == v1::TASK_KIND_APPOINTMENT) {
    if (!t.has_start_time()) return Invalid("task.start_time", "is required for an appointment");
    if (!t.has_end_time()) return Invalid("task.end_time", "is required for an appointment");
    RETURN_IF_ERROR(CheckTimestamp("task.start_time", t.start_time()));
    RETURN_IF_ERROR(CheckTimestamp("task.end_time", t.end_time()));
    if (t.start_time().seconds() < 0) return Invalid("task.start_time", "must not be before 1970");
    if (projection::TimestampNanos(t.end_time()) <= projection::TimestampNanos(t.start_time())) {
      return Invalid("task.end_time", "must be after start_time");
    }
  } else {
    if (!t.has_due_time()) return Invalid("task.due_time", "is required for a task");
    RETURN_IF_ERROR(CheckTimestamp("task.due_time", t.due_time()));
    if (t.due_time().seconds() < 0) return Invalid("task.due_time", "must not be before 1970");
  }
  if (t.assignee().empty()) return Invalid("task.assignee", "is required");
  RETURN_IF_ERROR(validation::CheckPrincipal("task.assignee", t.assignee(), 128));
  if (!t.contact_id().empty()) {
    RETURN_IF_ERROR(validation::CheckId("task.contact_id", t.contact_id(), "contact"));
  }
  RETURN_IF_ERROR(CheckForeignId("task.case_id", t.case_id()));
  RETURN_IF_ERROR(CheckForeignId("task.deal_id", t.deal_id()));
  if (t.status() != v1::TASK_STATUS_UNSPECIFIED) return Invalid("task.status", "is output only");
  return t;
}

absl::Status ValidateGetTask(const v1::GetTaskRequest& request) {
  return validation::CheckId("id", request.id(), "task");
}

absl::Status ValidateTaskChange(const std::string& id, int64_t expected_version,
                                const std::string& request_id) {
  RETURN_IF_ERROR(validation::CheckWriteCommon(request_id, expected_version));
  return validation::CheckId("id", id, "task");
}

absl::StatusOr<TaskRescheduled> ValidateReschedule(const v1::RescheduleTaskRequest& request) {
  RETURN_IF_ERROR(
      ValidateTaskChange(request.id(), request.expected_version(), request.request_id()));
  TaskRescheduled out;
  for (const auto& [field, has, t] :
       {std::tuple{"due_time", request.has_due_time(), &request.due_time()},
        {"start_time", request.has_start_time(), &request.start_time()},
        {"end_time", request.has_end_time(), &request.end_time()}}) {
    if (!has) continue;
    RETURN_IF_ERROR(CheckTimestamp(field, *t));
    if (t->seconds() < 0) return Invalid(field, "must not be before 1970");
  }
  if (!request.has_due_time() && !request.has_start_time()) {
    return Invalid("due_time", "give due_time (tasks) or start_time and end_time (appointments)");
  }
  if (request.has_due_time()) *out.mutable_due_time() = request.due_time();
  if (request.has_start_time()) *out.mutable_start_time() = request.start_time();
  if (request.has_end_time()) *out.mutable_end_time() = request.end_time();
  return out;
}

absl::StatusOr<ValidTaskList> ValidateListTasks(const v1::ListTasksRequest& request) {
  ValidTaskList out;
  if (request.assignee().empty()) return Invalid("assignee", "is required");
  RETURN_IF_ERROR(validation::CheckPrincipal("assignee", request.assignee(), 128));
  if (!v1::TaskView_IsValid(request.view())) return Invalid("view", "is not a task view");
  ASSIGN_OR_RETURN(out.page_size, validation::PageSize(request.page_size(), 1000, 50));
  if (request.view() != v1::TASK_VIEW_UNSPECIFIED) {
    if (!request.has_at()) return Invalid("at", "is required for this view");
    RETURN_IF_ERROR(CheckTimestamp("at", request.at()));
    const int64_t at = projection::TimestampNanos(request.at());
    switch (request.view()) {
      case v1::TASK_VIEW_OVERDUE:
        out.to_nanos = at;
        break;
      case v1::TASK_VIEW_DUE:
        out.from_nanos = at;
        out.to_nanos = at + int64_t{86400} * 1000000000;
        break;
      default:
        out.from_nanos = at;
        break;
    }
  }
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(
        std::string raw,
        validation::ReadPageToken(request.page_token(), 'K', validation::PagingIdentity(request)));
    if (!absl::WebSafeBase64Unescape(raw, &out.resume_after) || out.resume_after.size() < 9) {
      return Invalid("page_token", "is not a token this service issued");
    }
  }
  return out;
}

std::string TasksPageToken(const v1::ListTasksRequest& request, const std::string& resume_after) {
  return validation::MakePageToken('K', validation::PagingIdentity(request),
                                   absl::WebSafeBase64Escape(resume_after));
}

std::string TimelinePageToken(const v1::ListTimelineRequest& request,
                              const std::string& resume_after) {
  return validation::MakePageToken('T', validation::PagingIdentity(request),
                                   absl::WebSafeBase64Escape(resume_after));
}

}  // namespace crm::interaction

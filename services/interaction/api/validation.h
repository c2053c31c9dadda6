// Request validation for InteractionService: every field checked, errors name the field.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crm/interaction/v1/interaction_service.pb.h"
#include "services/interaction/projection/interaction_projection.h"

namespace crm::interaction {

// `now` bounds occurred_at (at most a day ahead).
absl::StatusOr<Interaction> ValidateLog(const crm::interaction::v1::LogInteractionRequest& request,
                                        absl::Time now);

struct ValidUpdate {
  Interaction values;
  google::protobuf::FieldMask mask;
};
absl::StatusOr<ValidUpdate> ValidateUpdate(
    const crm::interaction::v1::UpdateInteractionRequest& request, absl::Time now);
absl::Status ValidateGet(const crm::interaction::v1::GetInteractionRequest& request);
absl::Status ValidateDelete(const crm::interaction::v1::DeleteInteractionRequest& request);

struct ValidTimeline {
  TimelineFilter filter;
  std::string resume_after;
  size_t page_size = 0;
};
absl::StatusOr<ValidTimeline> ValidateTimeline(
    const crm::interaction::v1::ListTimelineRequest& request);
std::string TimelinePageToken(const crm::interaction::v1::ListTimelineRequest& request,
                              const std::string& resume_after);

// Cases.
absl::StatusOr<Case> ValidateOpenCase(const crm::interaction::v1::OpenCaseRequest& request);
absl::Status ValidateGetCase(const crm::interaction::v1::GetCaseRequest& request);
absl::Status ValidateAssignCase(const crm::interaction::v1::AssignCaseRequest& request);
absl::Status ValidateCommentOnCase(const crm::interaction::v1::CommentOnCaseRequest& request);
absl::Status ValidateChangeCasePriority(
    const crm::interaction::v1::ChangeCasePriorityRequest& request);
absl::Status ValidateChangeCaseStatus(const crm::interaction::v1::ChangeCaseStatusRequest& request);
struct ValidCaseList {
  CaseFilter filter;
  std::string resume_after;
  size_t page_size = 0;
};
absl::StatusOr<ValidCaseList> ValidateListCases(
    const crm::interaction::v1::ListCasesRequest& request);
std::string CasesPageToken(const crm::interaction::v1::ListCasesRequest& request,
                           const std::string& resume_after);

// Tasks.
absl::StatusOr<Task> ValidateCreateTask(const crm::interaction::v1::CreateTaskRequest& request);
absl::Status ValidateGetTask(const crm::interaction::v1::GetTaskRequest& request);
absl::Status ValidateTaskChange(const std::string& id, int64_t expected_version,
                                const std::string& request_id);
absl::StatusOr<TaskRescheduled> ValidateReschedule(
    const crm::interaction::v1::RescheduleTaskRequest& request);
struct ValidTaskList {
  std::optional<int64_t> from_nanos;
  std::optional<int64_t> to_nanos;
  std::string resume_after;
  size_t page_size = 0;
};
absl::StatusOr<ValidTaskList> ValidateListTasks(
    const crm::interaction::v1::ListTasksRequest& request);
std::string TasksPageToken(const crm::interaction::v1::ListTasksRequest& request,
                           const std::string& resume_after);

}  // namespace crm::interaction

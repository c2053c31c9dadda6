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

}  // namespace crm::interaction

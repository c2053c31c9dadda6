// Request checks of crm.analytics.v1.AutomationService: INVALID_ARGUMENT naming the field and
// what is wrong; a valid request writes nothing until it reaches the service.
#pragma once

#include "absl/status/statusor.h"
#include "common/validation/request_fields.h"
#include "crm/analytics/v1/automation_service.pb.h"

namespace crm::analytics {

absl::Status ValidateCreateRule(const crm::analytics::v1::CreateRuleRequest& request);
absl::Status ValidateGetRule(const crm::analytics::v1::GetRuleRequest& request);
absl::Status ValidateUpdateRule(const crm::analytics::v1::UpdateRuleRequest& request);
absl::Status ValidateEnableRule(const crm::analytics::v1::EnableRuleRequest& request);
absl::Status ValidateDisableRule(const crm::analytics::v1::DisableRuleRequest& request);
absl::StatusOr<validation::ValidPage> ValidateListRules(
    const crm::analytics::v1::ListRulesRequest& request);
// The number of customers to list.
absl::StatusOr<size_t> ValidateTestRule(const crm::analytics::v1::TestRuleRequest& request);
absl::StatusOr<validation::ValidPage> ValidateListRuleRuns(
    const crm::analytics::v1::ListRuleRunsRequest& request);
absl::Status ValidateGetMessagingPolicy(
    const crm::analytics::v1::GetMessagingPolicyRequest& request);
absl::Status ValidateUpdateMessagingPolicy(
    const crm::analytics::v1::UpdateMessagingPolicyRequest& request);
absl::Status ValidateGetMessage(const crm::analytics::v1::GetMessageRequest& request);
absl::StatusOr<validation::ValidPage> ValidateListMessages(
    const crm::analytics::v1::ListMessagesRequest& request);
absl::Status ValidateReportMessageStatus(
    const crm::analytics::v1::ReportMessageStatusRequest& request);
absl::Status ValidateLaunchCampaign(const crm::analytics::v1::LaunchCampaignRequest& request);
absl::Status ValidateGetCampaign(const crm::analytics::v1::GetCampaignRequest& request);
absl::StatusOr<validation::ValidPage> ValidateListCampaigns(
    const crm::analytics::v1::ListCampaignsRequest& request);

}  // namespace crm::analytics

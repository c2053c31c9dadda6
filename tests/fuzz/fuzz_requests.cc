// libFuzzer target: request validation of every method of every service. The first byte picks
// the request type (kCheckers' index, modulo its size), the rest is its protobuf encoding.
// Validation must never crash, hang or read out of bounds on any bytes, and what it accepts must be
// accepted again (validation is a pure function).
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>

#include "absl/time/time.h"
#include "common/grpc/admin_service.h"
#include "common/store/checkpoint.h"
#include "services/analytics/api/automation_validation.h"
#include "services/analytics/api/validation.h"
#include "services/contact/api/validation.h"
#include "services/interaction/api/validation.h"
#include "services/sales/api/validation.h"
#include "tests/fuzz/quiet_protobuf.h"

namespace {

namespace cv1 = crm::contact::v1;
namespace iv1 = crm::interaction::v1;
namespace sv1 = crm::sales::v1;
namespace av1 = crm::analytics::v1;

// Parses a request of type `Request` from the bytes and validates it twice.
template <typename Request, auto Validate>
void Check(const uint8_t* data, size_t size) {
  Request request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return;
  const auto first = Validate(request);
  const auto second = Validate(request);
  if (first.ok() != second.ok()) __builtin_trap();  // validation must be deterministic
}

// Validations that take more than the request.
constexpr absl::Time kNow = absl::FromUnixSeconds(1800000000);
auto LogAt(const iv1::LogInteractionRequest& r) { return crm::interaction::ValidateLog(r, kNow); }
auto UpdateAt(const iv1::UpdateInteractionRequest& r) {
  return crm::interaction::ValidateUpdate(r, kNow);
}
template <typename Request>
absl::Status TaskChange(const Request& r) {
  return crm::interaction::ValidateTaskChange(r.id(), r.expected_version(), r.request_id());
}
template <typename Request>
absl::Status DealChange(const Request& r) {
  return crm::sales::ValidateDealChange(r.id(), r.expected_version(), r.request_id());
}
template <typename Request>
absl::Status OrderChange(const Request& r) {
  return crm::sales::ValidateOrderChange(r.id(), r.expected_version(), r.request_id());
}

absl::Status CheckpointName(const crm::admin::v1::CreateCheckpointRequest& r) {
  return crm::store::ValidateCheckpointName(r.name());
}

// One per validated request type. Append new ones: a seed's first byte is its index here.
constexpr void (*kCheckers[])(const uint8_t*, size_t) = {
    &Check<cv1::CreateContactRequest, crm::contact::ValidateCreate>,
    &Check<cv1::UpdateContactRequest, crm::contact::ValidateUpdate>,
    &Check<cv1::ListContactsRequest, crm::contact::ValidateList>,
    &Check<cv1::SearchContactsRequest, crm::contact::ValidateSearch>,
    &Check<cv1::MergeContactsRequest, crm::contact::ValidateMerge>,
    &Check<cv1::CreateCompanyRequest, crm::contact::ValidateCreateCompany>,
    &Check<cv1::UpdateDataQualityRulesRequest, crm::contact::ValidateQualityRules>,
    &Check<iv1::LogInteractionRequest, LogAt>,
    &Check<iv1::ListTimelineRequest, crm::interaction::ValidateTimeline>,
    &Check<iv1::OpenCaseRequest, crm::interaction::ValidateOpenCase>,
    &Check<iv1::CreateTaskRequest, crm::interaction::ValidateCreateTask>,
    &Check<sv1::CreateProductRequest, crm::sales::ValidateCreateProduct>,
    &Check<sv1::CreateDealRequest, crm::sales::ValidateCreateDeal>,
    &Check<sv1::PlaceOrderRequest, crm::sales::ValidatePlaceOrder>,
    &Check<sv1::ListOrdersRequest, crm::sales::ValidateListOrders>,
    &Check<av1::CreateSegmentRequest, crm::analytics::ValidateCreateSegment>,
    &Check<cv1::GetContactRequest, crm::contact::ValidateGet>,
    &Check<cv1::DeleteContactRequest, crm::contact::ValidateDelete>,
    &Check<cv1::GetContactHistoryRequest, crm::contact::ValidateHistory>,
    &Check<cv1::UnmergeContactsRequest, crm::contact::ValidateUnmerge>,
    &Check<cv1::GetContactQualityRequest, crm::contact::ValidateContactQuality>,
    &Check<cv1::GetCompanyQualityRequest, crm::contact::ValidateCompanyQuality>,
    &Check<cv1::ListIncompleteContactsRequest, crm::contact::ValidateListIncomplete>,
    &Check<cv1::FindDuplicatesRequest, crm::contact::ValidateFindDuplicates>,
    &Check<cv1::ListDuplicateCandidatesRequest, crm::contact::ValidateListDuplicates>,
    &Check<cv1::UpdateCompanyRequest, crm::contact::ValidateUpdateCompany>,
    &Check<cv1::GetCompanyRequest, crm::contact::ValidateGetCompany>,
    &Check<cv1::DeleteCompanyRequest, crm::contact::ValidateDeleteCompany>,
    &Check<cv1::ListCompaniesRequest, crm::contact::ValidateListCompanies>,
    &Check<cv1::SearchCompaniesRequest, crm::contact::ValidateSearchCompanies>,
    &Check<cv1::GetCompanyHistoryRequest, crm::contact::ValidateCompanyHistory>,
    &Check<cv1::AddRelationshipRequest, crm::contact::ValidateAddRelationship>,
    &Check<cv1::RemoveRelationshipRequest, crm::contact::ValidateRemoveRelationship>,
    &Check<cv1::ListRelationshipsRequest, crm::contact::ValidateListRelationships>,
    &Check<iv1::UpdateInteractionRequest, UpdateAt>,
    &Check<iv1::GetInteractionRequest, crm::interaction::ValidateGet>,
    &Check<iv1::DeleteInteractionRequest, crm::interaction::ValidateDelete>,
    &Check<iv1::GetCaseRequest, crm::interaction::ValidateGetCase>,
    &Check<iv1::AssignCaseRequest, crm::interaction::ValidateAssignCase>,
    &Check<iv1::CommentOnCaseRequest, crm::interaction::ValidateCommentOnCase>,
    &Check<iv1::ChangeCasePriorityRequest, crm::interaction::ValidateChangeCasePriority>,
    &Check<iv1::ChangeCaseStatusRequest, crm::interaction::ValidateChangeCaseStatus>,
    &Check<iv1::ListCasesRequest, crm::interaction::ValidateListCases>,
    &Check<iv1::GetTaskRequest, crm::interaction::ValidateGetTask>,
    &Check<iv1::CompleteTaskRequest, TaskChange<iv1::CompleteTaskRequest>>,
    &Check<iv1::CancelTaskRequest, TaskChange<iv1::CancelTaskRequest>>,
    &Check<iv1::RescheduleTaskRequest, crm::interaction::ValidateReschedule>,
    &Check<iv1::ListTasksRequest, crm::interaction::ValidateListTasks>,
    &Check<sv1::UpdateProductRequest, crm::sales::ValidateUpdateProduct>,
    &Check<sv1::GetProductRequest, crm::sales::ValidateGetProduct>,
    &Check<sv1::DeactivateProductRequest, crm::sales::ValidateDeactivateProduct>,
    &Check<sv1::ListProductsRequest, crm::sales::ValidateListProducts>,
    &Check<sv1::CreatePipelineRequest, crm::sales::ValidateCreatePipeline>,
    &Check<sv1::UpdatePipelineRequest, crm::sales::ValidateUpdatePipeline>,
    &Check<sv1::GetPipelineRequest, crm::sales::ValidateGetPipeline>,
    &Check<sv1::UpdateDealRequest, crm::sales::ValidateUpdateDeal>,
    &Check<sv1::GetDealRequest, crm::sales::ValidateGetDeal>,
    &Check<sv1::MoveDealStageRequest, crm::sales::ValidateMoveDealStage>,
    &Check<sv1::WinDealRequest, DealChange<sv1::WinDealRequest>>,
    &Check<sv1::ReopenDealRequest, DealChange<sv1::ReopenDealRequest>>,
    &Check<sv1::LoseDealRequest, crm::sales::ValidateLoseDeal>,
    &Check<sv1::ListDealsRequest, crm::sales::ValidateListDeals>,
    &Check<sv1::GetOrderRequest, crm::sales::ValidateGetOrder>,
    &Check<sv1::PayOrderRequest, OrderChange<sv1::PayOrderRequest>>,
    &Check<sv1::FulfillOrderRequest, OrderChange<sv1::FulfillOrderRequest>>,
    &Check<sv1::CancelOrderRequest, OrderChange<sv1::CancelOrderRequest>>,
    &Check<sv1::RefundOrderRequest, crm::sales::ValidateRefund>,
    &Check<sv1::GetForecastRequest, crm::sales::ValidateForecast>,
    &Check<av1::GetCustomer360Request, crm::analytics::ValidateGetCustomer360>,
    &Check<av1::GetCustomerMetricsRequest, crm::analytics::ValidateGetCustomerMetrics>,
    &Check<av1::ListProductAssociationsRequest, crm::analytics::ValidateListProductAssociations>,
    &Check<av1::GetRecommendationsRequest, crm::analytics::ValidateGetRecommendations>,
    &Check<av1::GetRetentionRequest, crm::analytics::ValidateGetRetention>,
    &Check<av1::GetSalesReportRequest, crm::analytics::ValidateGetSalesReport>,
    &Check<av1::GetServiceReportRequest, crm::analytics::ValidateGetServiceReport>,
    &Check<av1::GetEngagementTrendRequest, crm::analytics::ValidateGetEngagementTrend>,
    &Check<av1::GetSegmentRequest, crm::analytics::ValidateGetSegment>,
    &Check<av1::ListSegmentsRequest, crm::analytics::ValidateListSegments>,
    &Check<av1::DeleteSegmentRequest, crm::analytics::ValidateDeleteSegment>,
    &Check<av1::ListSegmentMembersRequest, crm::analytics::ValidateListSegmentMembers>,
    &Check<av1::ListSeasonalBuyersRequest, crm::analytics::ValidateListSeasonalBuyers>,
    &Check<av1::SuggestCampaignRequest, crm::analytics::ValidateSuggestCampaign>,
    &Check<av1::GetModelRequest, crm::analytics::ValidateGetModel>,
    &Check<av1::FitModelRequest, crm::analytics::ValidateFitModel>,
    &Check<crm::admin::v1::ReadLogRequest, crm::grpcutil::ValidateReadLog>,
    &Check<crm::admin::v1::CreateCheckpointRequest, CheckpointName>,
    &Check<av1::CreateRuleRequest, crm::analytics::ValidateCreateRule>,
    &Check<av1::UpdateRuleRequest, crm::analytics::ValidateUpdateRule>,
    &Check<av1::TestRuleRequest, crm::analytics::ValidateTestRule>,
    &Check<av1::ListRuleRunsRequest, crm::analytics::ValidateListRuleRuns>,
    &Check<av1::UpdateMessagingPolicyRequest, crm::analytics::ValidateUpdateMessagingPolicy>,
    &Check<av1::ListMessagesRequest, crm::analytics::ValidateListMessages>,
    &Check<av1::ReportMessageStatusRequest, crm::analytics::ValidateReportMessageStatus>,
    &Check<av1::LaunchCampaignRequest, crm::analytics::ValidateLaunchCampaign>,
    &Check<av1::ListCampaignsRequest, crm::analytics::ValidateListCampaigns>,
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  kCheckers[data[0] % std::size(kCheckers)](data + 1, size - 1);
  return 0;
}

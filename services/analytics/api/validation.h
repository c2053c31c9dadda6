// Request validation for AnalyticsService: every field checked, errors name the field.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/validation/request_fields.h"
#include "crm/analytics/v1/analytics_service.pb.h"

namespace crm::analytics {

// The request's as_of in nanoseconds, or the time of the call when unset.
absl::StatusOr<int64_t> ValidateAsOf(bool has_as_of, const google::protobuf::Timestamp& as_of);

absl::StatusOr<int64_t> ValidateGetCustomer360(
    const crm::analytics::v1::GetCustomer360Request& request);
struct ValidMetricsRequest {
  int64_t as_of_nanos = 0;
  int horizon_days = 365;
};
absl::StatusOr<ValidMetricsRequest> ValidateGetCustomerMetrics(
    const crm::analytics::v1::GetCustomerMetricsRequest& request);
struct ValidAssociationsRequest {
  int64_t min_orders = 2;
  size_t limit = 50;
};
absl::StatusOr<ValidAssociationsRequest> ValidateListProductAssociations(
    const crm::analytics::v1::ListProductAssociationsRequest& request);
absl::StatusOr<ValidAssociationsRequest> ValidateGetRecommendations(
    const crm::analytics::v1::GetRecommendationsRequest& request);
struct ValidPeriod {
  int64_t start = 0;
  int64_t end = 0;
  int64_t as_of = 0;
};
struct ValidRetention {
  int64_t cohorts_from = 0;
  int64_t as_of = 0;
  int inactivity_days = 90;
};
absl::StatusOr<ValidRetention> ValidateGetRetention(
    const crm::analytics::v1::GetRetentionRequest& request);
absl::StatusOr<ValidPeriod> ValidateGetSalesReport(
    const crm::analytics::v1::GetSalesReportRequest& request);
absl::StatusOr<ValidPeriod> ValidateGetServiceReport(
    const crm::analytics::v1::GetServiceReportRequest& request);
struct ValidEngagement {
  int months = 12;
  int64_t as_of = 0;
};
absl::StatusOr<ValidEngagement> ValidateGetEngagementTrend(
    const crm::analytics::v1::GetEngagementTrendRequest& request);
// Segments. A valid filter names every bad field with its path under "segment.filter".
absl::Status ValidateCreateSegment(const crm::analytics::v1::CreateSegmentRequest& request);
absl::StatusOr<int64_t> ValidateGetSegment(const crm::analytics::v1::GetSegmentRequest& request);
struct ValidPage {
  std::string resume_after;
  size_t page_size = 0;
  int64_t as_of = 0;
};
absl::StatusOr<ValidPage> ValidateListSegments(
    const crm::analytics::v1::ListSegmentsRequest& request);
absl::Status ValidateDeleteSegment(const crm::analytics::v1::DeleteSegmentRequest& request);
absl::StatusOr<ValidPage> ValidateListSegmentMembers(
    const crm::analytics::v1::ListSegmentMembersRequest& request);
template <typename Request>
std::string PageToken(char kind, const Request& request, const std::string& resume_after);
struct ValidSeasonal {
  int64_t as_of = 0;
  size_t limit = 100;
  int min_years = 1;
};
absl::StatusOr<ValidSeasonal> ValidateListSeasonalBuyers(
    const crm::analytics::v1::ListSeasonalBuyersRequest& request);
absl::StatusOr<ValidSeasonal> ValidateSuggestCampaign(
    const crm::analytics::v1::SuggestCampaignRequest& request);
absl::Status ValidateGetModel(const crm::analytics::v1::GetModelRequest& request);
absl::StatusOr<int64_t> ValidateFitModel(const crm::analytics::v1::FitModelRequest& request);

template <typename Request>
std::string PageToken(char kind, const Request& request, const std::string& resume_after) {
  return validation::MakePageToken(kind, validation::PagingIdentity(request), resume_after);
}

}  // namespace crm::analytics

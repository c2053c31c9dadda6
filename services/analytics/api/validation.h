// Request validation for AnalyticsService: every field checked, errors name the field.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
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
absl::Status ValidateGetModel(const crm::analytics::v1::GetModelRequest& request);
absl::StatusOr<int64_t> ValidateFitModel(const crm::analytics::v1::FitModelRequest& request);

}  // namespace crm::analytics

#include "services/analytics/api/validation.h"

#include "absl/time/clock.h"
#include "common/money/money.h"
#include "common/projection/aggregate.h"
#include "common/status/status_macros.h"
#include "common/validation/request_fields.h"

namespace crm::analytics {

namespace v1 = crm::analytics::v1;
using validation::Invalid;

absl::StatusOr<int64_t> ValidateAsOf(bool has_as_of, const google::protobuf::Timestamp& as_of) {
  if (!has_as_of) return absl::ToUnixNanos(absl::Now());
  RETURN_IF_ERROR(validation::CheckTimestamp("as_of", as_of));
  if (as_of.seconds() < 0) return Invalid("as_of", "must not be before 1970");
  return projection::TimestampNanos(as_of);
}

absl::StatusOr<int64_t> ValidateGetCustomer360(const v1::GetCustomer360Request& request) {
  RETURN_IF_ERROR(validation::CheckId("contact_id", request.contact_id(), "contact"));
  return ValidateAsOf(request.has_as_of(), request.as_of());
}

absl::StatusOr<ValidMetricsRequest> ValidateGetCustomerMetrics(
    const v1::GetCustomerMetricsRequest& request) {
  RETURN_IF_ERROR(validation::CheckId("contact_id", request.contact_id(), "contact"));
  ValidMetricsRequest out;
  ASSIGN_OR_RETURN(out.as_of_nanos, ValidateAsOf(request.has_as_of(), request.as_of()));
  if (!request.currency_code().empty()) {
    RETURN_IF_ERROR(money::MinorDigits("currency_code", request.currency_code()).status());
  }
  if (request.horizon_days() < 0 || request.horizon_days() > 3650) {
    return Invalid("horizon_days", "must be 1 to 3650 days (0 means 365)");
  }
  if (request.horizon_days() > 0) out.horizon_days = request.horizon_days();
  return out;
}

namespace {

absl::StatusOr<int64_t> MinOrders(int32_t requested) {
  if (requested < 0) return Invalid("min_orders", "must not be negative (0 means 2)");
  return requested == 0 ? 2 : requested;
}

}  // namespace

absl::StatusOr<ValidAssociationsRequest> ValidateListProductAssociations(
    const v1::ListProductAssociationsRequest& request) {
  ValidAssociationsRequest out;
  if (!request.product_id().empty()) {
    RETURN_IF_ERROR(validation::CheckId("product_id", request.product_id(), "product"));
  }
  ASSIGN_OR_RETURN(out.min_orders, MinOrders(request.min_orders()));
  ASSIGN_OR_RETURN(out.limit, validation::PageSize(request.page_size(), 1000, 50));
  return out;
}

absl::StatusOr<ValidAssociationsRequest> ValidateGetRecommendations(
    const v1::GetRecommendationsRequest& request) {
  ValidAssociationsRequest out;
  RETURN_IF_ERROR(validation::CheckId("contact_id", request.contact_id(), "contact"));
  ASSIGN_OR_RETURN(out.min_orders, MinOrders(request.min_orders()));
  ASSIGN_OR_RETURN(out.limit, validation::PageSize(request.page_size(), 100, 5));
  return out;
}

namespace {

absl::StatusOr<ValidPeriod> Period(bool has_start, const google::protobuf::Timestamp& start,
                                   bool has_end, const google::protobuf::Timestamp& end) {
  if (!has_start) return Invalid("period_start", "is required");
  if (!has_end) return Invalid("period_end", "is required");
  RETURN_IF_ERROR(validation::CheckTimestamp("period_start", start));
  RETURN_IF_ERROR(validation::CheckTimestamp("period_end", end));
  if (start.seconds() < 0) return Invalid("period_start", "must not be before 1970");
  ValidPeriod out;
  out.start = projection::TimestampNanos(start);
  out.end = projection::TimestampNanos(end);
  if (out.end <= out.start) return Invalid("period_end", "must be after period_start");
  if (out.end - out.start > int64_t{10} * 366 * 86400 * 1000000000) {
    return Invalid("period_end", "the period may span at most 10 years");
  }
  return out;
}

}  // namespace

absl::StatusOr<ValidRetention> ValidateGetRetention(const v1::GetRetentionRequest& request) {
  ValidRetention out;
  if (!request.has_cohorts_from()) return Invalid("cohorts_from", "is required");
  RETURN_IF_ERROR(validation::CheckTimestamp("cohorts_from", request.cohorts_from()));
  if (request.cohorts_from().seconds() < 0) {
    return Invalid("cohorts_from", "must not be before 1970");
  }
  out.cohorts_from = projection::TimestampNanos(request.cohorts_from());
  ASSIGN_OR_RETURN(out.as_of, ValidateAsOf(request.has_as_of(), request.as_of()));
  if (out.as_of < out.cohorts_from) return Invalid("as_of", "must not be before cohorts_from");
  if (request.inactivity_days() < 0 || request.inactivity_days() > 3650) {
    return Invalid("inactivity_days", "must be 1 to 3650 (0 means 90)");
  }
  if (request.inactivity_days() > 0) out.inactivity_days = request.inactivity_days();
  return out;
}

absl::StatusOr<ValidPeriod> ValidateGetSalesReport(const v1::GetSalesReportRequest& request) {
  ASSIGN_OR_RETURN(ValidPeriod out, Period(request.has_period_start(), request.period_start(),
                                           request.has_period_end(), request.period_end()));
  RETURN_IF_ERROR(money::MinorDigits("currency_code", request.currency_code()).status());
  return out;
}

absl::StatusOr<ValidPeriod> ValidateGetServiceReport(const v1::GetServiceReportRequest& request) {
  ASSIGN_OR_RETURN(ValidPeriod out, Period(request.has_period_start(), request.period_start(),
                                           request.has_period_end(), request.period_end()));
  ASSIGN_OR_RETURN(out.as_of, ValidateAsOf(request.has_as_of(), request.as_of()));
  return out;
}

absl::StatusOr<ValidEngagement> ValidateGetEngagementTrend(
    const v1::GetEngagementTrendRequest& request) {
  RETURN_IF_ERROR(validation::CheckId("contact_id", request.contact_id(), "contact"));
  ValidEngagement out;
  if (request.months() < 0 || request.months() > 120) {
    return Invalid("months", "must be 1 to 120 (0 means 12)");
  }
  if (request.months() > 0) out.months = request.months();
  ASSIGN_OR_RETURN(out.as_of, ValidateAsOf(request.has_as_of(), request.as_of()));
  return out;
}

absl::Status ValidateGetModel(const v1::GetModelRequest& request) {
  return money::MinorDigits("currency_code", request.currency_code()).status();
}

absl::StatusOr<int64_t> ValidateFitModel(const v1::FitModelRequest& request) {
  RETURN_IF_ERROR(validation::CheckRequestId(request.request_id()));
  RETURN_IF_ERROR(money::MinorDigits("currency_code", request.currency_code()).status());
  return ValidateAsOf(request.has_as_of(), request.as_of());
}

}  // namespace crm::analytics

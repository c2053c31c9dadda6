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

absl::Status ValidateGetModel(const v1::GetModelRequest& request) {
  return money::MinorDigits("currency_code", request.currency_code()).status();
}

absl::StatusOr<int64_t> ValidateFitModel(const v1::FitModelRequest& request) {
  RETURN_IF_ERROR(validation::CheckRequestId(request.request_id()));
  RETURN_IF_ERROR(money::MinorDigits("currency_code", request.currency_code()).status());
  return ValidateAsOf(request.has_as_of(), request.as_of());
}

}  // namespace crm::analytics

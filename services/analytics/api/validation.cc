#include "services/analytics/api/validation.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/money/money.h"
#include "common/projection/aggregate.h"
#include "common/status/status_macros.h"
#include "common/validation/request_fields.h"

namespace crm::analytics {

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

namespace {

absl::Status CheckBand(const std::string& field, const v1::RfmBand& band) {
  if (band.min() < 1 || band.min() > 5) return Invalid(field + ".min", "must be 1 to 5");
  if (band.max() < band.min() || band.max() > 5) {
    return Invalid(field + ".max", "must be min to 5");
  }
  return absl::OkStatus();
}

absl::Status CheckFilter(const v1::SegmentFilter& f) {
  const std::string at = "segment.filter.";
  for (int i = 0; i < f.lifecycle_stages_size(); ++i) {
    const auto stage = f.lifecycle_stages(i);
    if (stage == crm::contact::v1::LIFECYCLE_STAGE_UNSPECIFIED ||
        !crm::contact::v1::LifecycleStage_IsValid(stage)) {
      return Invalid(absl::StrCat(at, "lifecycle_stages[", i, "]"), "is not a lifecycle stage");
    }
  }
  if (f.tags_size() > 50) return Invalid(at + "tags", "at most 50 are allowed");
  for (int i = 0; i < f.tags_size(); ++i) {
    RETURN_IF_ERROR(validation::CheckText(absl::StrCat(at, "tags[", i, "]"), f.tags(i), 100,
                                          /*required=*/true));
  }
  RETURN_IF_ERROR(validation::CheckPrincipal(at + "owner", f.owner(), 128));
  RETURN_IF_ERROR(validation::CheckText(at + "company_industry", f.company_industry(), 100));
  const bool needs_currency = f.has_recency() || f.has_frequency() || f.has_monetary() ||
                              f.has_revenue_min() || f.has_revenue_max();
  if (needs_currency || !f.currency_code().empty()) {
    RETURN_IF_ERROR(money::MinorDigits(at + "currency_code", f.currency_code()).status());
  }
  if (f.has_recency()) RETURN_IF_ERROR(CheckBand(at + "recency", f.recency()));
  if (f.has_frequency()) RETURN_IF_ERROR(CheckBand(at + "frequency", f.frequency()));
  if (f.has_monetary()) RETURN_IF_ERROR(CheckBand(at + "monetary", f.monetary()));
  for (const auto& [name, m] :
       {std::pair{"revenue_min", &f.revenue_min()}, {"revenue_max", &f.revenue_max()}}) {
    if (!(name == std::string("revenue_min") ? f.has_revenue_min() : f.has_revenue_max())) continue;
    RETURN_IF_ERROR(money::Validate(at + name, *m));
    if (m->currency_code() != f.currency_code()) {
      return Invalid(at + name + ".currency_code", "must be the filter's currency_code");
    }
  }
  if (f.has_revenue_min() && f.has_revenue_max() &&
      f.revenue_max().minor_units() < f.revenue_min().minor_units()) {
    return Invalid(at + "revenue_max", "must not be below revenue_min");
  }
  if (f.has_last_purchase_before()) {
    RETURN_IF_ERROR(
        validation::CheckTimestamp(at + "last_purchase_before", f.last_purchase_before()));
  }
  if (f.has_last_purchase_after()) {
    RETURN_IF_ERROR(
        validation::CheckTimestamp(at + "last_purchase_after", f.last_purchase_after()));
  }
  if (!f.bought_product_id().empty()) {
    RETURN_IF_ERROR(
        validation::CheckId(at + "bought_product_id", f.bought_product_id(), "product"));
  }
  RETURN_IF_ERROR(validation::CheckText(at + "bought_category", f.bought_category(), 100));
  if (f.bought_in_month() < 0 || f.bought_in_month() > 12) {
    return Invalid(at + "bought_in_month", "must be 1 to 12 (0: any month)");
  }
  if (f.bought_in_month() != 0 && f.bought_product_id().empty() && f.bought_category().empty()) {
    return Invalid(at + "bought_in_month", "needs bought_product_id or bought_category");
  }
  if (f.interacted_within_days() < 0 || f.interacted_within_days() > 3650) {
    return Invalid(at + "interacted_within_days", "must be 1 to 3650 (0: not a condition)");
  }
  if (!crm::contact::v1::ConsentChannel_IsValid(f.consent_channel())) {
    return Invalid(at + "consent_channel", "is not a consent channel");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateCreateSegment(const v1::CreateSegmentRequest& request) {
  RETURN_IF_ERROR(validation::CheckRequestId(request.request_id()));
  if (!request.has_segment()) return Invalid("segment", "is required");
  const v1::Segment& s = request.segment();
  if (!s.id().empty()) return Invalid("segment.id", "must be empty; the service assigns ids");
  RETURN_IF_ERROR(validation::CheckText("segment.name", s.name(), 200, /*required=*/true));
  if (s.size() != 0 || s.has_revenue() || s.version() != 0 || s.has_create_time()) {
    return Invalid("segment.size", "size, revenue, version and create_time are output only");
  }
  return CheckFilter(s.filter());
}

absl::StatusOr<int64_t> ValidateGetSegment(const v1::GetSegmentRequest& request) {
  RETURN_IF_ERROR(validation::CheckId("id", request.id(), "segment"));
  return ValidateAsOf(request.has_as_of(), request.as_of());
}

absl::StatusOr<ValidPage> ValidateListSegments(const v1::ListSegmentsRequest& request) {
  ValidPage out;
  ASSIGN_OR_RETURN(out.page_size, validation::PageSize(request.page_size(), 1000, 50));
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(
        out.resume_after,
        validation::ReadPageToken(request.page_token(), 'G', validation::PagingIdentity(request)));
  }
  return out;
}

absl::Status ValidateDeleteSegment(const v1::DeleteSegmentRequest& request) {
  RETURN_IF_ERROR(validation::CheckWriteCommon(request.request_id(), request.expected_version()));
  return validation::CheckId("id", request.id(), "segment");
}

absl::StatusOr<ValidPage> ValidateListSegmentMembers(const v1::ListSegmentMembersRequest& request) {
  RETURN_IF_ERROR(validation::CheckId("id", request.id(), "segment"));
  ValidPage out;
  ASSIGN_OR_RETURN(out.page_size, validation::PageSize(request.page_size(), 1000, 100));
  ASSIGN_OR_RETURN(out.as_of, ValidateAsOf(request.has_as_of(), request.as_of()));
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(
        out.resume_after,
        validation::ReadPageToken(request.page_token(), 'M', validation::PagingIdentity(request)));
  }
  return out;
}

namespace {

// What a seasonal question names: a product or a category, a month, a currency.
template <typename Request>
absl::Status CheckSeason(const Request& r) {
  if (r.product_id().empty() && r.category().empty()) {
    return Invalid("product_id", "give a product_id or a category");
  }
  if (!r.product_id().empty()) {
    RETURN_IF_ERROR(validation::CheckId("product_id", r.product_id(), "product"));
  }
  RETURN_IF_ERROR(validation::CheckText("category", r.category(), 100));
  if (r.month() < 1 || r.month() > 12) return Invalid("month", "must be 1 to 12");
  return money::MinorDigits("currency_code", r.currency_code()).status();
}

}  // namespace

absl::StatusOr<ValidSeasonal> ValidateListSeasonalBuyers(
    const v1::ListSeasonalBuyersRequest& request) {
  RETURN_IF_ERROR(CheckSeason(request));
  ValidSeasonal out;
  ASSIGN_OR_RETURN(out.as_of, ValidateAsOf(request.has_as_of(), request.as_of()));
  ASSIGN_OR_RETURN(out.limit, validation::PageSize(request.page_size(), 10000, 100));
  return out;
}

absl::StatusOr<ValidSeasonal> ValidateSuggestCampaign(const v1::SuggestCampaignRequest& request) {
  RETURN_IF_ERROR(CheckSeason(request));
  if (request.channel() == crm::contact::v1::CONSENT_CHANNEL_UNSPECIFIED ||
      !crm::contact::v1::ConsentChannel_IsValid(request.channel())) {
    return Invalid("channel", "is required: email, sms, phone or post");
  }
  if (request.min_years() < 0 || request.min_years() > 100) {
    return Invalid("min_years", "must be 1 to 100 (0 means 1)");
  }
  ValidSeasonal out;
  if (request.min_years() > 0) out.min_years = request.min_years();
  ASSIGN_OR_RETURN(out.as_of, ValidateAsOf(request.has_as_of(), request.as_of()));
  if (request.limit() < 0 || request.limit() > 10000) {
    return Invalid("limit", "must be 1 to 10000 (0 means 1000)");
  }
  out.limit = request.limit() == 0 ? 1000 : static_cast<size_t>(request.limit());
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

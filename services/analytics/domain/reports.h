// Tenant-wide reports: retention cohorts and churn, sales, service, a customer's engagement
// trend. Pure functions of the records the projection holds; definitions in
// crm/analytics/v1/resources.proto.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "crm/analytics/v1/analytics_service.pb.h"
#include "crm/analytics/v1/resources.pb.h"
#include "crm/interaction/v1/resources.pb.h"
#include "crm/sales/v1/resources.pb.h"

namespace crm::analytics {

using crm::analytics::v1::EngagementTrend;
using crm::analytics::v1::GetRetentionResponse;
using crm::analytics::v1::SalesReport;
using crm::analytics::v1::ServiceReport;

// Cohorts and churn from each customer's purchase times (nanoseconds, any order), counting
// purchases at or before `as_of`; months from `cohorts_from`'s to `as_of`'s (UTC).
GetRetentionResponse ComputeRetention(const std::vector<std::vector<int64_t>>& customers,
                                      int64_t cohorts_from, int64_t as_of, int inactivity_days);

struct SalesInput {
  int64_t period_start = 0;  // nanoseconds, inclusive
  int64_t period_end = 0;    // exclusive
  std::string currency_code;
  std::vector<crm::sales::v1::Order> orders;  // every order
  std::vector<crm::sales::v1::Deal> deals;    // every deal
  std::map<std::string, crm::sales::v1::Product> products;
};
// OUT_OF_RANGE if a sum overflows.
absl::StatusOr<SalesReport> ComputeSalesReport(const SalesInput& in);

// True if the case missed a target by `as_of`: flagged, or a due time passed without the
// response or the resolution.
bool CaseBreached(const crm::interaction::v1::Case& c, int64_t as_of);

ServiceReport ComputeServiceReport(
    const std::vector<crm::interaction::v1::Interaction>& interactions,
    const std::vector<crm::interaction::v1::Case>& cases, int64_t period_start, int64_t period_end,
    int64_t as_of);

EngagementTrend ComputeEngagement(
    const std::string& contact_id,
    const std::vector<crm::interaction::v1::Interaction>& interactions, int months, int64_t as_of);

}  // namespace crm::analytics

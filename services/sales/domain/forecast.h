// The forecast: a pure function of the deals and a period. Exact money throughout.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "crm/sales/v1/resources.pb.h"
#include "crm/sales/v1/sales_service.pb.h"
#include "services/sales/domain/deal.h"

namespace crm::sales {

// Probability at or above which an open deal counts towards "commit".
inline constexpr int32_t kCommitProbabilityBp = 7500;

struct ForecastInput {
  google::protobuf::Timestamp period_start;  // inclusive
  google::protobuf::Timestamp period_end;    // exclusive
  std::string currency_code;
  // The pipelines whose stages order the win rates (those the forecast covers).
  std::vector<Pipeline> pipelines;
};

// The forecast over `deals` (already filtered by owner and pipeline). OUT_OF_RANGE on overflow.
absl::StatusOr<crm::sales::v1::Forecast> ComputeForecast(const std::vector<Deal>& deals,
                                                         const ForecastInput& input);

}  // namespace crm::sales

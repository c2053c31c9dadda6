// A customer's figures: revenue, purchase counts and intervals, RFM scores, the purchase models'
// predictions and churn risk. Pure functions of the customer's purchases (their own and those of
// contacts merged into them), the tenant's population and fitted model, and a time.
//
//   CustomerFacts facts = *FactsOf(purchases, "EUR", as_of_nanos);
//   RfmScores rfm = ScoreRfm(RfmKeyOf(facts, as_of_nanos), population);
//   CustomerMetrics m = *BuildMetrics({...});
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "crm/analytics/v1/projection.pb.h"
#include "crm/analytics/v1/resources.pb.h"
#include "services/analytics/domain/models.h"

namespace crm::analytics {

using crm::analytics::v1::CustomerMetrics;
using crm::analytics::v1::LedgerPurchase;
using crm::analytics::v1::PurchaseModel;
using crm::analytics::v1::RfmScores;

// The currency most of `purchases` are in (ties: the first in alphabetical order); "" if none.
std::string MainCurrency(const std::vector<LedgerPurchase>& purchases);

// What the figures are built from: the purchases in one currency at or before a time.
struct CustomerFacts {
  std::string currency_code;
  int digits = 2;             // minor digits of the currency
  int purchases = 0;          // orders counted
  int64_t revenue_minor = 0;  // sum of their net amounts
  int64_t first_nanos = 0;    // first purchase
  int64_t last_nanos = 0;     // last purchase
  int64_t typical_interval_seconds = 0;
  int purchase_days = 0;          // distinct UTC days
  RepeatHistory repeat;           // the models' view, T measured to the time given
  int other_currency_orders = 0;  // purchases at or before the time in other currencies
};

// INVALID_ARGUMENT for an unknown currency; OUT_OF_RANGE if the revenue overflows.
absl::StatusOr<CustomerFacts> FactsOf(const std::vector<LedgerPurchase>& purchases,
                                      const std::string& currency_code, int64_t as_of_nanos);

// The values RFM ranks: time since the last purchase, purchase days, revenue.
struct RfmKey {
  int64_t recency_nanos = 0;
  int64_t purchase_days = 0;
  int64_t revenue_minor = 0;
};
RfmKey RfmKeyOf(const CustomerFacts& facts, int64_t as_of_nanos);
// Scores `me` against `population` (which includes `me`): see RfmScores in resources.proto.
RfmScores ScoreRfm(const RfmKey& me, const std::vector<RfmKey>& population);

// What churn reasons are drawn from besides the purchases.
struct EngagementFacts {
  int open_cases = 0;
  int breached_cases = 0;  // open or not
  std::optional<int64_t> last_interaction_nanos;
};

struct MetricsInput {
  std::string contact_id;
  int64_t as_of_nanos = 0;
  int horizon_days = 365;
  CustomerFacts facts;
  std::optional<RfmScores> rfm;        // unset without purchases
  std::optional<PurchaseModel> model;  // the currency's fitted model, if any
  EngagementFacts engagement;
};

// Churn risk in basis points at `as_of_nanos` (see CustomerMetrics.churn_risk_bp), from `facts`
// taken at that time. While no purchase is added it does not fall as as_of_nanos grows.
int32_t ChurnRiskBp(const CustomerFacts& facts, const std::optional<PurchaseModel>& model,
                    int64_t as_of_nanos);

// The figures; OUT_OF_RANGE if an amount overflows.
absl::StatusOr<CustomerMetrics> BuildMetrics(const MetricsInput& in);

// The models' view of a customer's history at `as_of_nanos`.
RepeatHistory RepeatHistoryOf(const std::vector<LedgerPurchase>& purchases, int64_t as_of_nanos,
                              int digits);

}  // namespace crm::analytics

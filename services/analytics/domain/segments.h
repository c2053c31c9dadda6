// Segment membership: whether a customer meets a SegmentFilter at a time. Pure; the service
// gathers what a customer view holds. Definitions in crm/analytics/v1/resources.proto.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "crm/analytics/v1/projection.pb.h"
#include "crm/analytics/v1/resources.pb.h"
#include "crm/contact/v1/resources.pb.h"
#include "services/analytics/domain/metrics.h"

namespace crm::analytics {

using crm::analytics::v1::SegmentFilter;

// Scores RFM keys against one population in O(log n) each (same scores as ScoreRfm).
class RfmScorer {
 public:
  explicit RfmScorer(const std::vector<RfmKey>& population);
  RfmScores Score(const RfmKey& key) const;

 private:
  std::vector<int64_t> recency_;    // ascending
  std::vector<int64_t> frequency_;  // ascending
  std::vector<int64_t> monetary_;   // ascending
};

// What a filter is checked against, for one customer at the evaluation time.
struct CustomerView {
  const crm::contact::v1::Contact* contact = nullptr;
  std::vector<std::string> industries;                     // of affiliated companies, lower case
  const std::vector<LedgerPurchase>* purchases = nullptr;  // every currency, merged included
  std::function<std::string(const std::string& product_id)> category_of;  // lower case
  std::optional<int64_t> last_interaction_nanos;  // at or before the evaluation time
  std::optional<RfmScores> rfm;                   // in the filter's currency, if it has purchases
  int64_t revenue_minor = 0;                      // in the filter's currency
};

// What the service must fill in for a filter.
bool UsesRfm(const SegmentFilter& filter);
bool UsesInteractions(const SegmentFilter& filter);

// True if the customer meets every condition set in `filter` at `as_of_nanos` (purchases after
// it do not count).
bool Matches(const SegmentFilter& filter, const CustomerView& view, int64_t as_of_nanos);

// True if the contact's latest consent record for `channel` grants it.
bool ConsentGranted(const crm::contact::v1::Contact& contact,
                    crm::contact::v1::ConsentChannel channel);

}  // namespace crm::analytics

// Seasonal buying and campaign targeting: who bought a product or category in a month of the
// year in earlier years, what they spent then, and the offer to make them before the month comes
// round again. Pure; the rule is written out in crm/analytics/v1/resources.proto
// (CampaignSuggestion).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "crm/analytics/v1/projection.pb.h"
#include "crm/analytics/v1/resources.pb.h"

namespace crm::analytics {

using crm::analytics::v1::CampaignSuggestion;
using crm::analytics::v1::SeasonalBuyer;

// A customer's seasonal record for lines matching `matches`, in `month` (1-12) of the years
// whose occurrence of it ended by `as_of`, in `currency`; nullopt if they never bought it then.
std::optional<SeasonalBuyer> SeasonalOf(
    const std::string& contact_id, const std::string& display_name,
    const std::vector<crm::analytics::v1::LedgerPurchase>& purchases,
    const std::function<bool(const crm::analytics::v1::LedgerLine&)>& matches, int month,
    const std::string& currency, int64_t as_of);

// Ranking: more years, then higher typical spend, then contact id.
bool BetterSeasonal(const SeasonalBuyer& x, const SeasonalBuyer& y);

// The campaign from the consenting buyers (already ranked or not), `without_consent` of them
// left out, for `month` planned at `as_of`; at most `limit` targets. `digits`: the currency's
// minor digits.
CampaignSuggestion SuggestCampaignFor(std::vector<SeasonalBuyer> consenting, int without_consent,
                                      int month, int64_t as_of, int digits, size_t limit);

}  // namespace crm::analytics

#include "services/analytics/domain/seasonal.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/projection/aggregate.h"

namespace crm::analytics {

namespace av1 = crm::analytics::v1;
using projection::TimestampNanos;

namespace {

constexpr int kLeadDays = 21;

absl::CivilMonth MonthOf(int64_t nanos) {
  return absl::ToCivilMonth(absl::FromUnixNanos(nanos), absl::UTCTimeZone());
}

int64_t StartOf(absl::CivilMonth m) {
  return absl::ToUnixNanos(absl::FromCivil(m, absl::UTCTimeZone()));
}

}  // namespace

std::optional<SeasonalBuyer> SeasonalOf(const std::string& contact_id,
                                        const std::string& display_name,
                                        const std::vector<av1::LedgerPurchase>& purchases,
                                        const std::function<bool(const av1::LedgerLine&)>& matches,
                                        int month, const std::string& currency, int64_t as_of) {
  std::map<int64_t, int64_t> by_year;  // year -> spend in minor units
  for (const av1::LedgerPurchase& p : purchases) {
    if (p.net().currency_code() != currency) continue;
    const absl::CivilMonth m = MonthOf(TimestampNanos(p.order_time()));
    if (m.month() != month || StartOf(m + 1) > as_of) continue;  // that month must have ended
    int64_t spend = 0;
    bool any = false;
    for (const av1::LedgerLine& line : p.lines()) {
      if (!matches(line)) continue;
      any = true;
      spend += line.amount().minor_units();
    }
    if (any) by_year[m.year()] += spend;
  }
  if (by_year.empty()) return std::nullopt;
  std::vector<int64_t> spends;
  for (const auto& [year, spend] : by_year) spends.push_back(spend);
  std::sort(spends.begin(), spends.end());
  SeasonalBuyer b;
  b.set_contact_id(contact_id);
  b.set_display_name(display_name);
  b.set_years(static_cast<int32_t>(by_year.size()));
  b.mutable_typical_spend()->set_currency_code(currency);
  b.mutable_typical_spend()->set_minor_units(spends[(spends.size() - 1) / 2]);
  b.set_last_year(static_cast<int32_t>(by_year.rbegin()->first));
  return b;
}

bool BetterSeasonal(const SeasonalBuyer& x, const SeasonalBuyer& y) {
  return std::make_tuple(-x.years(), -x.typical_spend().minor_units(), x.contact_id()) <
         std::make_tuple(-y.years(), -y.typical_spend().minor_units(), y.contact_id());
}

CampaignSuggestion SuggestCampaignFor(std::vector<SeasonalBuyer> consenting, int without_consent,
                                      int month, int64_t as_of, int digits, size_t limit) {
  CampaignSuggestion out;
  out.set_month(month);
  // The month's next start after as_of.
  absl::CivilMonth next = MonthOf(as_of);
  do {
    next += 1;
  } while (next.month() != month);
  const int64_t send_by = StartOf(next) - int64_t{kLeadDays} * 86400 * 1000000000;
  out.mutable_send_by()->set_seconds(send_by / 1000000000);
  std::sort(consenting.begin(), consenting.end(), BetterSeasonal);
  int64_t unit = 1;
  for (int i = 0; i < digits; ++i) unit *= 10;
  int64_t total = 0;
  std::string currency;
  for (SeasonalBuyer& b : consenting) {
    if (static_cast<size_t>(out.targets_size()) >= limit) break;
    currency = b.typical_spend().currency_code();
    const int64_t twice = 2 * b.typical_spend().minor_units();
    const int64_t offer = (twice + unit - 1) / unit * unit;  // up to a whole major unit
    av1::CampaignTarget* t = out.add_targets();
    t->mutable_offer_value()->set_currency_code(currency);
    t->mutable_offer_value()->set_minor_units(offer);
    *t->mutable_buyer() = std::move(b);
    total += offer;
  }
  out.set_without_consent(without_consent);
  if (!currency.empty()) {
    out.mutable_total_offer_value()->set_currency_code(currency);
    out.mutable_total_offer_value()->set_minor_units(total);
  }
  out.set_rule(
      "Seasonal buyers of it in this month who consented to the channel, ranked by years bought, "
      "then typical spend; each offered a bundle worth twice their typical spend (rounded up to "
      "a whole unit), sent 21 days before the month starts.");
  return out;
}

}  // namespace crm::analytics

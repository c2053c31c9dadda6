// Seasonal buyers and the campaign offer rule.
#include "services/analytics/domain/seasonal.h"

#include <gtest/gtest.h>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace crm::analytics {
namespace {

namespace av1 = crm::analytics::v1;

int64_t At(int year, int month, int day) {
  return absl::ToUnixNanos(absl::FromCivil(absl::CivilDay(year, month, day), absl::UTCTimeZone()));
}

av1::LedgerPurchase Buy(int64_t when, const std::string& product, int64_t cents) {
  av1::LedgerPurchase p;
  p.mutable_order_time()->set_seconds(when / 1000000000);
  p.mutable_net()->set_currency_code("EUR");
  p.mutable_net()->set_minor_units(cents);
  auto* line = p.add_lines();
  line->set_product_id(product);
  line->mutable_amount()->set_currency_code("EUR");
  line->mutable_amount()->set_minor_units(cents);
  return p;
}

TEST(Seasonal, YearsAndTypicalSpendInTheMonth) {
  const std::vector<av1::LedgerPurchase> purchases = {
      Buy(At(2023, 11, 3), "apples", 1500), Buy(At(2023, 11, 20), "apples", 500),  // 2023: 20.00
      Buy(At(2024, 11, 9), "apples", 1400),                                        // 2024: 14.00
      Buy(At(2025, 11, 9), "apples", 1600),                                        // 2025: 16.00
      Buy(At(2025, 10, 9), "apples", 9900),                                        // October
      Buy(At(2025, 11, 10), "pears", 9900),                                        // not apples
      Buy(At(2026, 11, 2), "apples", 9900)};  // November 2026 has not ended by as_of
  auto apples = [](const av1::LedgerLine& l) { return l.product_id() == "apples"; };
  std::optional<SeasonalBuyer> b =
      SeasonalOf("C", "Ann Lee", purchases, apples, 11, "EUR", At(2026, 11, 22));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->years(), 3);
  EXPECT_EQ(b->typical_spend().minor_units(), 1600);  // median of 14, 16, 20
  EXPECT_EQ(b->last_year(), 2025);
  EXPECT_FALSE(SeasonalOf("C", "", purchases, apples, 3, "EUR", At(2026, 11, 22)));
  EXPECT_FALSE(SeasonalOf("C", "", purchases, apples, 11, "USD", At(2026, 11, 22)));
}

TEST(Campaign, OffersTwiceTheTypicalSpendBeforeTheMonth) {
  auto buyer = [](const std::string& id, int years, int64_t cents) {
    SeasonalBuyer b;
    b.set_contact_id(id);
    b.set_years(years);
    b.mutable_typical_spend()->set_currency_code("EUR");
    b.mutable_typical_spend()->set_minor_units(cents);
    return b;
  };
  const CampaignSuggestion c =
      SuggestCampaignFor({buyer("b", 2, 1501), buyer("a", 3, 1000), buyer("c", 2, 1700)}, 4, 11,
                         At(2026, 9, 1), 2, 10);
  ASSERT_EQ(c.targets_size(), 3);
  EXPECT_EQ(c.targets(0).buyer().contact_id(), "a");  // most years
  EXPECT_EQ(c.targets(1).buyer().contact_id(), "c");  // then the bigger spender
  EXPECT_EQ(c.targets(1).offer_value().minor_units(), 3400);
  EXPECT_EQ(c.targets(2).offer_value().minor_units(), 3100);  // 30.02 rounded up to 31.00
  EXPECT_EQ(c.total_offer_value().minor_units(), 2000 + 3400 + 3100);
  EXPECT_EQ(c.without_consent(), 4);
  EXPECT_EQ(c.send_by().seconds() * 1000000000, At(2026, 10, 11));  // 21 days before Nov 1
  // Planned in December, the next November is a year away.
  EXPECT_EQ(SuggestCampaignFor({}, 0, 11, At(2026, 12, 5), 2, 10).send_by().seconds() * 1000000000,
            At(2027, 10, 11));
  EXPECT_EQ(SuggestCampaignFor({buyer("a", 1, 1), buyer("b", 1, 1)}, 0, 11, 0, 2, 1).targets_size(),
            1);
}

}  // namespace
}  // namespace crm::analytics

// A customer's figures: exact sums, same-day purchases, as_of, RFM ties, rounding, churn.
#include "services/analytics/domain/metrics.h"

#include <gtest/gtest.h>

namespace crm::analytics {
namespace {

constexpr int64_t kDay = int64_t{86400} * 1000000000;

LedgerPurchase Buy(const std::string& id, int64_t day, int64_t hour, int64_t cents,
                   const std::string& currency = "EUR") {
  LedgerPurchase p;
  p.set_order_id(id);
  p.mutable_order_time()->set_seconds(day * 86400 + hour * 3600);
  p.mutable_net()->set_currency_code(currency);
  p.mutable_net()->set_minor_units(cents);
  return p;
}

TEST(Facts, SumsExactlyAndCountsPurchaseDays) {
  const std::vector<LedgerPurchase> purchases = {
      Buy("a", 10, 9, 1000),       Buy("b", 10, 17, 550),  // one day, two orders
      Buy("c", 20, 9, 2000),       Buy("d", 50, 9, 333),   //
      Buy("e", 30, 9, 999, "USD"),                         // another currency
      Buy("f", 90, 9, 5000),                               // after as_of
  };
  absl::StatusOr<CustomerFacts> f = FactsOf(purchases, "EUR", 60 * kDay);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->purchases, 4);
  EXPECT_EQ(f->revenue_minor, 1000 + 550 + 2000 + 333);
  EXPECT_EQ(f->purchase_days, 3);
  EXPECT_EQ(f->other_currency_orders, 1);
  EXPECT_EQ(f->first_nanos, 10 * kDay + 9 * 3600 * int64_t{1000000000});
  // Gaps: 8 h, 9 d 16 h, 30 d; the median is the middle one.
  EXPECT_EQ(f->typical_interval_seconds, 9 * 86400 + 16 * 3600);
  EXPECT_EQ(f->repeat.x, 2);
  EXPECT_DOUBLE_EQ(f->repeat.t_x, 40.0);
  EXPECT_NEAR(f->repeat.T, 50 - 9.0 / 24, 1e-9);
  EXPECT_DOUBLE_EQ(f->repeat.mean_repeat_value, (20.00 + 3.33) / 2);
  EXPECT_EQ(MainCurrency(purchases), "EUR");
  EXPECT_EQ(FactsOf(purchases, "EURO", 60 * kDay).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Rfm, TiesShareAScoreAndTheBestScoreFive) {
  std::vector<RfmKey> population;
  for (int i = 0; i < 10; ++i) population.push_back({i * kDay, 10 - i, i < 5 ? 100 : 50});
  const RfmScores best = ScoreRfm(population[0], population);
  EXPECT_EQ(best.recency(), 5);
  EXPECT_EQ(best.frequency(), 5);
  EXPECT_EQ(best.monetary(), 3);  // five customers tie on 100: five are worse -> 1 + 25/10
  const RfmScores worst = ScoreRfm(population[9], population);
  EXPECT_EQ(worst.recency(), 1);
  EXPECT_EQ(worst.frequency(), 1);
  EXPECT_EQ(worst.monetary(), 1);
  EXPECT_EQ(worst.customers(), 10);
}

TEST(Metrics, AverageRoundsHalfToEvenAndChurnExplainsItself) {
  MetricsInput in;
  in.contact_id = "C";
  in.as_of_nanos = 200 * kDay;
  in.facts =
      *FactsOf({Buy("a", 10, 0, 1), Buy("b", 20, 0, 2), Buy("c", 30, 0, 2)}, "EUR", in.as_of_nanos);
  in.engagement.open_cases = 1;
  absl::StatusOr<CustomerMetrics> m = BuildMetrics(in);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->average_order_value().minor_units(), 2);  // 5 / 3 = 1.67
  in.facts = *FactsOf({Buy("a", 10, 0, 1), Buy("b", 20, 0, 4)}, "EUR", in.as_of_nanos);
  m = BuildMetrics(in);
  EXPECT_EQ(m->average_order_value().minor_units(), 2);  // 5 / 2 = 2.5 -> 2 (even)
  // No model: risk from how overdue the customer is; 190 days late on a 10-day rhythm.
  EXPECT_EQ(m->churn_risk_bp(), 10000);
  EXPECT_FALSE(m->has_model());
  std::vector<std::string> codes;
  for (const auto& r : m->churn_reasons()) codes.push_back(r.code());
  EXPECT_EQ(codes, (std::vector<std::string>{"OVERDUE", "OPEN_CASES", "NO_RECENT_CONTACT"}));

  // With a model: P(alive), expected purchases and spend, and the risk from P(alive).
  PurchaseModel model;
  model.set_bgnbd_r(0.5);
  model.set_bgnbd_alpha(10);
  model.set_bgnbd_a(0.8);
  model.set_bgnbd_b(2.5);
  model.set_gamma_gamma_p(6);
  model.set_gamma_gamma_q(4);
  model.set_gamma_gamma_gamma(15);
  in.model = model;
  in.horizon_days = 365;
  m = BuildMetrics(in);
  ASSERT_TRUE(m->has_model());
  const BgNbdParams bg{0.5, 10, 0.8, 2.5};
  const double alive = ProbabilityAlive(bg, 1, 10, 190);
  EXPECT_DOUBLE_EQ(m->probability_alive(), alive);
  EXPECT_EQ(m->churn_risk_bp(), static_cast<int32_t>(std::nearbyint(10000 * (1 - alive))));
  const double spend = ExpectedSpend({6, 4, 15}, 1, 0.04);
  EXPECT_EQ(m->expected_spend().minor_units(), static_cast<int64_t>(std::nearbyint(spend * 100)));
  EXPECT_EQ(m->predicted_clv().minor_units(),
            static_cast<int64_t>(std::nearbyint(spend * m->expected_purchases() * 100)));
}

TEST(Metrics, ACustomerWithoutPurchasesHasNoAmounts) {
  MetricsInput in;
  in.contact_id = "C";
  in.as_of_nanos = kDay;
  in.engagement.last_interaction_nanos = kDay / 2;
  absl::StatusOr<CustomerMetrics> m = BuildMetrics(in);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->order_count(), 0);
  EXPECT_FALSE(m->has_lifetime_revenue());
  EXPECT_EQ(m->churn_risk_bp(), 0);
  EXPECT_TRUE(m->churn_reasons().empty());
}

}  // namespace
}  // namespace crm::analytics

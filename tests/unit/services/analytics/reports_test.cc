// Reports: cohorts and churn, sales sums, service percentiles, engagement trend.
#include "services/analytics/domain/reports.h"

#include <gtest/gtest.h>

#include "absl/time/civil_time.h"

namespace crm::analytics {
namespace {

namespace iv1 = crm::interaction::v1;
namespace sv1 = crm::sales::v1;

int64_t At(int year, int month, int day) {
  return absl::ToUnixNanos(absl::FromCivil(absl::CivilDay(year, month, day), absl::UTCTimeZone()));
}

google::protobuf::Timestamp Ts(int64_t nanos) {
  google::protobuf::Timestamp t;
  t.set_seconds(nanos / 1000000000);
  return t;
}

TEST(Retention, CohortsCountRepeatBuyersAndChurnUsesTheWindow) {
  const std::vector<std::vector<int64_t>> customers = {
      {At(2026, 1, 5), At(2026, 2, 10), At(2026, 3, 1)},  // January cohort, buys every month
      {At(2026, 1, 20)},                                  // January, once
      {At(2026, 2, 2), At(2026, 2, 20)},                  // February, twice in its month
      {At(2026, 5, 1)},                                   // after as_of: not counted
  };
  const GetRetentionResponse r = ComputeRetention(customers, At(2026, 1, 1), At(2026, 3, 31), 30);
  ASSERT_EQ(r.cohorts_size(), 3);
  EXPECT_EQ(r.cohorts(0).customers(), 2);
  EXPECT_EQ(std::vector<int32_t>(r.cohorts(0).active().begin(), r.cohorts(0).active().end()),
            (std::vector<int32_t>{2, 1, 1}));
  EXPECT_EQ(r.cohorts(0).retention_bp(1), 5000);
  EXPECT_EQ(r.cohorts(1).customers(), 1);
  EXPECT_EQ(r.cohorts(1).active_size(), 2);
  EXPECT_EQ(r.cohorts(2).customers(), 0);
  // On Feb 1 the first two bought within 30 days (Jan 5, Jan 20); by the end of February the
  // second has lapsed. The third is new in February, not active at its start.
  EXPECT_EQ(r.churn(1).active_at_start(), 2);
  EXPECT_EQ(r.churn(1).churned(), 1);
  EXPECT_EQ(r.churn(1).churn_rate_bp(), 5000);
}

TEST(SalesReport, SumsRevenueByMonthProductCategoryAndOwner) {
  SalesInput in;
  in.period_start = At(2026, 1, 1);
  in.period_end = At(2026, 3, 1);
  in.currency_code = "EUR";
  sv1::Product apples;
  apples.set_id("A");
  apples.set_name("Apples");
  apples.set_category("Fruit");
  in.products["A"] = apples;
  auto order = [&](int64_t when, int64_t unit, int64_t qty, int64_t refunded,
                   sv1::OrderStatus status) {
    sv1::Order o;
    *o.mutable_order_time() = Ts(when);
    o.set_status(status);
    auto* line = o.add_line_items();
    line->set_product_id("A");
    line->set_quantity(qty);
    line->mutable_unit_price()->set_currency_code("EUR");
    line->mutable_unit_price()->set_minor_units(unit);
    o.mutable_net()->set_currency_code("EUR");
    o.mutable_net()->set_minor_units(unit * qty - refunded);
    return o;
  };
  in.orders = {order(At(2026, 1, 10), 500, 2, 0, sv1::ORDER_STATUS_PAID),
               order(At(2026, 2, 10), 300, 1, 100, sv1::ORDER_STATUS_PARTIALLY_REFUNDED),
               order(At(2026, 2, 11), 999, 1, 0, sv1::ORDER_STATUS_CANCELLED),
               order(At(2026, 3, 10), 700, 1, 0, sv1::ORDER_STATUS_PAID)};
  auto deal = [&](sv1::DealStatus status, const std::string& owner, int64_t cents, int64_t created,
                  int64_t closed) {
    sv1::Deal d;
    d.set_status(status);
    d.set_owner(owner);
    d.set_pipeline_id("default");
    d.set_stage_id("proposal");
    d.mutable_amount()->set_currency_code("EUR");
    d.mutable_amount()->set_minor_units(cents);
    *d.mutable_create_time() = Ts(created);
    if (closed) *d.mutable_close_time() = Ts(closed);
    return d;
  };
  in.deals = {deal(sv1::DEAL_STATUS_WON, "sam", 1000, At(2026, 1, 1), At(2026, 1, 11)),
              deal(sv1::DEAL_STATUS_LOST, "sam", 5000, At(2026, 1, 1), At(2026, 2, 1)),
              deal(sv1::DEAL_STATUS_OPEN, "kim", 2000, At(2026, 1, 1), 0)};
  absl::StatusOr<SalesReport> r = ComputeSalesReport(in);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->revenue().minor_units(), 1000 + 200);
  ASSERT_EQ(r->revenue_by_month_size(), 2);
  EXPECT_EQ(r->revenue_by_month(1).key(), "2026-02");
  EXPECT_EQ(r->revenue_by_month(1).revenue().minor_units(), 200);
  ASSERT_EQ(r->revenue_by_product_size(), 1);
  EXPECT_EQ(r->revenue_by_product(0).name(), "Apples");
  EXPECT_EQ(r->revenue_by_product(0).revenue().minor_units(), 1000 + 300);  // lines, pre-refund
  EXPECT_EQ(r->revenue_by_category(0).key(), "fruit");
  ASSERT_EQ(r->won_by_owner_size(), 1);
  EXPECT_EQ(r->won_by_owner(0).revenue().minor_units(), 1000);
  EXPECT_EQ(r->win_rate_bp(), 5000);
  EXPECT_EQ(r->average_sales_cycle_seconds(), 10 * 86400);
  ASSERT_EQ(r->pipeline_size(), 1);
  EXPECT_EQ(r->pipeline(0).amount().minor_units(), 2000);
}

TEST(ServiceReport, PercentilesAreNearestRankAndBreachesAreCounted) {
  std::vector<iv1::Case> cases;
  for (int i = 1; i <= 10; ++i) {
    iv1::Case c;
    *c.mutable_create_time() = Ts(At(2026, 1, 1));
    c.mutable_first_response_time()->set_seconds(c.create_time().seconds() + i * 60);
    if (i == 10) c.set_first_response_breached(true);
    cases.push_back(c);
  }
  iv1::Interaction call;
  call.set_channel(iv1::CHANNEL_CALL);
  *call.mutable_occurred_at() = Ts(At(2026, 1, 2));
  const ServiceReport r =
      ComputeServiceReport({call, call}, cases, At(2026, 1, 1), At(2026, 2, 1), At(2026, 3, 1));
  EXPECT_EQ(r.cases_opened(), 10);
  EXPECT_EQ(r.first_response_median_seconds(), 5 * 60);
  EXPECT_EQ(r.first_response_p90_seconds(), 9 * 60);
  EXPECT_EQ(r.breached_cases(), 1);
  EXPECT_EQ(r.sla_breach_rate_bp(), 1000);
  ASSERT_EQ(r.interactions_size(), 1);
  EXPECT_EQ(r.interactions(0).channel(), "call");
  EXPECT_EQ(r.interactions(0).interactions(), 2);
}

TEST(Engagement, CountsPerMonthAndFitsTheTrend) {
  std::vector<iv1::Interaction> interactions;
  for (int month = 1; month <= 3; ++month) {
    for (int k = 0; k < month; ++k) {
      iv1::Interaction i;
      i.set_id(std::to_string(month) + "-" + std::to_string(k));
      *i.mutable_occurred_at() = Ts(At(2026, month, 1 + k));
      interactions.push_back(i);
    }
  }
  const EngagementTrend t = ComputeEngagement("C", interactions, 3, At(2026, 3, 20));
  EXPECT_EQ(
      std::vector<int32_t>(t.interactions_per_month().begin(), t.interactions_per_month().end()),
      (std::vector<int32_t>{1, 2, 3}));
  EXPECT_DOUBLE_EQ(t.slope(), 1.0);
}

}  // namespace
}  // namespace crm::analytics

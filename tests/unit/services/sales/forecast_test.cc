#include "services/sales/domain/forecast.h"

#include <gtest/gtest.h>

namespace crm::sales {
namespace {

namespace v1 = crm::sales::v1;

google::protobuf::Timestamp At(int year, int month, int day) {
  google::protobuf::Timestamp t;
  t.set_seconds(
      absl::ToUnixSeconds(absl::FromCivil(absl::CivilDay(year, month, day), absl::UTCTimeZone())));
  return t;
}

Deal Open(int64_t cents, int32_t bp, int month, const std::string& currency = "EUR") {
  Deal d;
  d.set_status(v1::DEAL_STATUS_OPEN);
  d.mutable_amount()->set_currency_code(currency);
  d.mutable_amount()->set_minor_units(cents);
  d.set_probability_bp(bp);
  *d.mutable_expected_close_time() = At(2026, month, 15);
  return d;
}

Deal Closed(bool won, int64_t cents, std::vector<std::string> stages, int created_month,
            int closed_month) {
  Deal d;
  d.set_status(won ? v1::DEAL_STATUS_WON : v1::DEAL_STATUS_LOST);
  d.set_pipeline_id(kDefaultPipelineId);
  d.mutable_amount()->set_currency_code("EUR");
  d.mutable_amount()->set_minor_units(cents);
  for (const auto& s : stages) d.add_stage_history()->set_stage_id(s);
  *d.mutable_create_time() = At(2026, created_month, 1);
  *d.mutable_close_time() = At(2026, closed_month, 1);
  return d;
}

TEST(Forecast, WeighsTheOpenPipelineByMonthAndSumsExactly) {
  ForecastInput in{At(2026, 1, 1), At(2026, 4, 1), "EUR", {DefaultPipeline()}};
  const std::vector<Deal> deals = {
      Open(10001, 5000, 1),  // weighted 5000.5 -> 5000 (half to even)
      Open(20000, 7500, 2),  // commit
      Open(30000, 1000, 2),
      Open(99999, 5000, 6),  // outside the period
      Open(50000, 9000, 2, "USD"),
      Closed(true, 40000, {"qualification", "proposal"}, 1, 3),
      Closed(false, 1000, {"qualification"}, 1, 2),
  };
  auto f = ComputeForecast(deals, in);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->months_size(), 3);
  EXPECT_EQ(f->months(0).month(), 1);
  EXPECT_EQ(f->months(0).weighted().minor_units(), 5000);
  EXPECT_EQ(f->months(1).open_deals(), 2);
  EXPECT_EQ(f->months(1).open().minor_units(), 50000);
  EXPECT_EQ(f->months(1).weighted().minor_units(), 15000 + 3000);
  EXPECT_EQ(f->months(2).closed_won().minor_units(), 40000);
  EXPECT_EQ(f->open().minor_units(), 60001);
  EXPECT_EQ(f->weighted().minor_units(), 23000);
  EXPECT_EQ(f->closed_won().minor_units(), 40000);
  EXPECT_EQ(f->commit().minor_units(), 40000 + 20000);
  EXPECT_EQ(f->best_case().minor_units(), 40000 + 60001);
  EXPECT_EQ(f->other_currency_deals(), 1);
  // Qualification: 2 closed, 1 won; proposal: 1 closed, 1 won.
  ASSERT_GE(f->stage_win_rates_size(), 3);
  EXPECT_EQ(f->stage_win_rates(0).stage_id(), "qualification");
  EXPECT_EQ(f->stage_win_rates(0).win_rate_bp(), 5000);
  EXPECT_EQ(f->stage_win_rates(2).stage_id(), "proposal");
  EXPECT_EQ(f->stage_win_rates(2).win_rate_bp(), 10000);
  EXPECT_EQ(f->average_sales_cycle_seconds(), (31 + 28) * 86400);
}

TEST(Forecast, WinRatesFollowEachPipelineThenStagesSinceRemoved) {
  Pipeline lean;
  lean.set_id("lean");
  lean.add_stages()->set_id("pitch");
  lean.add_stages()->set_id("close");
  ForecastInput in{At(2026, 1, 1), At(2026, 2, 1), "EUR", {DefaultPipeline(), lean}};
  Deal won = Closed(true, 100, {"pitch", "close"}, 1, 1);
  won.set_pipeline_id("lean");
  Deal lost = Closed(false, 100, {"pitch", "demo"}, 1, 1);  // "demo" was removed since
  lost.set_pipeline_id("lean");
  auto f = ComputeForecast({won, lost}, in);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->stage_win_rates_size(), 4 + 2 + 1);
  EXPECT_EQ(f->stage_win_rates(0).pipeline_id(), "default");
  EXPECT_EQ(f->stage_win_rates(0).closed_deals(), 0);
  EXPECT_EQ(f->stage_win_rates(4).pipeline_id(), "lean");
  EXPECT_EQ(f->stage_win_rates(4).stage_id(), "pitch");
  EXPECT_EQ(f->stage_win_rates(4).closed_deals(), 2);
  EXPECT_EQ(f->stage_win_rates(4).win_rate_bp(), 5000);
  EXPECT_EQ(f->stage_win_rates(5).stage_id(), "close");
  EXPECT_EQ(f->stage_win_rates(5).win_rate_bp(), 10000);
  EXPECT_EQ(f->stage_win_rates(6).stage_id(), "demo");
  EXPECT_EQ(f->stage_win_rates(6).win_rate_bp(), 0);
}

TEST(Forecast, EmptyPeriodHasZeroesInItsCurrency) {
  ForecastInput in{At(2026, 5, 1), At(2026, 5, 20), "JPY", {}};
  auto f = ComputeForecast({}, in);
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f->months_size(), 1);
  EXPECT_EQ(f->open().currency_code(), "JPY");
  EXPECT_EQ(f->average_sales_cycle_seconds(), 0);
}

}  // namespace
}  // namespace crm::sales

#include "services/sales/domain/forecast.h"

#include <map>
#include <set>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/money/money.h"
#include "common/projection/aggregate.h"
#include "common/status/status_macros.h"

namespace crm::sales {

using crm::common::v1::Money;
using projection::TimestampNanos;

namespace {

absl::CivilMonth MonthOf(const google::protobuf::Timestamp& t) {
  return absl::ToCivilMonth(absl::FromUnixSeconds(t.seconds()), absl::UTCTimeZone());
}

bool InPeriod(const google::protobuf::Timestamp& t, const ForecastInput& in) {
  const int64_t n = TimestampNanos(t);
  return n >= TimestampNanos(in.period_start) && n < TimestampNanos(in.period_end);
}

absl::Status AddTo(Money& sum, const Money& amount) {
  ASSIGN_OR_RETURN(sum, money::Add(sum, amount));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::Forecast> ComputeForecast(const std::vector<Deal>& deals,
                                             const ForecastInput& in) {
  v1::Forecast out;
  const Money zero = money::Zero(in.currency_code);
  for (Money* m : {out.mutable_open(), out.mutable_weighted(), out.mutable_closed_won(),
                   out.mutable_commit(), out.mutable_best_case()}) {
    *m = zero;
  }
  // The months of the period, in order.
  std::map<absl::CivilMonth, v1::ForecastMonth> months;
  const absl::CivilMonth last = MonthOf(in.period_end);
  for (absl::CivilMonth m = MonthOf(in.period_start);
       m < last || (m == last && TimestampNanos(in.period_end) >
                                     absl::ToUnixNanos(absl::FromCivil(m, absl::UTCTimeZone())));
       ++m) {
    v1::ForecastMonth& fm = months[m];
    fm.set_year(static_cast<int32_t>(m.year()));
    fm.set_month(m.month());
    *fm.mutable_open() = zero;
    *fm.mutable_weighted() = zero;
    *fm.mutable_closed_won() = zero;
  }
  // (pipeline, stage) -> (closed, won)
  std::map<std::pair<std::string, std::string>, std::pair<int, int>> stage_counts;
  int64_t cycle_total = 0;
  int64_t won_count = 0;
  for (const Deal& d : deals) {
    if (d.amount().currency_code() != in.currency_code) {
      out.set_other_currency_deals(out.other_currency_deals() + 1);
      continue;
    }
    if (d.status() != v1::DEAL_STATUS_OPEN) {
      std::set<std::string> entered;
      for (const auto& visit : d.stage_history()) entered.insert(visit.stage_id());
      for (const std::string& stage : entered) {
        auto& [closed, won] = stage_counts[{d.pipeline_id(), stage}];
        ++closed;
        if (d.status() == v1::DEAL_STATUS_WON) ++won;
      }
    }
    if (d.status() == v1::DEAL_STATUS_WON) {
      cycle_total += d.close_time().seconds() - d.create_time().seconds();
      ++won_count;
      if (InPeriod(d.close_time(), in)) {
        RETURN_IF_ERROR(AddTo(*out.mutable_closed_won(), d.amount()));
        RETURN_IF_ERROR(AddTo(*months[MonthOf(d.close_time())].mutable_closed_won(), d.amount()));
      }
      continue;
    }
    if (d.status() != v1::DEAL_STATUS_OPEN || !d.has_expected_close_time() ||
        !InPeriod(d.expected_close_time(), in)) {
      continue;
    }
    ASSIGN_OR_RETURN(Money weighted, money::Weight(d.amount(), d.probability_bp()));
    v1::ForecastMonth& fm = months[MonthOf(d.expected_close_time())];
    fm.set_open_deals(fm.open_deals() + 1);
    RETURN_IF_ERROR(AddTo(*fm.mutable_open(), d.amount()));
    RETURN_IF_ERROR(AddTo(*fm.mutable_weighted(), weighted));
    RETURN_IF_ERROR(AddTo(*out.mutable_open(), d.amount()));
    RETURN_IF_ERROR(AddTo(*out.mutable_weighted(), weighted));
    RETURN_IF_ERROR(AddTo(*out.mutable_best_case(), d.amount()));
    if (d.probability_bp() >= kCommitProbabilityBp) {
      RETURN_IF_ERROR(AddTo(*out.mutable_commit(), d.amount()));
    }
  }
  RETURN_IF_ERROR(AddTo(*out.mutable_commit(), out.closed_won()));
  RETURN_IF_ERROR(AddTo(*out.mutable_best_case(), out.closed_won()));
  for (auto& [month, fm] : months) *out.add_months() = std::move(fm);
  auto add_rate = [&out](const std::string& pipeline, const std::string& stage,
                         std::pair<int, int> counts) {
    auto* rate = out.add_stage_win_rates();
    rate->set_pipeline_id(pipeline);
    rate->set_stage_id(stage);
    rate->set_closed_deals(counts.first);
    rate->set_won_deals(counts.second);
    rate->set_win_rate_bp(
        counts.first == 0 ? 0
                          : static_cast<int32_t>(int64_t{counts.second} * 10000 / counts.first));
  };
  // Each pipeline's stages in its order; then stages deals went through that the pipelines no
  // longer have.
  for (const Pipeline& pipeline : in.pipelines) {
    for (const Stage& stage : pipeline.stages()) {
      const auto it = stage_counts.find({pipeline.id(), stage.id()});
      add_rate(pipeline.id(), stage.id(), it == stage_counts.end() ? std::pair{0, 0} : it->second);
      if (it != stage_counts.end()) stage_counts.erase(it);
    }
  }
  for (const auto& [key, counts] : stage_counts) add_rate(key.first, key.second, counts);
  out.set_average_sales_cycle_seconds(won_count == 0 ? 0 : cycle_total / won_count);
  return out;
}

}  // namespace crm::sales

#include "services/analytics/domain/reports.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/money/money.h"
#include "common/projection/aggregate.h"
#include "common/status/status_macros.h"
#include "services/sales/domain/deal.h"
#include "services/sales/domain/order.h"

namespace crm::analytics {

namespace av1 = crm::analytics::v1;
namespace iv1 = crm::interaction::v1;
namespace sv1 = crm::sales::v1;
using crm::common::v1::Money;
using projection::TimestampNanos;

namespace {

constexpr int kMaxMonths = 120;

absl::CivilMonth MonthOf(int64_t nanos) {
  return absl::ToCivilMonth(absl::FromUnixNanos(nanos), absl::UTCTimeZone());
}

int64_t StartOf(absl::CivilMonth m) {
  return absl::ToUnixNanos(absl::FromCivil(m, absl::UTCTimeZone()));
}

std::string MonthKey(absl::CivilMonth m) {
  return absl::StrFormat("%04d-%02d", m.year(), m.month());
}

int32_t Bp(int64_t part, int64_t whole) {
  return whole == 0 ? 0 : static_cast<int32_t>(part * 10000 / whole);
}

// Nearest-rank percentile of sorted values (0 when empty).
int64_t Percentile(const std::vector<int64_t>& sorted, int p) {
  if (sorted.empty()) return 0;
  const size_t rank = (static_cast<size_t>(p) * sorted.size() + 99) / 100;
  return sorted[std::max<size_t>(rank, 1) - 1];
}

struct Sum {
  int64_t minor = 0;
  int32_t count = 0;
  std::string name;
};

absl::Status Add(Sum& s, int64_t minor) {
  if (__builtin_add_overflow(s.minor, minor, &s.minor)) {
    return absl::OutOfRangeError("a revenue sum overflows");
  }
  ++s.count;
  return absl::OkStatus();
}

// Lines largest first (then by key).
void Emit(const std::map<std::string, Sum>& sums, const std::string& currency, bool by_size,
          google::protobuf::RepeatedPtrField<av1::RevenueLine>* out) {
  std::vector<std::pair<std::string, Sum>> rows(sums.begin(), sums.end());
  if (by_size) {
    std::stable_sort(rows.begin(), rows.end(),
                     [](const auto& x, const auto& y) { return x.second.minor > y.second.minor; });
  }
  for (const auto& [key, sum] : rows) {
    av1::RevenueLine* line = out->Add();
    line->set_key(key);
    line->set_name(sum.name);
    line->mutable_revenue()->set_currency_code(currency);
    line->mutable_revenue()->set_minor_units(sum.minor);
    line->set_count(sum.count);
  }
}

}  // namespace

GetRetentionResponse ComputeRetention(const std::vector<std::vector<int64_t>>& customers,
                                      int64_t cohorts_from, int64_t as_of, int inactivity_days) {
  GetRetentionResponse out;
  const absl::CivilMonth first = MonthOf(cohorts_from);
  const absl::CivilMonth last = MonthOf(as_of);
  if (first > last) return out;
  const int months = static_cast<int>(std::min<int64_t>(last - first + 1, kMaxMonths));
  std::vector<av1::Cohort> cohorts(static_cast<size_t>(months));
  for (int i = 0; i < months; ++i) {
    const absl::CivilMonth m = first + i;
    cohorts[static_cast<size_t>(i)].set_year(static_cast<int32_t>(m.year()));
    cohorts[static_cast<size_t>(i)].set_month(m.month());
    for (int k = 0; i + k < months; ++k) cohorts[static_cast<size_t>(i)].add_active(0);
  }
  std::vector<av1::MonthlyChurn> churn(static_cast<size_t>(months));
  const int64_t window = int64_t{inactivity_days} * 86400 * 1000000000;
  for (const std::vector<int64_t>& all : customers) {
    std::vector<int64_t> times;
    for (int64_t t : all) {
      if (t <= as_of) times.push_back(t);
    }
    if (times.empty()) continue;
    std::sort(times.begin(), times.end());
    const int64_t cohort = MonthOf(times.front()) - first;
    if (cohort >= 0 && cohort < months) {
      av1::Cohort& c = cohorts[static_cast<size_t>(cohort)];
      c.set_customers(c.customers() + 1);
      std::set<int64_t> bought_in;
      for (int64_t t : times) bought_in.insert(MonthOf(t) - first);
      for (int64_t m : bought_in) {
        const int64_t k = m - cohort;
        if (k >= 0 && k < c.active_size())
          c.set_active(static_cast<int>(k), c.active(static_cast<int>(k)) + 1);
      }
    }
    // Active at t: a purchase in (t − W, t].
    auto active = [&](int64_t t) {
      auto it = std::upper_bound(times.begin(), times.end(), t);
      return it != times.begin() && *std::prev(it) > t - window;
    };
    for (int i = 0; i < months; ++i) {
      const int64_t start = StartOf(first + i);
      const int64_t end = std::min(StartOf(first + i + 1) - 1, as_of);
      if (!active(start)) continue;
      av1::MonthlyChurn& c = churn[static_cast<size_t>(i)];
      c.set_active_at_start(c.active_at_start() + 1);
      if (!active(end)) c.set_churned(c.churned() + 1);
    }
  }
  for (int i = 0; i < months; ++i) {
    av1::Cohort& c = cohorts[static_cast<size_t>(i)];
    for (int32_t a : c.active()) c.add_retention_bp(Bp(a, c.customers()));
    *out.add_cohorts() = std::move(c);
    av1::MonthlyChurn& m = churn[static_cast<size_t>(i)];
    m.set_year(static_cast<int32_t>((first + i).year()));
    m.set_month((first + i).month());
    m.set_churn_rate_bp(Bp(m.churned(), m.active_at_start()));
    *out.add_churn() = std::move(m);
  }
  return out;
}

absl::StatusOr<SalesReport> ComputeSalesReport(const SalesInput& in) {
  SalesReport out;
  auto in_period = [&](const google::protobuf::Timestamp& t) {
    const int64_t n = TimestampNanos(t);
    return n >= in.period_start && n < in.period_end;
  };
  std::map<std::string, Sum> by_month, by_product, by_category, by_owner;
  Sum total;
  for (const sv1::Order& o : in.orders) {
    if (!sales::IsPurchase(o) || o.net().currency_code() != in.currency_code ||
        !in_period(o.order_time())) {
      continue;
    }
    RETURN_IF_ERROR(Add(total, o.net().minor_units()));
    RETURN_IF_ERROR(
        Add(by_month[MonthKey(MonthOf(TimestampNanos(o.order_time())))], o.net().minor_units()));
    for (const sv1::LineItem& line : o.line_items()) {
      ASSIGN_OR_RETURN(Money amount, sales::LineAmount(line));
      const auto product = in.products.find(line.product_id());
      Sum& p = by_product[line.product_id()];
      if (product != in.products.end()) p.name = product->second.name();
      RETURN_IF_ERROR(Add(p, amount.minor_units()));
      const std::string category =
          product == in.products.end() ? "" : absl::AsciiStrToLower(product->second.category());
      RETURN_IF_ERROR(Add(by_category[category], amount.minor_units()));
    }
  }
  int64_t cycle_total = 0;
  std::map<std::pair<std::string, std::string>, av1::StageTotal> stages;
  for (const sv1::Deal& d : in.deals) {
    if (d.amount().currency_code() != in.currency_code) continue;
    if (d.status() == sv1::DEAL_STATUS_OPEN) {
      av1::StageTotal& s = stages[{d.pipeline_id(), d.stage_id()}];
      s.set_pipeline_id(d.pipeline_id());
      s.set_stage_id(d.stage_id());
      s.set_deals(s.deals() + 1);
      s.mutable_amount()->set_currency_code(in.currency_code);
      s.mutable_amount()->set_minor_units(s.amount().minor_units() + d.amount().minor_units());
      continue;
    }
    if (!in_period(d.close_time())) continue;
    if (d.status() == sv1::DEAL_STATUS_LOST) {
      out.set_lost_deals(out.lost_deals() + 1);
      continue;
    }
    out.set_won_deals(out.won_deals() + 1);
    cycle_total += d.close_time().seconds() - d.create_time().seconds();
    RETURN_IF_ERROR(Add(by_owner[d.owner()], d.amount().minor_units()));
  }
  Emit(by_month, in.currency_code, false, out.mutable_revenue_by_month());
  Emit(by_product, in.currency_code, true, out.mutable_revenue_by_product());
  Emit(by_category, in.currency_code, true, out.mutable_revenue_by_category());
  Emit(by_owner, in.currency_code, true, out.mutable_won_by_owner());
  for (auto& [key, s] : stages) *out.add_pipeline() = std::move(s);
  out.set_win_rate_bp(Bp(out.won_deals(), out.won_deals() + out.lost_deals()));
  out.set_average_sales_cycle_seconds(out.won_deals() == 0 ? 0 : cycle_total / out.won_deals());
  out.mutable_revenue()->set_currency_code(in.currency_code);
  out.mutable_revenue()->set_minor_units(total.minor);
  return out;
}

bool CaseBreached(const iv1::Case& c, int64_t as_of) {
  if (c.first_response_breached() || c.resolution_breached()) return true;
  if (c.has_first_response_due() && !c.has_first_response_time() &&
      TimestampNanos(c.first_response_due()) < as_of) {
    return true;
  }
  return c.has_resolution_due() && !c.has_resolution_time() &&
         TimestampNanos(c.resolution_due()) < as_of;
}

ServiceReport ComputeServiceReport(const std::vector<iv1::Interaction>& interactions,
                                   const std::vector<iv1::Case>& cases, int64_t period_start,
                                   int64_t period_end, int64_t as_of) {
  ServiceReport out;
  std::map<std::pair<std::string, std::string>, int32_t> by_month_channel;
  for (const iv1::Interaction& i : interactions) {
    const int64_t t = TimestampNanos(i.occurred_at());
    if (i.deleted() || t < period_start || t >= period_end) continue;
    ++by_month_channel[{MonthKey(MonthOf(t)),
                        absl::AsciiStrToLower(iv1::Channel_Name(i.channel()).substr(8))}];
  }
  for (const auto& [key, n] : by_month_channel) {
    av1::ChannelMonth* row = out.add_interactions();
    row->set_month(key.first);
    row->set_channel(key.second);
    row->set_interactions(n);
  }
  std::vector<int64_t> response, resolution;
  for (const iv1::Case& c : cases) {
    const int64_t opened = TimestampNanos(c.create_time());
    if (opened < period_start || opened >= period_end) continue;
    out.set_cases_opened(out.cases_opened() + 1);
    if (c.has_first_response_time()) {
      response.push_back(c.first_response_time().seconds() - c.create_time().seconds());
    }
    if (c.has_resolution_time()) {
      resolution.push_back(c.resolution_time().seconds() - c.create_time().seconds());
    }
    if (CaseBreached(c, as_of)) out.set_breached_cases(out.breached_cases() + 1);
  }
  std::sort(response.begin(), response.end());
  std::sort(resolution.begin(), resolution.end());
  out.set_first_response_median_seconds(Percentile(response, 50));
  out.set_first_response_p90_seconds(Percentile(response, 90));
  out.set_resolution_median_seconds(Percentile(resolution, 50));
  out.set_resolution_p90_seconds(Percentile(resolution, 90));
  out.set_sla_breach_rate_bp(Bp(out.breached_cases(), out.cases_opened()));
  return out;
}

EngagementTrend ComputeEngagement(const std::string& contact_id,
                                  const std::vector<iv1::Interaction>& interactions, int months,
                                  int64_t as_of) {
  EngagementTrend out;
  out.set_contact_id(contact_id);
  const absl::CivilMonth last = MonthOf(as_of);
  const absl::CivilMonth first = last - (months - 1);
  std::vector<int32_t> counts(static_cast<size_t>(months), 0);
  std::set<std::string> seen;  // an interaction with two of the customer's contacts counts once
  for (const iv1::Interaction& i : interactions) {
    const int64_t t = TimestampNanos(i.occurred_at());
    if (i.deleted() || t > as_of || !seen.insert(i.id()).second) continue;
    const int64_t k = MonthOf(t) - first;
    if (k >= 0 && k < months) ++counts[static_cast<size_t>(k)];
  }
  double mean_x = (months - 1) / 2.0;
  double mean_y = 0;
  for (int32_t c : counts) mean_y += c;
  mean_y /= months;
  double num = 0, den = 0;
  for (int k = 0; k < months; ++k) {
    num += (k - mean_x) * (counts[static_cast<size_t>(k)] - mean_y);
    den += (k - mean_x) * (k - mean_x);
  }
  out.set_slope(den == 0 ? 0 : num / den);
  for (int32_t c : counts) out.add_interactions_per_month(c);
  return out;
}

}  // namespace crm::analytics

#include "services/analytics/domain/metrics.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/money/money.h"
#include "common/projection/aggregate.h"
#include "common/status/status_macros.h"

namespace crm::analytics {

using crm::common::v1::Money;
using projection::TimestampNanos;

namespace {

constexpr int64_t kNanosPerDay = int64_t{86400} * 1000000000;
constexpr double kDaysPerNano = 1.0 / static_cast<double>(kNanosPerDay);

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

google::protobuf::Timestamp FromNanos(int64_t nanos) {
  google::protobuf::Timestamp t;
  t.set_seconds(FloorDiv(nanos, 1000000000));
  t.set_nanos(static_cast<int32_t>(nanos - t.seconds() * 1000000000));
  return t;
}

Money MinorUnits(const std::string& currency, int64_t minor) {
  Money m;
  m.set_currency_code(currency);
  m.set_minor_units(minor);
  return m;
}

// Major units (a model's double) to minor units, rounded half to even.
absl::StatusOr<Money> FromMajor(const std::string& currency, int digits, double major) {
  const double minor = std::nearbyint(major * std::pow(10.0, digits));
  if (!std::isfinite(minor) || std::abs(minor) > 9e18) {
    return absl::OutOfRangeError("an expected amount is out of range");
  }
  return MinorUnits(currency, static_cast<int64_t>(minor));
}

// The purchases in `currency` at or before `as_of_nanos`, by time then order id.
std::vector<const LedgerPurchase*> Select(const std::vector<LedgerPurchase>& purchases,
                                          const std::string& currency, int64_t as_of_nanos) {
  std::vector<const LedgerPurchase*> out;
  for (const LedgerPurchase& p : purchases) {
    if (p.net().currency_code() == currency && TimestampNanos(p.order_time()) <= as_of_nanos) {
      out.push_back(&p);
    }
  }
  std::sort(out.begin(), out.end(), [](const LedgerPurchase* a, const LedgerPurchase* b) {
    const int64_t ta = TimestampNanos(a->order_time());
    const int64_t tb = TimestampNanos(b->order_time());
    return ta != tb ? ta < tb : a->order_id() < b->order_id();
  });
  return out;
}

RepeatHistory RepeatOf(const std::vector<const LedgerPurchase*>& sorted, int64_t as_of_nanos,
                       int digits) {
  RepeatHistory h;
  if (sorted.empty()) return h;
  std::map<int64_t, int64_t> day_values;  // UTC day -> net minor units
  for (const LedgerPurchase* p : sorted) {
    day_values[FloorDiv(TimestampNanos(p->order_time()), kNanosPerDay)] += p->net().minor_units();
  }
  const int64_t first = TimestampNanos(sorted.front()->order_time());
  const int64_t last = TimestampNanos(sorted.back()->order_time());
  h.x = static_cast<int>(day_values.size()) - 1;
  h.t_x = static_cast<double>(last - first) * kDaysPerNano;
  h.T = static_cast<double>(as_of_nanos - first) * kDaysPerNano;
  if (h.x > 0) {
    int64_t repeat_minor = 0;
    for (auto it = std::next(day_values.begin()); it != day_values.end(); ++it) {
      repeat_minor += it->second;
    }
    h.mean_repeat_value = static_cast<double>(repeat_minor) / h.x / std::pow(10.0, digits);
  }
  return h;
}

}  // namespace

std::string MainCurrency(const std::vector<LedgerPurchase>& purchases) {
  std::map<std::string, int> counts;
  for (const LedgerPurchase& p : purchases) ++counts[p.net().currency_code()];
  std::string best;
  int most = 0;
  for (const auto& [currency, n] : counts) {  // alphabetical: the first of equals wins
    if (n > most) {
      best = currency;
      most = n;
    }
  }
  return best;
}

RepeatHistory RepeatHistoryOf(const std::vector<LedgerPurchase>& purchases, int64_t as_of_nanos,
                              int digits) {
  const std::string currency = purchases.empty() ? "" : purchases[0].net().currency_code();
  return RepeatOf(Select(purchases, currency, as_of_nanos), as_of_nanos, digits);
}

absl::StatusOr<CustomerFacts> FactsOf(const std::vector<LedgerPurchase>& purchases,
                                      const std::string& currency_code, int64_t as_of_nanos) {
  CustomerFacts f;
  f.currency_code = currency_code;
  ASSIGN_OR_RETURN(f.digits, money::MinorDigits("currency_code", currency_code));
  const std::vector<const LedgerPurchase*> sorted = Select(purchases, currency_code, as_of_nanos);
  for (const LedgerPurchase& p : purchases) {
    if (p.net().currency_code() != currency_code && TimestampNanos(p.order_time()) <= as_of_nanos) {
      ++f.other_currency_orders;
    }
  }
  f.purchases = static_cast<int>(sorted.size());
  if (sorted.empty()) return f;
  for (const LedgerPurchase* p : sorted) {
    if (__builtin_add_overflow(f.revenue_minor, p->net().minor_units(), &f.revenue_minor)) {
      return absl::OutOfRangeError("lifetime revenue overflows");
    }
  }
  f.first_nanos = TimestampNanos(sorted.front()->order_time());
  f.last_nanos = TimestampNanos(sorted.back()->order_time());
  std::vector<int64_t> gaps;
  for (size_t i = 1; i < sorted.size(); ++i) {
    gaps.push_back(TimestampNanos(sorted[i]->order_time()) -
                   TimestampNanos(sorted[i - 1]->order_time()));
  }
  if (!gaps.empty()) {
    std::sort(gaps.begin(), gaps.end());
    f.typical_interval_seconds = gaps[(gaps.size() - 1) / 2] / 1000000000;
  }
  f.repeat = RepeatOf(sorted, as_of_nanos, f.digits);
  f.purchase_days = f.repeat.x + 1;
  return f;
}

RfmKey RfmKeyOf(const CustomerFacts& facts, int64_t as_of_nanos) {
  return RfmKey{as_of_nanos - facts.last_nanos, facts.purchase_days, facts.revenue_minor};
}

RfmScores ScoreRfm(const RfmKey& me, const std::vector<RfmKey>& population) {
  int64_t worse_recency = 0;
  int64_t worse_frequency = 0;
  int64_t worse_monetary = 0;
  for (const RfmKey& k : population) {
    worse_recency += k.recency_nanos > me.recency_nanos;
    worse_frequency += k.purchase_days < me.purchase_days;
    worse_monetary += k.revenue_minor < me.revenue_minor;
  }
  const int64_t n = static_cast<int64_t>(population.size());
  auto score = [n](int64_t worse) {
    return n == 0 ? 0 : static_cast<int32_t>(1 + (5 * worse) / n);
  };
  RfmScores s;
  s.set_recency(score(worse_recency));
  s.set_frequency(score(worse_frequency));
  s.set_monetary(score(worse_monetary));
  s.set_customers(static_cast<int32_t>(n));
  return s;
}

int32_t ChurnRiskBp(const CustomerFacts& f, const std::optional<PurchaseModel>& model,
                    int64_t as_of_nanos) {
  double risk = 0;
  if (model && f.purchases > 0) {
    const BgNbdParams bg{model->bgnbd_r(), model->bgnbd_alpha(), model->bgnbd_a(),
                         model->bgnbd_b()};
    risk = 1 - ProbabilityAlive(bg, f.repeat.x, f.repeat.t_x, f.repeat.T);
  } else if (f.purchases >= 2 && f.typical_interval_seconds > 0) {
    const double days_since = static_cast<double>(as_of_nanos - f.last_nanos) * kDaysPerNano;
    risk =
        std::min(1.0, days_since * 86400 / (3.0 * static_cast<double>(f.typical_interval_seconds)));
  }
  return static_cast<int32_t>(std::nearbyint(10000 * risk));
}

absl::StatusOr<CustomerMetrics> BuildMetrics(const MetricsInput& in) {
  const CustomerFacts& f = in.facts;
  CustomerMetrics m;
  m.set_contact_id(in.contact_id);
  *m.mutable_as_of() = FromNanos(in.as_of_nanos);
  m.set_currency_code(f.currency_code);
  m.set_horizon_days(in.horizon_days);
  m.set_order_count(f.purchases);
  m.set_other_currency_orders(f.other_currency_orders);
  if (!f.currency_code.empty()) {  // none: a customer without purchases in any currency
    *m.mutable_lifetime_revenue() = MinorUnits(f.currency_code, f.revenue_minor);
    *m.mutable_average_order_value() = MinorUnits(f.currency_code, 0);
  }
  if (f.purchases > 0) {
    // Exact division, rounded half to even.
    const int64_t q = f.revenue_minor / f.purchases;
    const int64_t r = f.revenue_minor % f.purchases;
    int64_t aov = q;
    if (2 * std::abs(r) > f.purchases || (2 * std::abs(r) == f.purchases && (q % 2 != 0))) {
      aov += r > 0 ? 1 : -1;
    }
    m.mutable_average_order_value()->set_minor_units(aov);
    *m.mutable_first_purchase_time() = FromNanos(f.first_nanos);
    *m.mutable_last_purchase_time() = FromNanos(f.last_nanos);
    m.set_typical_interval_seconds(f.typical_interval_seconds);
    m.set_purchase_days(f.purchase_days);
  }
  if (in.rfm) *m.mutable_rfm() = *in.rfm;

  // Churn risk and its reasons, most telling first.
  auto reason = [&m](const char* code, std::string text) {
    auto* r = m.add_churn_reasons();
    r->set_code(code);
    r->set_description(std::move(text));
  };
  const double days_since =
      f.purchases > 0 ? static_cast<double>(in.as_of_nanos - f.last_nanos) * kDaysPerNano : 0;
  if (in.model && f.purchases > 0) {
    const PurchaseModel& model = *in.model;
    const BgNbdParams bg{model.bgnbd_r(), model.bgnbd_alpha(), model.bgnbd_a(), model.bgnbd_b()};
    m.set_has_model(true);
    m.set_probability_alive(ProbabilityAlive(bg, f.repeat.x, f.repeat.t_x, f.repeat.T));
    m.set_expected_purchases(
        ExpectedPurchases(bg, f.repeat.x, f.repeat.t_x, f.repeat.T, in.horizon_days));
    if (model.gamma_gamma_q() > 1) {
      const GammaGammaParams gg{model.gamma_gamma_p(), model.gamma_gamma_q(),
                                model.gamma_gamma_gamma()};
      const double spend = ExpectedSpend(gg, f.repeat.x, f.repeat.mean_repeat_value);
      ASSIGN_OR_RETURN(*m.mutable_expected_spend(), FromMajor(f.currency_code, f.digits, spend));
      ASSIGN_OR_RETURN(*m.mutable_predicted_clv(),
                       FromMajor(f.currency_code, f.digits, spend * m.expected_purchases()));
    }
    if (m.probability_alive() < 0.5) {
      reason("LOW_P_ALIVE", absl::StrFormat("the purchase model gives a %.0f%% chance that the "
                                            "customer still buys",
                                            100 * m.probability_alive()));
    }
  }
  m.set_churn_risk_bp(ChurnRiskBp(f, in.model, in.as_of_nanos));
  if (f.purchases >= 2 && f.typical_interval_seconds > 0 &&
      days_since * 86400 > 2.0 * static_cast<double>(f.typical_interval_seconds)) {
    reason("OVERDUE",
           absl::StrFormat("no purchase for %d days, %.1f times the usual interval of %d days",
                           static_cast<int64_t>(days_since),
                           days_since * 86400 / static_cast<double>(f.typical_interval_seconds),
                           f.typical_interval_seconds / 86400));
  }
  if (in.rfm && in.rfm->recency() == 1) {
    reason("RECENCY_BOTTOM", "among the fifth of customers who bought longest ago");
  }
  if (in.engagement.breached_cases > 0) {
    reason("SLA_BREACHED", absl::StrCat(in.engagement.breached_cases,
                                        " support case(s) missed a service-level target"));
  }
  if (in.engagement.open_cases > 0) {
    reason("OPEN_CASES", absl::StrCat(in.engagement.open_cases, " support case(s) still open"));
  }
  constexpr int64_t kQuietNanos = 90 * kNanosPerDay;
  if (!in.engagement.last_interaction_nanos ||
      in.as_of_nanos - *in.engagement.last_interaction_nanos > kQuietNanos) {
    reason("NO_RECENT_CONTACT", "no interaction in the last 90 days");
  }
  return m;
}

}  // namespace crm::analytics

#include "services/analytics/domain/models.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace crm::analytics {
namespace {

double LogGamma(double v) {
  int sign = 0;
  return lgamma_r(v, &sign);  // lgamma_r: no shared sign variable, safe on any thread
}

double LogSumExp(double u, double v) {
  if (u == -std::numeric_limits<double>::infinity()) return v;
  if (v == -std::numeric_limits<double>::infinity()) return u;
  const double m = std::max(u, v);
  return m + std::log(std::exp(u - m) + std::exp(v - m));
}

constexpr int kMinCustomers = 10;
constexpr double kTolerance = 1e-10;
constexpr int kMaxIterations = 5000;

}  // namespace

double BgNbdLogLikelihood(const BgNbdParams& m, int x, double t_x, double T) {
  const double a1 = LogGamma(m.r + x) - LogGamma(m.r) + m.r * std::log(m.alpha);
  const double a2 =
      LogGamma(m.a + m.b) + LogGamma(m.b + x) - LogGamma(m.b) - LogGamma(m.a + m.b + x);
  const double a3 = -(m.r + x) * std::log(m.alpha + T);
  const double a4 =
      x > 0 ? std::log(m.a) - std::log(m.b + x - 1) - (m.r + x) * std::log(m.alpha + t_x)
            : -std::numeric_limits<double>::infinity();
  return a1 + a2 + LogSumExp(a3, a4);
}

namespace {
// 1 + [x > 0] · a / (b + x − 1) · ((α + T) / (α + t_x))^(r + x), the denominator both BG/NBD
// conditionals share.
double AliveDenominator(const BgNbdParams& m, int x, double t_x, double T) {
  if (x == 0) return 1;
  const double log_ratio = (m.r + x) * (std::log(m.alpha + T) - std::log(m.alpha + t_x));
  return 1 + m.a / (m.b + x - 1) * std::exp(log_ratio);
}
}  // namespace

double ProbabilityAlive(const BgNbdParams& m, int x, double t_x, double T) {
  return 1 / AliveDenominator(m, x, t_x, T);
}

double Hypergeometric2F1(double a, double b, double c, double z) {
  double term = 1;
  double sum = 1;
  for (int n = 0; n < 1000000; ++n) {
    term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z;
    sum += term;
    if (std::abs(term) <= 1e-15 * std::abs(sum)) break;
  }
  return sum;
}

double ExpectedPurchases(const BgNbdParams& m, int x, double t_x, double T, double t) {
  if (t <= 0) return 0;
  const double z = t / (m.alpha + T + t);
  const double power = std::exp((m.r + x) * (std::log(m.alpha + T) - std::log(m.alpha + T + t)));
  const double numerator = (m.a + m.b + x - 1) / (m.a - 1) *
                           (1 - power * Hypergeometric2F1(m.r + x, m.b + x, m.a + m.b + x - 1, z));
  return numerator / AliveDenominator(m, x, t_x, T);
}

double GammaGammaLogLikelihood(const GammaGammaParams& m, int x, double v) {
  const double px = m.p * x;
  return LogGamma(px + m.q) - LogGamma(px) - LogGamma(m.q) + m.q * std::log(m.gamma) +
         (px - 1) * std::log(v) + px * std::log(static_cast<double>(x)) -
         (px + m.q) * std::log(x * v + m.gamma);
}

double ExpectedSpend(const GammaGammaParams& m, int x, double v) {
  if (x == 0) return m.p * m.gamma / (m.q - 1);
  return m.p * (m.gamma + x * v) / (m.p * x + m.q - 1);
}

std::vector<double> NelderMead(const std::function<double(const std::vector<double>&)>& f,
                               std::vector<double> start, double tolerance, int max_iterations) {
  const size_t n = start.size();
  std::vector<std::vector<double>> simplex(n + 1, start);
  for (size_t i = 0; i < n; ++i) simplex[i + 1][i] += 0.5;
  std::vector<double> values(n + 1);
  for (size_t i = 0; i <= n; ++i) values[i] = f(simplex[i]);
  std::vector<size_t> order(n + 1);
  auto point = [n](const std::vector<double>& from, const std::vector<double>& to, double k) {
    std::vector<double> p(n);
    for (size_t j = 0; j < n; ++j) p[j] = from[j] + k * (to[j] - from[j]);
    return p;
  };
  for (int iteration = 0; iteration < max_iterations; ++iteration) {
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t i, size_t j) { return values[i] < values[j]; });
    const size_t best = order.front();
    const size_t worst = order.back();
    const size_t second = order[n - 1];
    if (std::abs(values[worst] - values[best]) <= tolerance * (1 + std::abs(values[best]))) break;
    std::vector<double> centroid(n, 0);
    for (size_t i : order) {
      if (i == worst) continue;
      for (size_t j = 0; j < n; ++j) centroid[j] += simplex[i][j] / static_cast<double>(n);
    }
    const std::vector<double> reflected = point(centroid, simplex[worst], -1);
    const double fr = f(reflected);
    if (fr < values[best]) {
      const std::vector<double> expanded = point(centroid, simplex[worst], -2);
      const double fe = f(expanded);
      if (fe < fr) {
        simplex[worst] = expanded;
        values[worst] = fe;
      } else {
        simplex[worst] = reflected;
        values[worst] = fr;
      }
      continue;
    }
    if (fr < values[second]) {
      simplex[worst] = reflected;
      values[worst] = fr;
      continue;
    }
    const bool outside = fr < values[worst];
    const std::vector<double> contracted =
        outside ? point(centroid, reflected, 0.5) : point(centroid, simplex[worst], 0.5);
    const double fc = f(contracted);
    if (fc < std::min(fr, values[worst])) {
      simplex[worst] = contracted;
      values[worst] = fc;
      continue;
    }
    for (size_t i = 0; i <= n; ++i) {  // shrink towards the best
      if (i == best) continue;
      simplex[i] = point(simplex[best], simplex[i], 0.5);
      values[i] = f(simplex[i]);
    }
  }
  const size_t best =
      static_cast<size_t>(std::min_element(values.begin(), values.end()) - values.begin());
  return simplex[best];
}

absl::StatusOr<BgNbdFit> FitBgNbd(const std::vector<RepeatHistory>& customers) {
  if (customers.size() < kMinCustomers) {
    return absl::FailedPreconditionError(
        "the purchase model needs at least 10 customers with a purchase");
  }
  auto params = [](const std::vector<double>& v) {
    return BgNbdParams{std::exp(v[0]), std::exp(v[1]), std::exp(v[2]), std::exp(v[3])};
  };
  auto negative_ll = [&](const std::vector<double>& v) {
    const BgNbdParams m = params(v);
    double sum = 0;
    for (const RepeatHistory& c : customers) sum += BgNbdLogLikelihood(m, c.x, c.t_x, c.T);
    return std::isfinite(sum) ? -sum : std::numeric_limits<double>::max();
  };
  const std::vector<double> best =
      NelderMead(negative_ll, {0, 0, 0, 0}, kTolerance, kMaxIterations);
  return BgNbdFit{params(best), -negative_ll(best)};
}

absl::StatusOr<GammaGammaFit> FitGammaGamma(const std::vector<RepeatHistory>& customers) {
  std::vector<const RepeatHistory*> repeaters;
  for (const RepeatHistory& c : customers) {
    if (c.x > 0 && c.mean_repeat_value > 0) repeaters.push_back(&c);
  }
  if (repeaters.size() < kMinCustomers) {
    return absl::FailedPreconditionError(
        "the spend model needs at least 10 customers with a repeat purchase");
  }
  auto params = [](const std::vector<double>& v) {
    return GammaGammaParams{std::exp(v[0]), std::exp(v[1]), std::exp(v[2])};
  };
  auto negative_ll = [&](const std::vector<double>& v) {
    const GammaGammaParams m = params(v);
    double sum = 0;
    for (const RepeatHistory* c : repeaters) {
      sum += GammaGammaLogLikelihood(m, c->x, c->mean_repeat_value);
    }
    return std::isfinite(sum) ? -sum : std::numeric_limits<double>::max();
  };
  const std::vector<double> best = NelderMead(negative_ll, {0, 0, 0}, kTolerance, kMaxIterations);
  const GammaGammaParams fitted = params(best);
  if (fitted.q <= 1) {
    return absl::FailedPreconditionError(
        "the spend model's q is at most 1 (no finite mean spend); more history is needed");
  }
  return GammaGammaFit{fitted, -negative_ll(best)};
}

}  // namespace crm::analytics

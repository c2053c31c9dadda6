// The purchase models: closed forms against published figures, and maximum-likelihood fits that
// find the optimum on data simulated from known parameters.
#include "services/analytics/domain/models.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace crm::analytics {
namespace {

// Fader, Hardie & Lee (2005) fitted BG/NBD to CDNOW (time in weeks): r = 0.243, α = 4.414,
// a = 0.793, b = 2.426; for a customer with x = 2, t_x = 30.43, T = 38.86 they report
// E[Y(39)] = 1.226.
TEST(BgNbd, MatchesThePublishedCdnowExample) {
  const BgNbdParams cdnow{0.243, 4.414, 0.793, 2.426};
  EXPECT_NEAR(ExpectedPurchases(cdnow, 2, 30.43, 38.86, 39), 1.226, 0.001);
  EXPECT_DOUBLE_EQ(ProbabilityAlive(cdnow, 0, 0, 38.86), 1.0);  // no repeat: never seen dropping
  // A customer who bought often but long ago is likely gone; a recent one is likely alive.
  EXPECT_LT(ProbabilityAlive(cdnow, 10, 5, 50), 0.1);
  EXPECT_GT(ProbabilityAlive(cdnow, 10, 49, 50), 0.9);
}

TEST(BgNbd, HypergeometricSeriesMatchesAClosedForm) {
  for (double z : {0.0, 0.1, 0.5, 0.9}) {
    const double expected = z == 0 ? 1 : -std::log(1 - z) / z;  // ₂F₁(1, 1; 2; z)
    EXPECT_NEAR(Hypergeometric2F1(1, 1, 2, z), expected, 1e-12) << z;
  }
}

TEST(NelderMead, FindsTheRosenbrockMinimum) {
  auto rosenbrock = [](const std::vector<double>& v) {
    return 100 * std::pow(v[1] - v[0] * v[0], 2) + std::pow(1 - v[0], 2);
  };
  const std::vector<double> best = NelderMead(rosenbrock, {-1.2, 1}, 1e-14, 5000);
  EXPECT_NEAR(best[0], 1, 1e-4);
  EXPECT_NEAR(best[1], 1, 1e-4);
}

// Customers simulated from BG/NBD with known parameters over `days` (birth uniform in it).
std::vector<RepeatHistory> Simulate(const BgNbdParams& m, const GammaGammaParams& spend, int n,
                                    double days, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::gamma_distribution<double> lambda_dist(m.r, 1 / m.alpha);
  std::gamma_distribution<double> beta_a(m.a, 1);
  std::gamma_distribution<double> beta_b(m.b, 1);
  std::uniform_real_distribution<double> unit(0, 1);
  std::gamma_distribution<double> nu_dist(spend.q, 1 / spend.gamma);
  std::vector<RepeatHistory> out;
  for (int i = 0; i < n; ++i) {
    const double lambda = lambda_dist(rng);
    const double ga = beta_a(rng);
    const double p = ga / (ga + beta_b(rng));
    const double nu = nu_dist(rng);
    std::gamma_distribution<double> value(spend.p, 1 / nu);
    RepeatHistory h;
    h.T = days * unit(rng);
    double t = 0;
    double total = 0;
    while (true) {
      t += std::exponential_distribution<double>(lambda)(rng);
      if (t > h.T) break;
      ++h.x;
      h.t_x = t;
      total += value(rng);
      if (unit(rng) < p) break;  // dropped out after this purchase
    }
    h.mean_repeat_value = h.x > 0 ? total / h.x : 0;
    out.push_back(h);
  }
  return out;
}

TEST(BgNbd, FitReachesTheMaximumOnSimulatedCustomers) {
  const BgNbdParams truth{0.6, 12, 0.7, 2.5};
  const GammaGammaParams spend{6, 4, 15};
  const std::vector<RepeatHistory> customers = Simulate(truth, spend, 4000, 365, 7);
  auto total_ll = [&](const BgNbdParams& m) {
    double sum = 0;
    for (const auto& c : customers) sum += BgNbdLogLikelihood(m, c.x, c.t_x, c.T);
    return sum;
  };
  absl::StatusOr<BgNbdFit> fit = FitBgNbd(customers);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_NEAR(fit->log_likelihood, total_ll(fit->params), 1e-6);
  EXPECT_GE(fit->log_likelihood, total_ll(truth));  // the optimum beats the truth on its data
  for (double f : {0.98, 1.02}) {                   // and every nearby point
    BgNbdParams near = fit->params;
    near.r *= f;
    EXPECT_GE(fit->log_likelihood, total_ll(near));
    near = fit->params;
    near.b *= f;
    EXPECT_GE(fit->log_likelihood, total_ll(near));
  }
  EXPECT_NEAR(fit->params.r, truth.r, 0.3 * truth.r);
  EXPECT_NEAR(fit->params.alpha, truth.alpha, 0.4 * truth.alpha);

  absl::StatusOr<GammaGammaFit> gg = FitGammaGamma(customers);
  ASSERT_TRUE(gg.ok()) << gg.status();
  double truth_ll = 0;
  for (const auto& c : customers) {
    if (c.x > 0) truth_ll += GammaGammaLogLikelihood(spend, c.x, c.mean_repeat_value);
  }
  EXPECT_GE(gg->log_likelihood, truth_ll);
  // The population mean spend p·γ/(q−1) lands near the truth's 6·15/3 = 30.
  EXPECT_NEAR(ExpectedSpend(gg->params, 0, 0), 30, 5);
  // A customer's expectation shrinks their own mean towards the population's.
  const double own = 100;
  const double expected = ExpectedSpend(gg->params, 3, own);
  EXPECT_GT(expected, ExpectedSpend(gg->params, 0, 0));
  EXPECT_LT(expected, own);
}

TEST(BgNbd, TooFewCustomersCannotBeFitted) {
  std::vector<RepeatHistory> few(9, RepeatHistory{1, 10, 20, 5});
  EXPECT_EQ(FitBgNbd(few).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(FitGammaGamma(few).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace crm::analytics

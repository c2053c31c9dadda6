// Probabilistic models of repeat buying, in days: BG/NBD (Fader, Hardie & Lee 2005, "Counting
// Your Customers the Easy Way") for how many purchases a customer makes and whether they are
// still active, and Gamma-Gamma (Fader & Hardie 2013) for what they spend per purchase. The
// formulas are written out in crm/analytics/v1/resources.proto. Pure functions.
//
//   std::vector<RepeatHistory> histories = ...;            // one per customer
//   absl::StatusOr<BgNbdFit> fit = FitBgNbd(histories);
//   double alive = ProbabilityAlive(fit->params, h.x, h.t_x, h.T);
#pragma once

#include <functional>
#include <vector>

#include "absl/status/statusor.h"

namespace crm::analytics {

// One customer's purchase history as the models see it: x repeat purchase days, the days from
// the first to the last purchase (t_x) and from the first purchase to the evaluation time (T),
// and the mean value of the repeat purchase days in major units (0 when x = 0).
struct RepeatHistory {
  int x = 0;
  double t_x = 0;
  double T = 0;
  double mean_repeat_value = 0;
};

struct BgNbdParams {
  double r = 0;
  double alpha = 0;
  double a = 0;
  double b = 0;
};

struct GammaGammaParams {
  double p = 0;
  double q = 0;
  double gamma = 0;
};

// Log-likelihood of one customer under BG/NBD.
double BgNbdLogLikelihood(const BgNbdParams& m, int x, double t_x, double T);
// P(alive | x, t_x, T).
double ProbabilityAlive(const BgNbdParams& m, int x, double t_x, double T);
// E[purchases in the next t days | x, t_x, T].
double ExpectedPurchases(const BgNbdParams& m, int x, double t_x, double T, double t);
// Gauss's hypergeometric series ₂F₁(a, b; c; z) for 0 <= z < 1.
double Hypergeometric2F1(double a, double b, double c, double z);

// Log-likelihood of one customer (x > 0, mean value > 0) under Gamma-Gamma.
double GammaGammaLogLikelihood(const GammaGammaParams& m, int x, double mean_value);
// E[spend per purchase day | x, mean value]; the population mean p·γ/(q−1) when x = 0.
double ExpectedSpend(const GammaGammaParams& m, int x, double mean_value);

struct BgNbdFit {
  BgNbdParams params;
  double log_likelihood = 0;
};
struct GammaGammaFit {
  GammaGammaParams params;
  double log_likelihood = 0;
};

// Maximum-likelihood fits (Nelder-Mead on the logarithms of the parameters, from 1, 1, 1, 1).
// FAILED_PRECONDITION with fewer than 10 customers (Gamma-Gamma: with x > 0), or when the
// optimum has q <= 1 (no finite mean spend).
absl::StatusOr<BgNbdFit> FitBgNbd(const std::vector<RepeatHistory>& customers);
absl::StatusOr<GammaGammaFit> FitGammaGamma(const std::vector<RepeatHistory>& customers);

// Minimises `f` from `start` (Nelder-Mead with the standard coefficients) until the simplex's
// values agree within `tolerance` or after `max_iterations`. Deterministic.
std::vector<double> NelderMead(const std::function<double(const std::vector<double>&)>& f,
                               std::vector<double> start, double tolerance, int max_iterations);

}  // namespace crm::analytics

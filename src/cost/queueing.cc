#include "cost/queueing.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace frugal {
namespace {

// Beyond this lambda x t the exact sum's terms (up to e^{lambda t}) lose too many digits of a
// long double's 64-bit mantissa (e^20 ~ 5e8, error ~ 5e8 x 1e-19).
constexpr double kMaxExactLambdaT = 20.0;

double exact_cdf(double lambda, double d, double t) {
  const double rho = lambda * d;
  long double sum = 0;
  const auto k_max = static_cast<long>(std::floor(t / d));
  long double factorial = 1;
  for (long k = 0; k <= k_max; ++k) {
    if (k > 0) factorial *= static_cast<long double>(k);
    const long double x = static_cast<long double>(lambda) * (static_cast<long double>(k) * d - t);  // <= 0
    sum += std::pow(x, static_cast<long double>(k)) / factorial * std::exp(-x);
  }
  // Rounding in the alternating sum can step a hair outside [0, 1].
  return std::clamp(static_cast<double>((1.0L - rho) * sum), 0.0, 1.0);
}

// theta > 0 with lambda (e^{theta d} - 1) = theta: f(theta) = lambda (e^{theta d} - 1) - theta is
// negative just above 0 (f'(0) = rho - 1 < 0) and convex, so bisection between its sign change.
double decay_rate(double lambda, double d) {
  auto f = [&](double th) { return lambda * std::expm1(th * d) - th; };
  double lo = 0, hi = 1.0 / d;
  while (f(hi) < 0) hi *= 2;
  for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (f(mid) < 0 ? lo : hi) = mid;
  }
  return hi;
}

double tail_cdf(double lambda, double d, double t) {
  const double rho = lambda * d;
  const double theta = decay_rate(lambda, d);
  const double c = (1.0 - rho) / (lambda * d * std::exp(theta * d) - 1.0);
  return 1.0 - std::min(rho, c * std::exp(-theta * t));
}

}  // namespace

double md1_wait_cdf(double rate_per_s, double service_s, double t_s) {
  if (t_s < 0) return 0.0;
  if (rate_per_s <= 0 || service_s <= 0) return 1.0;
  if (rate_per_s * service_s >= 1.0) return 0.0;
  return rate_per_s * t_s <= kMaxExactLambdaT ? exact_cdf(rate_per_s, service_s, t_s)
                                              : tail_cdf(rate_per_s, service_s, t_s);
}

double md1_wait_quantile(double rate_per_s, double service_s, double quantile) {
  if (rate_per_s * service_s >= 1.0) return std::numeric_limits<double>::infinity();
  if (md1_wait_cdf(rate_per_s, service_s, 0.0) >= quantile) return 0.0;
  double lo = 0, hi = service_s;
  while (md1_wait_cdf(rate_per_s, service_s, hi) < quantile) hi *= 2;
  for (int i = 0; i < 100 && hi - lo > 1e-9 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (md1_wait_cdf(rate_per_s, service_s, mid) < quantile ? lo : hi) = mid;
  }
  return hi;
}

double md1_mean_wait(double rate_per_s, double service_s) {
  const double rho = rate_per_s * service_s;
  if (rho >= 1.0) return std::numeric_limits<double>::infinity();
  return rho * service_s / (2.0 * (1.0 - rho));
}

}  // namespace frugal

#include "trust/watermark_null.h"

#include <cmath>

namespace frugal::trust {

double log_chi2_chernoff_tail(double t, int k) {
  if (k <= 0 || t <= k) return 0.0;
  return 0.5 * k * std::log(t / k) + 0.5 * (k - t);
}

double chi2_chernoff_threshold(int k, double fpr, int hypotheses) {
  const double target = std::log(fpr) - std::log(static_cast<double>(hypotheses));
  double lo = k, hi = k + 10.0;
  while (log_chi2_chernoff_tail(hi, k) > target) hi *= 2;  // the bound falls monotonically past k
  for (int iter = 0; iter < 100; ++iter) {
    const double mid = 0.5 * (lo + hi);
    (log_chi2_chernoff_tail(mid, k) > target ? lo : hi) = mid;
  }
  return hi;
}

}  // namespace frugal::trust

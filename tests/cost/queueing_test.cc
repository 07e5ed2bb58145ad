// M/D/1 waiting time: the formula (Erlang's sum, and the Cramer-Lundberg tail where the sum loses
// precision) against a simulation of the queue (Lindley's recursion over Poisson arrivals).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "cost/queueing.h"

namespace frugal {
namespace {

// p-quantile of the wait of `n` customers: W_{k+1} = max(0, W_k + D - A_{k+1}).
double simulated_wait_quantile(double rate, double service, double quantile, int n) {
  std::mt19937_64 rng(12345);
  std::exponential_distribution<double> gap(rate);
  std::vector<double> waits(static_cast<size_t>(n));
  double w = 0;
  for (double& out : waits) {
    out = w;
    w = std::max(0.0, w + service - gap(rng));
  }
  auto at = waits.begin() + static_cast<std::ptrdiff_t>(quantile * n);
  std::nth_element(waits.begin(), at, waits.end());
  return *at;
}

// 2 million customers per load: ~4 s on a quiet machine, so it runs in the release pass only.
TEST(Md1Queue, P95WaitMatchesASimulation_slow) {
  // rho 0.2-0.8 use the exact sum; 0.95 (p95 ~ 29 services, lambda t ~ 27) the tail formula.
  for (double rho : {0.2, 0.5, 0.8, 0.95}) {
    const double service = 0.25;  // s, a long prefill
    const double rate = rho / service;
    const double model = md1_wait_quantile(rate, service, 0.95);
    const double simulated = simulated_wait_quantile(rate, service, 0.95, 2'000'000);
    std::printf("  rho %.2f: p95 wait model %.4f s, simulated %.4f s\n", rho, model, simulated);
    EXPECT_NEAR(model / simulated, 1.0, 0.04) << "rho " << rho;
  }
}

TEST(Md1Queue, CdfAndMeanAreConsistent) {
  const double rate = 2.0, service = 0.3;  // rho 0.6
  EXPECT_NEAR(md1_wait_cdf(rate, service, 0.0), 0.4, 1e-12);  // P(no wait) = 1 - rho
  double previous = 0;
  for (double t = 0; t < 20; t += 0.05) {  // non-decreasing across the exact / tail switch
    const double p = md1_wait_cdf(rate, service, t);
    EXPECT_GE(p, previous - 1e-7) << t;  // the exact sum rounds at ~1e-9 near lambda t = 20
    EXPECT_LE(p, 1.0);
    previous = p;
  }
  EXPECT_NEAR(previous, 1.0, 1e-6);
  EXPECT_NEAR(md1_mean_wait(rate, service), 0.6 * 0.3 / (2 * 0.4), 1e-12);
  EXPECT_NEAR(md1_wait_cdf(rate, service, md1_wait_quantile(rate, service, 0.95)), 0.95, 1e-6);
  EXPECT_TRUE(std::isinf(md1_wait_quantile(4.0, 0.25, 0.95)));  // rho = 1: no steady state
  EXPECT_EQ(md1_wait_quantile(0.1, 0.1, 0.95), 0.0);            // rho 0.01: 99 % never wait
}

}  // namespace
}  // namespace frugal

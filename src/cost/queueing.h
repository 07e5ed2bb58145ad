// Waiting time of an M/D/1 queue (cost layer): Poisson arrivals served one at a time for a fixed
// time. The traffic planner queues prefills this way: requests arrive at random, and an engine
// prefills waiting prompts one after another (each prompt takes the same time at a fixed length).
#pragma once

namespace frugal {

// P(W <= t) for arrivals at rate_per_s (requests/s), service service_s (s), at t >= 0 (s).
// Erlang's exact sum (1 - rho) sum_{k=0}^{floor(t/D)} (lambda (kD - t))^k / k! e^{-lambda (kD - t)}
// where its alternating terms stay small enough for long double (lambda t <= 20); beyond that the
// Cramer-Lundberg tail C e^{-theta t}, theta the root of lambda (e^{theta D} - 1) = theta, which is
// accurate to <1 % there (tested against a simulation). Precondition: rho = rate x service < 1.
double md1_wait_cdf(double rate_per_s, double service_s, double t_s);

// The `quantile` (in (0, 1)) of the waiting time, in seconds; +inf when rate x service >= 1.
double md1_wait_quantile(double rate_per_s, double service_s, double quantile);

// Mean waiting time rho D / (2 (1 - rho)) (Pollaczek-Khinchine); +inf when rho >= 1.
double md1_mean_wait(double rate_per_s, double service_s);

}  // namespace frugal

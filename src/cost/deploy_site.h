// One serving site under a traffic (cost layer): how many replicas a site needs in an hour, the
// utilisation it reaches and its p99 time to first token, from the step-time model.
// Central idea (the "slot" model): a replica decodes up to `slots` requests at once — the largest
// batch that fits and keeps the time per output token under the target — so a site of n replicas
// is a queue with n x slots servers. A request of class k holds a slot for its prefill plus its
// output tokens x the decode step at that batch, the step stretched by the share of time the
// replica spends prefilling (a fixed point). Waiting for a slot is a G/G/m queue: Erlang C of
// M/M/m's Erlang C scaled for bursty arrivals, and the exponential tail with the Allen–Cunneen
// factor (ca² + cs²) / 2 (see ggm_wait_probability). The model is
// conservative when slots are partly empty (the real step is then shorter).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/expected.h"
#include "cost/deploy_workload.h"
#include "cost/llm_roofline.h"

namespace frugal {

struct ServiceModel {
  int64_t slots_per_replica = 0;     // requests decoding at once per replica
  double decode_step_s = 0;          // one step at that batch, stretched by prefills
  std::vector<double> class_service_s;  // per mix class: slot occupancy (s)
  std::vector<double> class_share;      // per mix class (renormalised)
  double mean_service_s = 0;         // T: mix-weighted occupancy
  double service_scv = 0;            // cs²: variance / mean² of the occupancy over the mix
  double first_token_s = 0;          // prefill of the longest prompt + one decode step (video: the longest video)
  double usd_per_hour_per_replica = 0;
  int devices_per_replica = 1;
  double mean_output_tokens = 0;     // per request (video: 0)
  // Requests/s one replica serves with every slot busy.
  double replica_capacity_per_s() const { return static_cast<double>(slots_per_replica) / mean_service_s; }
};

// The service model of `model` for the classes of `mix` (shares renormalised over the given
// classes), at the TPOT target. kInvalidArgument when no batch fits within the target.
Expected<ServiceModel> make_service_model(const LlmRoofline& model, const std::vector<RequestClass>& mix, double max_tpot_s,
                                          double usd_per_hour_per_replica);

// A service model from per-class slot times (s) and shares (renormalised): videos, one per
// replica at a time (slots 1), whose "first output" is the finished video (the longest class).
ServiceModel make_fixed_time_service_model(int64_t slots_per_replica, const std::vector<double>& class_service_s,
                                           const std::vector<double>& class_share, double first_output_s,
                                           double usd_per_hour_per_replica, int devices_per_replica);

// Erlang C: probability an arrival waits in M/M/m with `offered` = λ T erlangs (< servers).
double erlang_c(int64_t servers, double offered);

// Probability an arrival waits in G/G/m: Erlang C, scaled for non-Poisson arrivals by the ratio of
// Halfin–Whitt delay probabilities at beta / sqrt(z) and beta, beta = (m - a) / sqrt(a),
// z = (ca² + cs²) / (1 + cs²). Erlang C alone (service-time shape barely matters for the delay
// probability with many servers) under-stated bursty arrivals' waiting 3-15x in the simulation
// (deploy_plan_test.cc); this scaling is a fit to that simulation, not a published formula.
double ggm_wait_probability(int64_t servers, double offered, double ca2, double cs2);

// q-quantile of the wait in G/G/m: P(W > t) = P(wait) e^{-(m/T - λ) t / ((ca² + cs²) / 2)}
// (Allen–Cunneen's factor on the M/M/m tail); +inf when λ T >= servers.
double ggm_wait_quantile(int64_t servers, double rate_per_s, double mean_service_s, double ca2, double cs2, double q);

struct SiteHour {
  int64_t replicas = 0;
  double utilisation = 0;    // λ T / (replicas x slots): busy share of the paid slots
  double p99_wait_s = 0;
  double p99_ttft_s = 0;     // p99 wait + first token (network not included)
};

// The site with `replicas` replicas at `rate_per_s`.
SiteHour site_at(const ServiceModel& m, double rate_per_s, double ca2, int64_t replicas);

// The fewest replicas (at least `min_replicas`) with utilisation <= max_utilisation and p99 TTFT
// <= budget_s (network excluded); nullopt when even an idle site misses the budget.
std::optional<SiteHour> size_site(const ServiceModel& m, double rate_per_s, double ca2, double budget_s,
                                  double max_utilisation, int64_t min_replicas = 0);

inline constexpr double kLatencyQuantile = 0.99;

}  // namespace frugal

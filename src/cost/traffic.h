// Serving a given traffic (cost layer): the cheapest configuration — accelerator x devices per
// replica x weight type x replicas — that meets latency targets at a request rate, with its cost
// per hour and per request, utilisation and headroom.
// Central idea: each replica takes an equal Poisson share of the requests. Its decode batch is
// what Little's law implies at that share (serve_at_rate), and its p95 time to first token is the
// p95 wait of an M/D/1 queue of prefills (queueing.h) + one prefill + one decode step in flight.
// The fewest replicas that meet the targets is the cheapest for a deployment; the answer is the
// cheapest deployment.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cost/catalogue.h"
#include "cost/llm_serving.h"
#include "cost/llm_shape.h"
#include "cost/weight_type.h"

namespace frugal {

struct Traffic {
  double requests_per_s = 0;
  Workload workload;      // prompt and output tokens per request
  double ttft_p95_s = 0;  // p95 time to first token target (0 = none)
  double max_tpot_s = 0;  // mean time per output token target (0 = none)
};

// One replica at `rate_per_s` requests/s.
struct ReplicaLoad {
  bool meets = false;
  std::string reason;      // why not, when it does not meet the targets
  ServingPoint serving;    // steady batch, TPOT, mean TTFT (serve_at_rate)
  double prefill_s = 0;    // one prompt's prefill
  double ttft_p95_s = 0;   // p95 prefill-queue wait + prefill + one decode step
  double ttft_mean_s = 0;  // mean wait + prefill + half a decode step
};
ReplicaLoad replica_at_rate(const LlmRoofline& model, const Traffic& traffic, double rate_per_s);

// Largest rate (requests/s) one replica takes while meeting the targets (bisection to 0.1 %);
// 0 when not even a trickle does.
double replica_capacity_rate(const LlmRoofline& model, const Traffic& traffic);

struct TrafficCandidate {
  std::string hardware;
  int devices_per_replica = 1;  // tensor parallel
  std::string weights;
  int replicas = 1;
  ReplicaLoad load;                    // one replica at its share of the traffic
  double usd_per_hour = 0;             // all replicas
  double usd_per_request = 0;
  double usd_per_million_output_tokens = 0;
  double capacity_requests_per_s = 0;  // all replicas, within the targets
  double headroom = 0;                 // capacity / offered rate - 1
  // Offered output tokens/s over what the replicas make saturated (largest batch that fits at
  // prompt + output context): the share of the paid throughput the traffic uses.
  double utilisation = 0;
};

// The fewest replicas (up to max_replicas) of `model` that meet the traffic, priced at
// usd_per_hour_per_device; nullopt when none does.
std::optional<TrafficCandidate> replicas_for_traffic(const LlmRoofline& model, const Traffic& traffic,
                                                     double usd_per_hour_per_device, int max_replicas);

struct TrafficQuery {
  LlmShape shape;
  std::vector<Accelerator> hardware;
  std::vector<int> counts = {1, 2, 4, 8};  // devices per replica
  std::vector<WeightType> weights;
  Traffic traffic;
  double kv_bytes_per_element = 2.0;
  std::optional<Efficiency> efficiency;  // override; else default_efficiency(kind)
  double usd_per_hour_override = 0;      // per device; else the catalogue midpoint
  int max_replicas = 4096;
};

struct TrafficPlan {
  std::optional<TrafficCandidate> best;
  std::vector<TrafficCandidate> ranked;  // one per deployment that can meet the traffic, cheapest first
  int64_t evaluated = 0;                 // deployments (hardware x count x weights) searched
  int64_t unsupported = 0;               // (hardware, weights) pairs the catalogue says cannot run
  int64_t skipped = 0;                   // deployments that cannot be planned (no price, TP invalid)
};

TrafficPlan plan_for_traffic(const TrafficQuery& query);

// Order of the ranking: cheaper per hour first; ties go to fewer devices, then lower p95 TTFT.
bool cheaper_for_traffic(const TrafficCandidate& a, const TrafficCandidate& b);

}  // namespace frugal

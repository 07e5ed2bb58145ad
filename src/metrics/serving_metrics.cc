#include "metrics/serving_metrics.h"

namespace frugal {

ServingMetrics register_serving_metrics(MetricsRegistry& r) {
  ServingMetrics m;
  m.ttft = r.histogram("frugal_time_to_first_token_seconds", "Time from request arrival to its first generated token.",
                       latency_buckets_seconds());
  m.itl = r.histogram("frugal_inter_token_latency_seconds", "Time between consecutive generated tokens of a request.",
                      step_time_buckets_seconds());
  m.e2e = r.histogram("frugal_e2e_request_latency_seconds", "Time from request arrival to its last event.",
                      latency_buckets_seconds());
  m.queue_time = r.histogram("frugal_queue_time_seconds", "Time a request waited in the queue before its first step.",
                             latency_buckets_seconds());
  m.step_duration = r.histogram("frugal_step_duration_seconds", "Duration of one engine step (batched forward pass).",
                                step_time_buckets_seconds(), {"phase"});
  m.prompt_tokens = r.counter("frugal_prompt_tokens_total", "Prompt tokens of admitted requests.");
  m.generation_tokens = r.counter("frugal_generation_tokens_total", "Tokens generated.");
  m.cached_tokens = r.counter("frugal_cached_prompt_tokens_total", "Prompt tokens served from the prefix cache.");
  m.requests = r.counter("frugal_requests_total", "Finished requests by outcome.", {"outcome"});
  m.preemptions = r.counter("frugal_preemptions_total", "Requests preempted to free KV blocks.");
  m.running = r.gauge("frugal_requests_running", "Requests in the running batch.");
  m.waiting = r.gauge("frugal_requests_waiting", "Requests waiting in the queue.");
  m.kv_used = r.gauge("frugal_kv_blocks_used", "KV cache blocks in use.");
  m.kv_total = r.gauge("frugal_kv_blocks_capacity", "KV cache blocks in the pool.");
  m.compute_seconds = r.counter("frugal_compute_seconds_total", "Engine step seconds metered by the live cost meter.");
  m.cost_usd = r.counter("frugal_cost_usd_total", "Metered compute cost in US dollars (compute seconds at the price).");
  m.cost_per_million_tokens = r.gauge("frugal_cost_usd_per_million_tokens",
                                      "US dollars per million tokens over the cost meter's sliding window.", {"tokens"});
  m.price_usd_per_hour = r.gauge("frugal_price_usd_per_hour", "Price per hour used by the live cost meter (0 = none).");
  // Every label value exists from the start, so rates and dashboards see zeros, not gaps.
  for (const char* outcome : {kOutcomeStop, kOutcomeLength, kOutcomeCancelled, kOutcomeError, kOutcomeRejected}) {
    m.requests->with({outcome});
  }
  m.cost_per_million_tokens->with({kCostTokensAll});
  m.cost_per_million_tokens->with({kCostTokensGenerated});
  m.step_duration->with({"prefill"});
  m.step_duration->with({"decode"});
  return m;
}

}  // namespace frugal

// The serving metrics, registered in one place (metrics layer): both the engine and the HTTP server
// update these families, so every name, help text, bucket layout and label set lives here once.
//
// Who updates what (so nothing is counted twice):
//   engine  frugal_queue_time_seconds              histogram  submit -> first scheduled
//           frugal_step_duration_seconds{phase}    histogram  one forward pass; phase="prefill|decode"
//           frugal_prompt_tokens_total             counter    prompt tokens of admitted requests
//           frugal_generation_tokens_total         counter    tokens generated
//           frugal_cached_prompt_tokens_total      counter    prompt tokens served from the prefix cache
//           frugal_preemptions_total               counter    requests preempted for KV blocks
//           frugal_requests_running                gauge      sequences in the running batch
//           frugal_requests_waiting                gauge      requests queued
//           frugal_kv_blocks_used                  gauge      KV blocks in use
//           frugal_kv_blocks_capacity              gauge      KV blocks in the pool (not "_total":
//                                                             promtool reserves that suffix for counters)
//   engine  frugal_compute_seconds_total           counter    engine step seconds (step start -> forward
//   (live                                                     pass done): the live cost meter's base
//   cost    frugal_cost_usd_total                  counter    compute seconds x price per hour / 3600
//   meter)  frugal_cost_usd_per_million_tokens{tokens}
//                                                  gauge      $ per million tokens over the sliding window;
//                                                             tokens="all|generated"; 0 = none in window
//           frugal_price_usd_per_hour              gauge      the meter's price (0 = none set)
//   server  frugal_time_to_first_token_seconds     histogram  HTTP request arrival -> first token
//           frugal_inter_token_latency_seconds     histogram  gap between consecutive token events,
//                                                             divided by the tokens in the event
//           frugal_e2e_request_latency_seconds     histogram  HTTP request arrival -> last event
//           frugal_requests_total{outcome}         counter    one per engine request (n>1: n of them);
//                                                             outcome="stop|length|cancelled|error|rejected"
//   The server also refreshes the four request/KV gauges from LlmEngine::snapshot() at each scrape, so they are
//   right even if the engine only updates them per step.
#pragma once

#include "metrics/metrics.h"

namespace frugal {

struct ServingMetrics {
  HistogramFamily* ttft = nullptr;
  HistogramFamily* itl = nullptr;
  HistogramFamily* e2e = nullptr;
  HistogramFamily* queue_time = nullptr;
  HistogramFamily* step_duration = nullptr;  // label: phase
  CounterFamily* prompt_tokens = nullptr;
  CounterFamily* generation_tokens = nullptr;
  CounterFamily* cached_tokens = nullptr;
  CounterFamily* requests = nullptr;  // label: outcome
  CounterFamily* preemptions = nullptr;
  GaugeFamily* running = nullptr;
  GaugeFamily* waiting = nullptr;
  GaugeFamily* kv_used = nullptr;
  GaugeFamily* kv_total = nullptr;
  CounterFamily* compute_seconds = nullptr;
  CounterFamily* cost_usd = nullptr;
  GaugeFamily* cost_per_million_tokens = nullptr;  // label: tokens
  GaugeFamily* price_usd_per_hour = nullptr;
};

// Registers (or, on a second call with the same registry, looks up) every serving family.
ServingMetrics register_serving_metrics(MetricsRegistry& registry);

// The `outcome` label values of frugal_requests_total.
inline constexpr const char* kOutcomeStop = "stop";
inline constexpr const char* kOutcomeLength = "length";
inline constexpr const char* kOutcomeCancelled = "cancelled";
inline constexpr const char* kOutcomeError = "error";
inline constexpr const char* kOutcomeRejected = "rejected";

// The `tokens` label values of frugal_cost_usd_per_million_tokens.
inline constexpr const char* kCostTokensAll = "all";
inline constexpr const char* kCostTokensGenerated = "generated";

}  // namespace frugal

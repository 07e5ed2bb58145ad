// The speculative-decoding metrics, registered in one place (metrics layer). All are updated by the
// engine thread (engine/llm_engine.cc) when speculation is configured:
//   frugal_spec_proposed_tokens_total        counter    tokens proposed (draft model or n-gram)
//   frugal_spec_accepted_tokens_total        counter    proposals the target accepted
//                                                       (acceptance rate = accepted / proposed)
//   frugal_spec_verifications_total          counter    sequence-steps verified by the target
//   frugal_spec_tokens_per_verification      histogram  tokens one verification produced (1 + accepted);
//                                                       mean tokens per target step = _sum / _count
//   frugal_spec_step_seconds_total{state}    counter    decode-step seconds with speculation on / off
//                                                       (the load-aware switch's choice)
#pragma once

#include "metrics/metrics.h"

namespace frugal {

struct SpecMetrics {
  CounterFamily* proposed = nullptr;
  CounterFamily* accepted = nullptr;
  CounterFamily* verifications = nullptr;
  HistogramFamily* tokens_per_verification = nullptr;
  CounterFamily* step_seconds = nullptr;  // label: state = "on" | "off"
};

// Registers (or looks up, on a second call with the same registry) every speculation family.
SpecMetrics register_spec_metrics(MetricsRegistry& registry);

}  // namespace frugal

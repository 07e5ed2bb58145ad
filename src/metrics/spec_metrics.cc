#include "metrics/spec_metrics.h"

namespace frugal {

SpecMetrics register_spec_metrics(MetricsRegistry& r) {
  SpecMetrics m;
  m.proposed = r.counter("frugal_spec_proposed_tokens_total", "Speculative tokens proposed (draft model or n-gram).");
  m.accepted = r.counter("frugal_spec_accepted_tokens_total", "Speculative tokens accepted by the target model.");
  m.verifications = r.counter("frugal_spec_verifications_total", "Sequence-steps verified by the target model.");
  m.tokens_per_verification = r.histogram("frugal_spec_tokens_per_verification",
                                          "Tokens produced by one verification (1 + accepted proposals).",
                                          {1, 2, 3, 4, 5, 6, 8, 12, 16});
  m.step_seconds = r.counter("frugal_spec_step_seconds_total",
                             "Decode step seconds with speculation on or off (load-aware switch).", {"state"});
  m.step_seconds->with({"on"});
  m.step_seconds->with({"off"});
  return m;
}

}  // namespace frugal

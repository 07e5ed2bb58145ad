#include "cost/llm_serving.h"

#include <algorithm>

namespace frugal {
namespace {

int64_t mean_context(const Workload& w) { return w.prompt_tokens + w.output_tokens / 2; }
int64_t full_context(const Workload& w) { return w.prompt_tokens + w.output_tokens; }

}  // namespace

ServingPoint serve_at_rate(const LlmRoofline& model, const Workload& w, double rate_per_s) {
  ServingPoint sp;
  const double prefill_s = model.prefill(1, w.prompt_tokens).total_s();
  sp.prefill_busy_fraction = rate_per_s * prefill_s;
  if (sp.prefill_busy_fraction >= 1.0) {
    sp.reason = "prefill alone needs more than the whole device time at this rate";
    return sp;
  }
  const int64_t limit = model.max_batch(full_context(w));
  if (limit == 0) {
    sp.reason = "one sequence does not fit in memory";
    return sp;
  }
  const double demand_tokens_per_s = rate_per_s * static_cast<double>(w.output_tokens);
  auto tpot = [&](int64_t b) {
    return model.decode_step(b, mean_context(w)).total_s() / (1.0 - sp.prefill_busy_fraction);
  };
  // Smallest batch that serves the demand: b / tpot(b) >= demand (b / tpot(b) grows with b).
  int64_t lo = 1, hi = limit;
  if (static_cast<double>(limit) / tpot(limit) < demand_tokens_per_s) {
    sp.reason = "overloaded: even the largest batch that fits (" + std::to_string(limit) + ") is too slow";
    return sp;
  }
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (static_cast<double>(mid) / tpot(mid) >= demand_tokens_per_s) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  sp.feasible = true;
  sp.batch = lo;
  sp.tpot_s = tpot(lo);
  // A new request waits on average half a decode step before its prefill is scheduled.
  sp.ttft_s = prefill_s + 0.5 * sp.tpot_s;
  sp.e2e_s = sp.ttft_s + static_cast<double>(w.output_tokens) * sp.tpot_s;
  sp.output_tokens_per_s = demand_tokens_per_s;
  return sp;
}

int64_t max_batch_under_tpot(const LlmRoofline& model, const Workload& w, double max_tpot_s) {
  const int64_t limit = model.max_batch(full_context(w));
  if (limit == 0 || model.decode_step(1, mean_context(w)).total_s() > max_tpot_s) return 0;
  // TPOT grows with batch: bisect for the last batch within the SLO.
  int64_t lo = 1, hi = limit;
  while (lo < hi) {
    const int64_t mid = hi - (hi - lo) / 2;
    if (model.decode_step(mid, mean_context(w)).total_s() <= max_tpot_s) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

double offline_output_tokens_per_s(const LlmRoofline& model, const Workload& w, int64_t batch) {
  if (batch <= 0) return 0.0;
  const double prefill_s = model.prefill(batch, w.prompt_tokens).total_s();
  const double decode_s = static_cast<double>(w.output_tokens) * model.decode_step(batch, mean_context(w)).total_s();
  return static_cast<double>(batch) * static_cast<double>(w.output_tokens) / (prefill_s + decode_s);
}

}  // namespace frugal

#include "cost/recommend.h"

#include <algorithm>

namespace frugal {

Candidate score_candidate(const LlmRoofline& model, const RecommendQuery& q, int64_t batch, double usd_per_hour) {
  const LlmDeployment& d = model.deployment();
  Candidate c;
  c.hardware = d.hardware.name;
  c.count = d.tensor_parallel;
  c.weights = d.weights.name;
  c.batch = batch;
  const int64_t context = q.workload.prompt_tokens + q.workload.output_tokens;
  c.fits = model.fits(batch, context);
  c.tpot_s = model.decode_step(batch, q.workload.prompt_tokens + q.workload.output_tokens / 2).total_s();
  c.ttft_s = model.prefill(1, q.workload.prompt_tokens).total_s() + 0.5 * c.tpot_s;
  c.output_tokens_per_s = static_cast<double>(batch) / c.tpot_s;
  c.usd_per_hour = usd_per_hour;
  c.usd_per_million_output_tokens = usd_per_million_tokens(usd_per_hour, c.output_tokens_per_s, 1.0);
  c.meets_slo = c.fits && (q.max_tpot_s <= 0 || c.tpot_s <= q.max_tpot_s) &&
                (q.max_ttft_s <= 0 || c.ttft_s <= q.max_ttft_s);
  return c;
}

Recommendation recommend(const RecommendQuery& q) {
  Recommendation r;
  for (const Accelerator& hw : q.hardware) {
    const double price = q.usd_per_hour_override > 0 ? q.usd_per_hour_override : hw.cloud_usd_per_hour_mid();
    for (int count : q.counts) {
      for (const WeightType& wt : q.weights) {
        if (!hw.can_run(wt.name)) {  // the catalogue says no serving stack has kernels for it there
          ++r.unsupported;
          continue;
        }
        auto model = LlmRoofline::create(make_llm_deployment(q.shape, wt, q.kv_bytes_per_element, hw, count, q.efficiency));
        if (!model || price <= 0) {
          ++r.skipped;
          continue;
        }
        for (int64_t batch : q.batches) {
          Candidate c = score_candidate(*model, q, batch, price * count);
          ++r.evaluated;
          if (c.meets_slo) r.ranked.push_back(std::move(c));
        }
      }
    }
  }
  // Cheapest first; ties go to fewer devices, then lower latency.
  std::stable_sort(r.ranked.begin(), r.ranked.end(), [](const Candidate& a, const Candidate& b) {
    if (a.usd_per_million_output_tokens != b.usd_per_million_output_tokens) {
      return a.usd_per_million_output_tokens < b.usd_per_million_output_tokens;
    }
    if (a.count != b.count) return a.count < b.count;
    return a.tpot_s < b.tpot_s;
  });
  if (!r.ranked.empty()) r.best = r.ranked.front();
  return r;
}

}  // namespace frugal

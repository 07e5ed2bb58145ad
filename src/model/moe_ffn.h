// Mixture-of-experts feed-forward block (model layer): routing (softmax over the router's logits,
// top-k, optional renormalisation) and the chosen experts' SwiGLU FFNs, batched per expert: the
// tokens routed to an expert are gathered and multiplied by its weights in one matmul, so a step
// reads each chosen expert's weights once and never touches the others. Semantics follow
// llama.cpp's build_moe_ffn (softmax gating, SiLU) and Qwen2-MoE's sigmoid-gated shared expert.
#pragma once

#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "model/config.h"
#include "model/weights.h"
#include "ops/matmul.h"

namespace frugal {

// The experts a forward run chose, recorded on one run and replayed on another of the same tokens
// (`frugal bench`'s validation: the fast and the reference path then multiply the same experts, so
// the comparison checks their arithmetic instead of which side of a near-tie between two experts
// each path's rounding fell on). Replay keeps the replaying path's own router probabilities as
// mixing weights and counts where its own top-k differed.
struct RoutingTrace {
  enum class Mode { kRecord, kReplay };
  Mode mode = Mode::kRecord;
  std::vector<int32_t> chosen;  // every moe_ffn call's [n_tokens, n_expert_used], in call order
  size_t cursor = 0;            // replay: the next recorded entry
  int64_t routes = 0;           // replay: token routes replayed
  int64_t differing = 0;        // ... where this path's own top-k was another set of experts
  double max_mass_gap = 0.0;    // ... the most router probability its own top-k had over the replayed one
  bool overrun = false;         // replay ran past the recording (the rest kept their own routes)
};

// Buffers reused across calls (grown on demand).
struct MoeScratch {
  std::vector<float> router;         // [n_tokens, n_expert] logits, then probabilities
  std::vector<int32_t> chosen;       // [n_tokens, n_expert_used] expert ids, best first
  std::vector<float> weights;        // [n_tokens, n_expert_used] their mixing weights
  std::vector<int32_t> token_count;  // [n_expert] tokens routed to each expert this call
  std::vector<int32_t> routed;       // [n_tokens * n_expert_used] (token, slot) pairs grouped by expert
  std::vector<float> x, gate, up, y; // gathered rows: [n_e, n_embd], [n_e, width] x2, [n_e, n_embd]
  int64_t experts_run = 0;           // distinct (layer, expert) matrices multiplied since reset (stats)
  RoutingTrace* trace = nullptr;     // when set: routes recorded or replayed (see RoutingTrace)
};

// The expert each token picks and its weight (exposed for tests).
//   logits: [n_tokens, n_expert]; chosen/weights: [n_tokens, n_expert_used]
// probs = softmax(logits); chosen = top-k by probability (lower id first on ties); weights =
// probs[chosen], divided by their sum (floored at 6.1e-5, as llama.cpp) when `normalize`.
void route_tokens(const float* logits, int64_t n_tokens, int64_t n_expert, int64_t n_expert_used, bool normalize,
                  int32_t* chosen, float* weights);
// Records chosen into the trace, or replaces it with the recorded routes (weights recomputed from
// this call's router logits) and counts the differences. logits: [n_tokens, n_expert].
void trace_routes(const float* logits, int64_t n_tokens, int64_t n_expert, int64_t n_expert_used, bool normalize,
                  int32_t* chosen, float* weights, RoutingTrace& trace);

// out[t, :] = sum_j weights[t, j] * down_e(silu(gate_e · xn[t]) * (up_e · xn[t])),  e = chosen[t, j]
//             (+ sigmoid(shexp_gate · xn[t]) * shared_expert(xn[t]) when the layer has one)
//   xn: [n_tokens, n_embd] (the normalised FFN input); out: [n_tokens, n_embd] (overwritten)
void moe_ffn(const ModelConfig& config, const LayerWeights& layer, const float* xn, int64_t n_tokens, float* out,
             ThreadPool& pool, MoeScratch& scratch, MatmulScratch& matmul_scratch, MatmulPath path);

}  // namespace frugal

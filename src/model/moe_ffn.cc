#include "model/moe_ffn.h"

#include <algorithm>
#include <cmath>

#include "ops/elementwise.h"

namespace frugal {
namespace {

// The most weights one matmul_multi call takes (ops/matmul.cc's kMaxTargets).
constexpr size_t kMaxMatmulTargets = 18;

void ensure_size(std::vector<float>& buffer, int64_t n) {
  if (static_cast<int64_t>(buffer.size()) < n) buffer.resize(static_cast<size_t>(n));
}

// out[t, :] += scale[t] * y[t, :] for the shared expert; y: [n_tokens, n_embd]
void add_shared_expert(const ModelConfig& c, const LayerWeights& l, const float* xn, const float* y, int64_t n_tokens,
                       float* out) {
  for (int64_t t = 0; t < n_tokens; ++t) {
    double dot = 0.0;
    for (int64_t i = 0; i < c.n_embd; ++i) dot += static_cast<double>(l.shexp_gate[static_cast<size_t>(i)]) * xn[t * c.n_embd + i];
    const float g = 1.0f / (1.0f + std::exp(-static_cast<float>(dot)));  // sigmoid
    for (int64_t i = 0; i < c.n_embd; ++i) out[t * c.n_embd + i] += g * y[t * c.n_embd + i];
  }
}

}  // namespace

namespace {

// probs[e] = softmax(z)[e] over one token's router logits z [n_expert].
void softmax_row(const float* z, int64_t n_expert, float* probs) {
  const float max_z = *std::max_element(z, z + n_expert);
  double sum = 0.0;
  for (int64_t e = 0; e < n_expert; ++e) {
    probs[e] = std::exp(z[e] - max_z);
    sum += probs[e];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t e = 0; e < n_expert; ++e) probs[e] *= inv;
}

// weights[j] = probs[chosen[j]], divided by their sum (floored as llama.cpp) when `normalize`.
void mixing_weights(const float* probs, const int32_t* chosen, int64_t k, bool normalize, float* weights) {
  float w_sum = 0.0f;
  for (int64_t j = 0; j < k; ++j) {
    weights[j] = probs[chosen[j]];
    w_sum += weights[j];
  }
  if (normalize) {
    const float denom = std::max(w_sum, 6.103515625e-5f);
    for (int64_t j = 0; j < k; ++j) weights[j] /= denom;
  }
}

}  // namespace

void route_tokens(const float* logits, int64_t n_tokens, int64_t n_expert, int64_t k, bool normalize, int32_t* chosen,
                  float* weights) {
  std::vector<float> probs(static_cast<size_t>(n_expert));
  std::vector<int32_t> order(static_cast<size_t>(n_expert));
  for (int64_t t = 0; t < n_tokens; ++t) {
    softmax_row(logits + t * n_expert, n_expert, probs.data());
    for (int64_t e = 0; e < n_expert; ++e) order[static_cast<size_t>(e)] = static_cast<int32_t>(e);
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
      return probs[static_cast<size_t>(a)] > probs[static_cast<size_t>(b)] ||
             (probs[static_cast<size_t>(a)] == probs[static_cast<size_t>(b)] && a < b);
    });
    std::copy_n(order.begin(), k, chosen + t * k);
    mixing_weights(probs.data(), chosen + t * k, k, normalize, weights + t * k);
  }
}

void trace_routes(const float* logits, int64_t n_tokens, int64_t n_expert, int64_t k, bool normalize, int32_t* chosen,
                  float* weights, RoutingTrace& trace) {
  const size_t n = static_cast<size_t>(n_tokens * k);
  if (trace.mode == RoutingTrace::Mode::kRecord) {
    trace.chosen.insert(trace.chosen.end(), chosen, chosen + n);
    return;
  }
  if (trace.cursor + n > trace.chosen.size()) {  // a run longer than the recorded one: keep its own routes
    trace.overrun = true;
    return;
  }
  const int32_t* recorded = trace.chosen.data() + trace.cursor;
  trace.cursor += n;
  std::vector<float> probs(static_cast<size_t>(n_expert));
  for (int64_t t = 0; t < n_tokens; ++t) {
    ++trace.routes;
    int32_t* own = chosen + t * k;
    const int32_t* rec = recorded + t * k;
    if (std::equal(own, own + k, rec)) continue;
    softmax_row(logits + t * n_expert, n_expert, probs.data());
    double own_mass = 0.0, rec_mass = 0.0;
    for (int64_t j = 0; j < k; ++j) {
      own_mass += probs[static_cast<size_t>(own[j])];
      rec_mass += probs[static_cast<size_t>(rec[j])];
    }
    if (!std::is_permutation(own, own + k, rec)) ++trace.differing;
    trace.max_mass_gap = std::max(trace.max_mass_gap, own_mass - rec_mass);
    std::copy_n(rec, k, own);
    mixing_weights(probs.data(), own, k, normalize, weights + t * k);
  }
}

void moe_ffn(const ModelConfig& c, const LayerWeights& l, const float* xn, int64_t n_tokens, float* out,
             ThreadPool& pool, MoeScratch& s, MatmulScratch& ms, MatmulPath path) {
  const int64_t n_expert = c.n_expert, k = c.n_expert_used, ff = c.n_ff_exp, sh = c.n_ff_shexp, d = c.n_embd;
  ensure_size(s.router, n_tokens * n_expert);
  s.chosen.resize(static_cast<size_t>(n_tokens * k));
  s.weights.resize(static_cast<size_t>(n_tokens * k));
  matmul(l.gate_inp, xn, n_tokens, s.router.data(), pool, ms, path);  // [n_tokens, n_expert]
  route_tokens(s.router.data(), n_tokens, n_expert, k, c.expert_weights_norm, s.chosen.data(), s.weights.data());
  if (s.trace != nullptr) {
    trace_routes(s.router.data(), n_tokens, n_expert, k, c.expert_weights_norm, s.chosen.data(), s.weights.data(),
                 *s.trace);
  }
  std::fill(out, out + n_tokens * d, 0.0f);

  if (n_tokens == 1) {
    // Decode: every chosen expert (and the shared one) reads the same row, so all gate/up
    // projections run in one parallel region; then one down projection per expert.
    ensure_size(s.gate, k * ff + sh);
    ensure_size(s.up, k * ff + sh);
    ensure_size(s.y, (k + 1) * d);
    std::vector<MatmulTarget> targets;
    targets.reserve(static_cast<size_t>(2 * k + 2));
    for (int64_t j = 0; j < k; ++j) {
      const size_t e = static_cast<size_t>(s.chosen[static_cast<size_t>(j)]);
      targets.push_back({&l.gate_exps[e], s.gate.data() + j * ff});
      targets.push_back({&l.up_exps[e], s.up.data() + j * ff});
    }
    if (sh > 0) {
      targets.push_back({&l.gate_shexp, s.gate.data() + k * ff});
      targets.push_back({&l.up_shexp, s.up.data() + k * ff});
    }
    for (size_t first = 0; first < targets.size(); first += kMaxMatmulTargets) {
      const int n = static_cast<int>(std::min<size_t>(kMaxMatmulTargets, targets.size() - first));
      matmul_multi(targets.data() + first, n, xn, 1, pool, ms, path);
    }
    swiglu_inplace(s.gate.data(), s.up.data(), k * ff + sh);
    for (int64_t j = 0; j < k; ++j) {
      const size_t e = static_cast<size_t>(s.chosen[static_cast<size_t>(j)]);
      matmul(l.down_exps[e], s.gate.data() + j * ff, 1, s.y.data(), pool, ms, path);
      const float w = s.weights[static_cast<size_t>(j)];
      for (int64_t i = 0; i < d; ++i) out[i] += w * s.y[static_cast<size_t>(i)];
    }
    s.experts_run += k;
    if (sh > 0) {
      matmul(l.down_shexp, s.gate.data() + k * ff, 1, s.y.data(), pool, ms, path);
      add_shared_expert(c, l, xn, s.y.data(), 1, out);
    }
    return;
  }

  // Prefill / batched steps: group the (token, slot) pairs by expert (counting sort).
  s.token_count.assign(static_cast<size_t>(n_expert + 1), 0);
  for (int64_t i = 0; i < n_tokens * k; ++i) ++s.token_count[static_cast<size_t>(s.chosen[static_cast<size_t>(i)]) + 1];
  for (int64_t e = 0; e < n_expert; ++e) s.token_count[static_cast<size_t>(e + 1)] += s.token_count[static_cast<size_t>(e)];
  s.routed.resize(static_cast<size_t>(n_tokens * k));
  {
    std::vector<int32_t> fill(s.token_count.begin(), s.token_count.end() - 1);
    for (int64_t i = 0; i < n_tokens * k; ++i) {
      const size_t e = static_cast<size_t>(s.chosen[static_cast<size_t>(i)]);
      s.routed[static_cast<size_t>(fill[e]++)] = static_cast<int32_t>(i);  // i = t * k + j
    }
  }
  const int64_t width = std::max(ff, sh);
  ensure_size(s.x, n_tokens * d);
  ensure_size(s.gate, n_tokens * width);
  ensure_size(s.up, n_tokens * width);
  ensure_size(s.y, n_tokens * d);
  for (int64_t e = 0; e < n_expert; ++e) {
    const int32_t begin = s.token_count[static_cast<size_t>(e)], end = s.token_count[static_cast<size_t>(e + 1)];
    const int64_t n_e = end - begin;
    if (n_e == 0) continue;
    for (int64_t r = 0; r < n_e; ++r) {
      const int64_t t = s.routed[static_cast<size_t>(begin + r)] / k;
      std::copy_n(xn + t * d, d, s.x.data() + r * d);
    }
    const MatmulTarget gate_up[] = {{&l.gate_exps[static_cast<size_t>(e)], s.gate.data()},   // [n_e, ff]
                                    {&l.up_exps[static_cast<size_t>(e)], s.up.data()}};      // [n_e, ff]
    matmul_multi(gate_up, 2, s.x.data(), n_e, pool, ms, path);
    swiglu_inplace(s.gate.data(), s.up.data(), n_e * ff);
    matmul(l.down_exps[static_cast<size_t>(e)], s.gate.data(), n_e, s.y.data(), pool, ms, path);  // [n_e, d]
    for (int64_t r = 0; r < n_e; ++r) {
      const int32_t i = s.routed[static_cast<size_t>(begin + r)];
      const float w = s.weights[static_cast<size_t>(i)];
      float* o = out + (i / k) * d;
      const float* y = s.y.data() + r * d;
      for (int64_t q = 0; q < d; ++q) o[q] += w * y[q];
    }
    ++s.experts_run;
  }
  if (sh > 0) {
    const MatmulTarget gate_up[] = {{&l.gate_shexp, s.gate.data()}, {&l.up_shexp, s.up.data()}};  // [n_tokens, sh]
    matmul_multi(gate_up, 2, xn, n_tokens, pool, ms, path);
    swiglu_inplace(s.gate.data(), s.up.data(), n_tokens * sh);
    matmul(l.down_shexp, s.gate.data(), n_tokens, s.y.data(), pool, ms, path);
    add_shared_expert(c, l, xn, s.y.data(), n_tokens, out);
  }
}

}  // namespace frugal

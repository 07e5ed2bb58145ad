#include "video/dit/dit_block.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/check.h"
#include "ops/attention.h"
#include "ops/elementwise.h"

namespace frugal::video {
namespace {

// Chunks of the modulation rows, in the official order.
enum ModRow : int64_t { kShiftMsa = 0, kScaleMsa, kGateMsa, kShiftMlp, kScaleMlp, kGateMlp };

void report(const DitDebugHook* hook, int64_t layer_idx, const char* what, const float* data, int64_t n) {
  if (hook == nullptr || !*hook) return;
  const std::string name = "block" + std::to_string(layer_idx) + "_" + what;
  (*hook)(name, data, n);
}

// x[t, :] = rms_norm(x[t, :]) * weight, in place.  x: [n_tokens, dim]
void rms_norm_rows(float* x, const std::vector<float>& weight, int64_t n_tokens, int64_t dim, float eps,
                   ThreadPool& pool) {
  pool.parallel_for(n_tokens, [&](int64_t begin, int64_t end) {
    rms_norm(x + begin * dim, weight.data(), end - begin, dim, eps, x + begin * dim);
  });
}

// x[t, :] += y[t, :] * gate[:]   x, y: [n_tokens, dim]; gate: [dim] or null (no gate)
void add_gated(float* x, const float* y, const float* gate, int64_t n_tokens, int64_t dim, ThreadPool& pool) {
  pool.parallel_for(n_tokens, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      float* xr = x + t * dim;
      const float* yr = y + t * dim;
      if (gate == nullptr) {
        for (int64_t d = 0; d < dim; ++d) xr[d] += yr[d];
      } else {
        for (int64_t d = 0; d < dim; ++d) xr[d] += yr[d] * gate[d];
      }
    }
  });
}

AttentionShape attention_shape(const DitConfig& c) {
  return {c.num_heads, c.num_heads, c.head_dim(), static_cast<float>(1.0 / std::sqrt(static_cast<double>(c.head_dim())))};
}

// Self-attention of s.h (modulated input); leaves the projected output in s.q.
void self_attention(const DitAttentionWeights& w, const DitConfig& c, int64_t layer_idx, const Rope3d& rope,
                    const DitGrid& grid, DitBlockScratch& s, ThreadPool& pool, const DitDebugHook* hook) {
  const int64_t n = grid.n_tokens();
  const MatmulTarget targets[] = {{&w.q.weight.view(), s.q.data()}, {&w.k.weight.view(), s.k.data()},
                                  {&w.v.weight.view(), s.v.data()}};
  matmul_multi(targets, 3, s.h.data(), n, pool, s.matmul);
  const std::pair<float*, const DitLinear*> biased[] = {{s.q.data(), &w.q}, {s.k.data(), &w.k}, {s.v.data(), &w.v}};
  pool.parallel_for(n, [&](int64_t begin, int64_t end) {
    for (const auto& [y, l] : biased) add_bias_rows(y + begin * c.dim, l->bias.data(), end - begin, c.dim);
  });
  if (c.qk_norm) {
    rms_norm_rows(s.q.data(), w.norm_q, n, c.dim, c.eps, pool);
    rms_norm_rows(s.k.data(), w.norm_k, n, c.dim, c.eps, pool);
  }
  report(hook, layer_idx, "q_normed", s.q.data(), n * c.dim);
  report(hook, layer_idx, "k_normed", s.k.data(), n * c.dim);
  report(hook, layer_idx, "v", s.v.data(), n * c.dim);
  rope.apply(s.q.data(), c.num_heads, grid.frames, grid.height, grid.width, pool);  // [n, heads, head_dim]
  rope.apply(s.k.data(), c.num_heads, grid.frames, grid.height, grid.width, pool);
  report(hook, layer_idx, "q_rope", s.q.data(), n * c.dim);
  report(hook, layer_idx, "k_rope", s.k.data(), n * c.dim);
  const TokenGrid3 tokens{grid.frames, grid.height, grid.width};
  attention_full_3d(s.q.data(), s.k.data(), s.v.data(), tokens, attention_shape(c), s.attention, s.h.data(), pool,
                    s.tiled, &s.attention_stats);
  apply_linear(w.o, s.h.data(), n, s.q.data(), pool, s.matmul);
}

// Cross-attention of s.h (norm3(x)) over all text_len context rows; leaves the output in s.q.
void cross_attention(const DitAttentionWeights& w, const DitConfig& c, int64_t n, const float* context,
                     DitBlockScratch& s, ThreadPool& pool) {
  apply_linear(w.q, s.h.data(), n, s.q.data(), pool, s.matmul);
  const MatmulTarget targets[] = {{&w.k.weight.view(), s.ctx_k.data()}, {&w.v.weight.view(), s.ctx_v.data()}};
  matmul_multi(targets, 2, context, c.text_len, pool, s.matmul);
  add_bias_rows(s.ctx_k.data(), w.k.bias.data(), c.text_len, c.dim);
  add_bias_rows(s.ctx_v.data(), w.v.bias.data(), c.text_len, c.dim);
  if (c.qk_norm) {
    rms_norm_rows(s.q.data(), w.norm_q, n, c.dim, c.eps, pool);
    rms_norm_rows(s.ctx_k.data(), w.norm_k, c.text_len, c.dim, c.eps, pool);
  }
  attention_full(s.q.data(), n, s.ctx_k.data(), s.ctx_v.data(), c.text_len, attention_shape(c), s.h.data(), pool);
  apply_linear(w.o, s.h.data(), n, s.q.data(), pool, s.matmul);
}

// FFN of s.h (modulated input) in chunks of s.ffn_chunk_tokens rows; leaves the output in s.q.
void feed_forward(const DitBlockWeights& w, const DitConfig& c, int64_t n, DitBlockScratch& s, ThreadPool& pool) {
  for (int64_t t0 = 0; t0 < n; t0 += s.ffn_chunk_tokens) {
    const int64_t rows = std::min(s.ffn_chunk_tokens, n - t0);
    apply_linear(w.ffn_in, s.h.data() + t0 * c.dim, rows, s.ffn_hidden.data(), pool, s.matmul);  // [rows, ffn_dim]
    pool.parallel_for(rows, [&](int64_t begin, int64_t end) {
      gelu_tanh_inplace(s.ffn_hidden.data() + begin * c.ffn_dim, (end - begin) * c.ffn_dim);
    });
    apply_linear(w.ffn_out, s.ffn_hidden.data(), rows, s.q.data() + t0 * c.dim, pool, s.matmul);  // [rows, dim]
  }
}

}  // namespace

void apply_linear(const DitLinear& l, const float* x, int64_t n_tokens, float* y, ThreadPool& pool,
                  MatmulScratch& scratch, MatmulPath path) {
  matmul(l.weight.view(), x, n_tokens, y, pool, scratch, path);
  const int64_t n_out = l.weight.n_out();
  pool.parallel_for(n_tokens, [&](int64_t begin, int64_t end) {
    add_bias_rows(y + begin * n_out, l.bias.data(), end - begin, n_out);
  });
}

void DitBlockScratch::reserve(const DitConfig& c, int64_t n_tokens) {
  const auto rows = static_cast<size_t>(n_tokens * c.dim);
  h.resize(rows);
  q.resize(rows);
  k.resize(rows);
  v.resize(rows);
  CHECK(ffn_chunk_tokens > 0, "DitBlockScratch: ffn_chunk_tokens must be positive");
  ffn_hidden.resize(static_cast<size_t>(std::min(n_tokens, ffn_chunk_tokens) * c.ffn_dim));
  ctx_k.resize(static_cast<size_t>(c.text_len * c.dim));
  ctx_v.resize(static_cast<size_t>(c.text_len * c.dim));
  mod.resize(static_cast<size_t>(6 * c.dim));
}

void modulated_layer_norm(const float* x, const float* shift, const float* scale, int64_t n_tokens, int64_t dim,
                          float eps, float* out, ThreadPool& pool) {
  pool.parallel_for(n_tokens, [&](int64_t begin, int64_t end) {
    layer_norm(x + begin * dim, nullptr, nullptr, end - begin, dim, eps, out + begin * dim);
    for (int64_t t = begin; t < end; ++t) {
      float* o = out + t * dim;
      for (int64_t d = 0; d < dim; ++d) o[d] = o[d] * (1.0f + scale[d]) + shift[d];  // torch's order
    }
  });
}

void run_dit_block(const DitBlockWeights& w, const DitConfig& c, int64_t layer_idx, const Rope3d& rope,
                   const DitGrid& grid, const float* e0, const float* context, float* x, DitBlockScratch& s,
                   ThreadPool& pool, const DitDebugHook* hook) {
  const int64_t n = grid.n_tokens();
  CHECK(s.h.size() >= static_cast<size_t>(n * c.dim), "run_dit_block: scratch not reserved for this grid");
  for (int64_t i = 0; i < 6 * c.dim; ++i) s.mod[static_cast<size_t>(i)] = w.modulation[static_cast<size_t>(i)] + e0[i];
  const auto mod_row = [&](ModRow r) { return s.mod.data() + r * c.dim; };  // [dim]

  modulated_layer_norm(x, mod_row(kShiftMsa), mod_row(kScaleMsa), n, c.dim, c.eps, s.h.data(), pool);
  self_attention(w.self_attn, c, layer_idx, rope, grid, s, pool, hook);
  report(hook, layer_idx, "self_attn", s.q.data(), n * c.dim);
  add_gated(x, s.q.data(), mod_row(kGateMsa), n, c.dim, pool);

  pool.parallel_for(n, [&](int64_t begin, int64_t end) {
    const float* weight = c.cross_attn_norm ? w.norm3_weight.data() : nullptr;
    const float* bias = c.cross_attn_norm ? w.norm3_bias.data() : nullptr;
    if (c.cross_attn_norm) {
      layer_norm(x + begin * c.dim, weight, bias, end - begin, c.dim, c.eps, s.h.data() + begin * c.dim);
    } else {
      std::copy(x + begin * c.dim, x + end * c.dim, s.h.data() + begin * c.dim);  // norm3 = Identity
    }
  });
  cross_attention(w.cross_attn, c, n, context, s, pool);
  report(hook, layer_idx, "cross_attn", s.q.data(), n * c.dim);
  add_gated(x, s.q.data(), nullptr, n, c.dim, pool);

  modulated_layer_norm(x, mod_row(kShiftMlp), mod_row(kScaleMlp), n, c.dim, c.eps, s.h.data(), pool);
  feed_forward(w, c, n, s, pool);
  report(hook, layer_idx, "ffn", s.q.data(), n * c.dim);
  add_gated(x, s.q.data(), mod_row(kGateMlp), n, c.dim, pool);
  report(hook, layer_idx, "out", x, n * c.dim);
}

}  // namespace frugal::video

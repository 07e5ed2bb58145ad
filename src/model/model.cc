#include "model/model.h"

#include <algorithm>
#include <cmath>

#include "model/architecture.h"
#include "ops/attention.h"
#include "ops/elementwise.h"

namespace frugal {
namespace {

void ensure_size(std::vector<float>& buffer, int64_t n) {
  if (static_cast<int64_t>(buffer.size()) < n) buffer.resize(static_cast<size_t>(n));
}

}  // namespace

Model::Model(GgufFile file, ModelConfig config, ModelWeights weights)
    : file_(std::move(file)), config_(std::move(config)), weights_(std::move(weights)), rope_(config_.rope) {}

Expected<std::unique_ptr<Model>> Model::load(const std::string& path) {
  auto file = GgufFile::open(path);
  if (!file) return file.error();
  return from_file(std::move(*file));
}

Expected<std::unique_ptr<Model>> Model::from_file(GgufFile file) {
  auto arch_name = file.get_string("general.architecture");
  if (!arch_name) return arch_name.error();
  auto arch = find_architecture(*arch_name);
  if (!arch) return arch.error();
  auto config = read_decoder_config(file, **arch);
  if (!config) return config.error();
  auto weights = bind_weights(file, *config);
  if (!weights) return weights.error();
  return std::unique_ptr<Model>(new Model(std::move(file), std::move(*config), std::move(*weights)));
}

Status Model::forward(const int32_t* tokens, int64_t n_tokens, int64_t pos0, KvCache& kv, ThreadPool& pool,
                      ForwardScratch& s, const ForwardOptions& options, std::vector<float>& logits) const {
  const ModelConfig& c = config_;
  if (n_tokens <= 0) return invalid_argument("forward: no tokens");
  if (pos0 < 0 || pos0 + n_tokens > kv.n_ctx()) {
    return resource_exhausted("forward: positions " + std::to_string(pos0) + ".." + std::to_string(pos0 + n_tokens - 1) +
                              " exceed the context size " + std::to_string(kv.n_ctx()));
  }
  for (int64_t t = 0; t < n_tokens; ++t) {
    if (tokens[t] < 0 || tokens[t] >= c.n_vocab) {
      return invalid_argument("forward: token id " + std::to_string(tokens[t]) + " is outside the vocabulary (0.." +
                              std::to_string(c.n_vocab - 1) + ")");
    }
  }
  ensure_size(s.x, n_tokens * c.n_embd);
  ensure_size(s.xn, n_tokens * c.n_embd);
  ensure_size(s.q, n_tokens * c.q_dim());
  ensure_size(s.k, n_tokens * c.kv_dim());
  ensure_size(s.v, n_tokens * c.kv_dim());
  ensure_size(s.attn, n_tokens * c.q_dim());
  ensure_size(s.proj, n_tokens * c.n_embd);
  ensure_size(s.gate, n_tokens * c.n_ff);
  ensure_size(s.up, n_tokens * c.n_ff);
  s.positions.resize(static_cast<size_t>(n_tokens));
  for (int64_t t = 0; t < n_tokens; ++t) s.positions[static_cast<size_t>(t)] = static_cast<int32_t>(pos0 + t);

  get_rows(weights_.token_embd, tokens, n_tokens, s.x.data());  // x: [n_tokens, n_embd]
  for (int64_t layer_idx = 0; layer_idx < c.n_layer; ++layer_idx) {
    run_layer(layer_idx, n_tokens, kv, pool, s, options.path);
  }

  // Only the rows that produce logits go through the final norm and the output matrix.
  const int64_t first_row = options.logits == LogitsMode::kAll ? 0 : n_tokens - 1;
  const int64_t n_rows = n_tokens - first_row;
  rms_norm(s.x.data() + first_row * c.n_embd, weights_.output_norm.data(), n_rows, c.n_embd, c.rms_eps, s.xn.data());
  logits.resize(static_cast<size_t>(n_rows * c.n_vocab));
  matmul(weights_.output, s.xn.data(), n_rows, logits.data(), pool, s.matmul, options.path);
  return Status::ok();
}

void Model::run_layer(int64_t layer_idx, int64_t n_tokens, KvCache& kv, ThreadPool& pool, ForwardScratch& s,
                      MatmulPath path) const {
  const ModelConfig& c = config_;
  const LayerWeights& l = weights_.layers[static_cast<size_t>(layer_idx)];
  const int32_t* positions = s.positions.data();

  // Attention block: x += Wo · attention(rope(Wq·n(x)), rope(Wk·n(x)), Wv·n(x))
  rms_norm(s.x.data(), l.attn_norm.data(), n_tokens, c.n_embd, c.rms_eps, s.xn.data());
  matmul(l.wq, s.xn.data(), n_tokens, s.q.data(), pool, s.matmul, path);  // q: [n_tokens, n_head, head_dim]
  matmul(l.wk, s.xn.data(), n_tokens, s.k.data(), pool, s.matmul, path);  // k: [n_tokens, n_head_kv, head_dim]
  matmul(l.wv, s.xn.data(), n_tokens, s.v.data(), pool, s.matmul, path);  // v: [n_tokens, n_head_kv, head_dim]
  if (c.qkv_bias) {
    add_bias_rows(s.q.data(), l.bq.data(), n_tokens, c.q_dim());
    add_bias_rows(s.k.data(), l.bk.data(), n_tokens, c.kv_dim());
    add_bias_rows(s.v.data(), l.bv.data(), n_tokens, c.kv_dim());
  }
  rope_.apply(s.q.data(), n_tokens, c.n_head, c.head_dim, positions);
  rope_.apply(s.k.data(), n_tokens, c.n_head_kv, c.head_dim, positions);
  for (int64_t t = 0; t < n_tokens; ++t) {
    std::copy_n(s.k.data() + t * c.kv_dim(), c.kv_dim(), kv.key_row(layer_idx, positions[t]));
    std::copy_n(s.v.data() + t * c.kv_dim(), c.kv_dim(), kv.value_row(layer_idx, positions[t]));
  }
  KvHistory history;
  history.keys = kv.layer_keys(layer_idx);
  history.values = kv.layer_values(layer_idx);
  history.row_stride = c.kv_dim();
  history.n_kv = positions[n_tokens - 1] + 1;
  AttentionShape shape;
  shape.n_head = c.n_head;
  shape.n_head_kv = c.n_head_kv;
  shape.head_dim = c.head_dim;
  shape.scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  attention(s.q.data(), positions, n_tokens, history, shape, s.attn.data(), pool);
  matmul(l.wo, s.attn.data(), n_tokens, s.proj.data(), pool, s.matmul, path);
  add_inplace(s.x.data(), s.proj.data(), n_tokens * c.n_embd);

  // Feed-forward block (SwiGLU): x += W_down · (silu(W_gate·n(x)) * W_up·n(x))
  rms_norm(s.x.data(), l.ffn_norm.data(), n_tokens, c.n_embd, c.rms_eps, s.xn.data());
  matmul(l.w_gate, s.xn.data(), n_tokens, s.gate.data(), pool, s.matmul, path);  // [n_tokens, n_ff]
  matmul(l.w_up, s.xn.data(), n_tokens, s.up.data(), pool, s.matmul, path);      // [n_tokens, n_ff]
  swiglu_inplace(s.gate.data(), s.up.data(), n_tokens * c.n_ff);
  matmul(l.w_down, s.gate.data(), n_tokens, s.proj.data(), pool, s.matmul, path);  // [n_tokens, n_embd]
  add_inplace(s.x.data(), s.proj.data(), n_tokens * c.n_embd);
}

}  // namespace frugal

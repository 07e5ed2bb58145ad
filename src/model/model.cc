#include "model/model.h"

#include <algorithm>
#include <cmath>

#include "model/architecture.h"
#include "model/matmul_observer.h"
#include "ops/attention.h"
#include "ops/elementwise.h"

namespace frugal {
namespace {

void ensure_size(std::vector<float>& buffer, int64_t n) {
  if (static_cast<int64_t>(buffer.size()) < n) buffer.resize(static_cast<size_t>(n));
}

// Shows the input of each of ws to the observer installed on this thread, if any.
void observe(std::initializer_list<const TensorView*> ws, const float* x, int64_t n_rows) {
  MatmulObserver* observer = current_matmul_observer();
  if (observer == nullptr) return;
  for (const TensorView* w : ws) observer->observe(*w, x, n_rows);
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
  pack_matrices(*weights, file);
  return std::unique_ptr<Model>(new Model(std::move(file), std::move(*config), std::move(*weights)));
}

Status Model::validate(const ForwardBatch& b, const KvStore& kv) const {
  const ModelConfig& c = config_;
  if (b.n_tokens <= 0) return invalid_argument("forward: no tokens");
  for (int64_t t = 0; t < b.n_tokens; ++t) {
    if (b.tokens[t] < 0 || b.tokens[t] >= c.n_vocab) {
      return invalid_argument("forward: token id " + std::to_string(b.tokens[t]) + " is outside the vocabulary (0.." +
                              std::to_string(c.n_vocab - 1) + ")");
    }
    if (b.slots[t] < 0 || b.slots[t] >= kv.n_rows()) {
      return resource_exhausted("forward: K/V row " + std::to_string(b.slots[t]) + " is outside the cache of " +
                                std::to_string(kv.n_rows()) + " rows");
    }
    if (b.seq_of_token[t] < 0 || b.seq_of_token[t] >= b.n_seqs || b.positions[t] < 0 ||
        b.positions[t] >= b.seqs[b.seq_of_token[t]].n_kv) {
      return invalid_argument("forward: token " + std::to_string(t) + " has no valid sequence/position");
    }
  }
  for (int64_t i = 0; i < b.n_logit_rows; ++i) {
    if (b.logit_rows[i] < 0 || b.logit_rows[i] >= b.n_tokens) return invalid_argument("forward: bad logit row");
  }
  return Status::ok();
}

Status Model::forward(const ForwardBatch& b, KvStore& kv, ThreadPool& pool, ForwardScratch& s, MatmulPath path,
                      std::vector<float>& logits) const {
  const ModelConfig& c = config_;
  Status valid = validate(b, kv);
  if (!valid.is_ok()) return valid;
  const int64_t n = b.n_tokens;
  ensure_size(s.x, n * c.n_embd);
  ensure_size(s.xn, n * c.n_embd);
  ensure_size(s.q, n * c.q_dim());
  ensure_size(s.k, n * c.kv_dim());
  ensure_size(s.v, n * c.kv_dim());
  ensure_size(s.attn, n * c.q_dim());
  ensure_size(s.proj, n * c.n_embd);
  ensure_size(s.gate, n * c.ffn_scratch_width());
  ensure_size(s.up, n * c.ffn_scratch_width());

  get_rows(weights_.token_embd, b.tokens, n, s.x.data());  // x: [n_tokens, n_embd]
  for (int64_t layer_idx = 0; layer_idx < c.n_layer; ++layer_idx) run_layer(layer_idx, b, kv, pool, s, path);

  // Only the rows that produce logits go through the final norm and the output matrix.
  for (int64_t i = 0; i < b.n_logit_rows; ++i) {
    rms_norm(s.x.data() + static_cast<int64_t>(b.logit_rows[i]) * c.n_embd, weights_.output_norm.data(), 1, c.n_embd,
             c.rms_eps, s.xn.data() + i * c.n_embd);
  }
  logits.resize(static_cast<size_t>(b.n_logit_rows * c.n_vocab));
  observe({&weights_.output}, s.xn.data(), b.n_logit_rows);
  matmul(weights_.output, s.xn.data(), b.n_logit_rows, logits.data(), pool, s.matmul, path);
  return Status::ok();
}

Status Model::forward_sequence(const int32_t* tokens, int64_t n_tokens, int64_t pos0, KvStore& kv, ThreadPool& pool,
                               ForwardScratch& s, const ForwardOptions& options, std::vector<float>& logits) const {
  if (n_tokens <= 0) return invalid_argument("forward: no tokens");
  if (pos0 < 0 || pos0 + n_tokens > kv.n_rows()) {
    return resource_exhausted("forward: positions " + std::to_string(pos0) + ".." + std::to_string(pos0 + n_tokens - 1) +
                              " exceed the context size " + std::to_string(kv.n_rows()));
  }
  const int64_t n_kv = pos0 + n_tokens;
  s.seq_slots.resize(static_cast<size_t>(n_kv));
  for (int64_t p = 0; p < n_kv; ++p) s.seq_slots[static_cast<size_t>(p)] = static_cast<int32_t>(p);
  s.seq_positions.assign(s.seq_slots.begin() + pos0, s.seq_slots.end());
  s.seq_of_token.assign(static_cast<size_t>(n_tokens), 0);
  const int64_t first_logit = options.logits == LogitsMode::kAll ? 0 : n_tokens - 1;
  s.logit_rows.clear();
  for (int64_t t = first_logit; t < n_tokens; ++t) s.logit_rows.push_back(static_cast<int32_t>(t));
  const AttentionSeq seq{s.seq_slots.data(), n_kv};
  ForwardBatch b;
  b.tokens = tokens;
  b.positions = s.seq_positions.data();
  b.slots = s.seq_positions.data();  // position p lives in row p
  b.seq_of_token = s.seq_of_token.data();
  b.n_tokens = n_tokens;
  b.seqs = &seq;
  b.n_seqs = 1;
  b.logit_rows = s.logit_rows.data();
  b.n_logit_rows = static_cast<int64_t>(s.logit_rows.size());
  return forward(b, kv, pool, s, options.path, logits);
}

void Model::run_layer(int64_t layer_idx, const ForwardBatch& b, KvStore& kv, ThreadPool& pool, ForwardScratch& s,
                      MatmulPath path) const {
  const ModelConfig& c = config_;
  const LayerWeights& l = weights_.layers[static_cast<size_t>(layer_idx)];
  const int64_t n_tokens = b.n_tokens;

  // Attention block: x += Wo · attention(rope(Wq·n(x)), rope(Wk·n(x)), Wv·n(x))
  rms_norm(s.x.data(), l.attn_norm.data(), n_tokens, c.n_embd, c.rms_eps, s.xn.data());
  // One quantization of n(x) and one parallel region for the three projections.
  const MatmulTarget qkv[] = {{&l.wq, s.q.data()},   // q: [n_tokens, n_head, head_dim]
                              {&l.wk, s.k.data()},   // k: [n_tokens, n_head_kv, head_dim]
                              {&l.wv, s.v.data()}};  // v: [n_tokens, n_head_kv, head_dim]
  observe({&l.wq, &l.wk, &l.wv}, s.xn.data(), n_tokens);
  matmul_multi(qkv, 3, s.xn.data(), n_tokens, pool, s.matmul, path);
  if (c.qkv_bias) {
    add_bias_rows(s.q.data(), l.bq.data(), n_tokens, c.q_dim());
    add_bias_rows(s.k.data(), l.bk.data(), n_tokens, c.kv_dim());
    add_bias_rows(s.v.data(), l.bv.data(), n_tokens, c.kv_dim());
  }
  if (c.qk_norm == QkNorm::kPerHead) {  // each head's values: [n_tokens * n_head, head_dim]
    rms_norm(s.q.data(), l.q_norm.data(), n_tokens * c.n_head, c.head_dim, c.rms_eps, s.q.data());
    rms_norm(s.k.data(), l.k_norm.data(), n_tokens * c.n_head_kv, c.head_dim, c.rms_eps, s.k.data());
  } else if (c.qk_norm == QkNorm::kFull) {  // the whole projection: [n_tokens, q_dim] / [n_tokens, kv_dim]
    rms_norm(s.q.data(), l.q_norm.data(), n_tokens, c.q_dim(), c.rms_eps, s.q.data());
    rms_norm(s.k.data(), l.k_norm.data(), n_tokens, c.kv_dim(), c.rms_eps, s.k.data());
  }
  rope_.apply(s.q.data(), n_tokens, c.n_head, c.head_dim, b.positions);
  rope_.apply(s.k.data(), n_tokens, c.n_head_kv, c.head_dim, b.positions);
  for (int64_t t = 0; t < n_tokens; ++t) {
    std::copy_n(s.k.data() + t * c.kv_dim(), c.kv_dim(), kv.key_row(layer_idx, b.slots[t]));
    std::copy_n(s.v.data() + t * c.kv_dim(), c.kv_dim(), kv.value_row(layer_idx, b.slots[t]));
  }
  const KvRows rows{kv.layer_keys(layer_idx), kv.layer_values(layer_idx), c.kv_dim()};
  AttentionShape shape;
  shape.n_head = c.n_head;
  shape.n_head_kv = c.n_head_kv;
  shape.head_dim = c.head_dim;
  shape.scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  attention(s.q.data(), b.positions, b.seq_of_token, n_tokens, rows, b.seqs, shape, s.attn.data(), pool);
  observe({&l.wo}, s.attn.data(), n_tokens);
  matmul(l.wo, s.attn.data(), n_tokens, s.proj.data(), pool, s.matmul, path);
  add_inplace(s.x.data(), s.proj.data(), n_tokens * c.n_embd);

  // Feed-forward block (SwiGLU): x += W_down · (silu(W_gate·n(x)) * W_up·n(x))
  rms_norm(s.x.data(), l.ffn_norm.data(), n_tokens, c.n_embd, c.rms_eps, s.xn.data());
  if (c.is_moe()) {  // x += sum over the chosen experts (and the shared one)
    moe_ffn(c, l, s.xn.data(), n_tokens, s.proj.data(), pool, s.moe, s.matmul, path);
    add_inplace(s.x.data(), s.proj.data(), n_tokens * c.n_embd);
    return;
  }
  const MatmulTarget gate_up[] = {{&l.w_gate, s.gate.data()},  // [n_tokens, n_ff]
                                  {&l.w_up, s.up.data()}};     // [n_tokens, n_ff]
  observe({&l.w_gate, &l.w_up}, s.xn.data(), n_tokens);
  matmul_multi(gate_up, 2, s.xn.data(), n_tokens, pool, s.matmul, path);
  swiglu_inplace(s.gate.data(), s.up.data(), n_tokens * c.n_ff);
  observe({&l.w_down}, s.gate.data(), n_tokens);
  matmul(l.w_down, s.gate.data(), n_tokens, s.proj.data(), pool, s.matmul, path);  // [n_tokens, n_embd]
  add_inplace(s.x.data(), s.proj.data(), n_tokens * c.n_embd);
}

}  // namespace frugal

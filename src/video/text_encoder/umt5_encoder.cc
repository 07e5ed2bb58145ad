#include "video/text_encoder/umt5_encoder.h"

#include <string>
#include <utility>

#include "ops/attention_bias.h"
#include "ops/elementwise.h"
#include "ops/matmul.h"
#include "video/text_encoder/relative_position.h"

namespace frugal::video {

// Activations of one forward pass over n rows.
struct UmT5Encoder::Workspace {
  Workspace(const UmT5Config& c, int64_t n)
      : x(static_cast<size_t>(n * c.dim)),
        h(static_cast<size_t>(n * c.dim)),
        q(static_cast<size_t>(n * c.dim_attn)),
        k(static_cast<size_t>(n * c.dim_attn)),
        v(static_cast<size_t>(n * c.dim_attn)),
        attn(static_cast<size_t>(n * c.dim_attn)),
        gate(static_cast<size_t>(n * c.dim_ffn)),
        up(static_cast<size_t>(n * c.dim_ffn)) {}
  std::vector<float> x;     // [n, dim] the residual stream
  std::vector<float> h;     // [n, dim] normed input / block output before the residual add
  std::vector<float> q;     // [n, num_heads, head_dim]
  std::vector<float> k;     // [n, num_heads, head_dim]
  std::vector<float> v;     // [n, num_heads, head_dim]
  std::vector<float> attn;  // [n, num_heads, head_dim]
  std::vector<float> gate;  // [n, dim_ffn]
  std::vector<float> up;    // [n, dim_ffn] fc1's output
  MatmulScratch scratch;
};

Expected<UmT5Encoder::Layer> UmT5Encoder::load_layer(const WeightStore& store, const UmT5Config& c, int64_t layer_idx,
                                                     WeightPrecision precision) {
  Layer layer;
  const auto name = [layer_idx](const char* suffix) { return umt5_block_tensor(layer_idx, suffix); };
  const std::pair<const char*, std::vector<float>*> vectors[] = {{"norm1.weight", &layer.norm1},
                                                                  {"norm2.weight", &layer.norm2}};
  for (const auto& [suffix, dst] : vectors) {
    auto values = store.load_f32(name(suffix), {c.dim});
    if (!values) return values.error();
    *dst = std::move(*values);
  }
  auto pos = store.load_f32(name("pos_embedding.embedding.weight"), {c.num_buckets, c.num_heads});
  if (!pos) return pos.error();
  layer.pos_bias = std::move(*pos);
  struct MatrixSpec {
    const char* suffix;
    std::vector<int64_t> shape;
    MatrixWeight* dst;
  };
  const MatrixSpec matrices[] = {
      {"attn.q.weight", {c.dim_attn, c.dim}, &layer.q},  {"attn.k.weight", {c.dim_attn, c.dim}, &layer.k},
      {"attn.v.weight", {c.dim_attn, c.dim}, &layer.v},  {"attn.o.weight", {c.dim, c.dim_attn}, &layer.o},
      {"ffn.gate.0.weight", {c.dim_ffn, c.dim}, &layer.gate}, {"ffn.fc1.weight", {c.dim_ffn, c.dim}, &layer.fc1},
      {"ffn.fc2.weight", {c.dim, c.dim_ffn}, &layer.fc2},
  };
  for (const MatrixSpec& m : matrices) {
    auto w = store.load_matrix(name(m.suffix), m.shape, precision);
    if (!w) return w.error();
    *m.dst = std::move(*w);
  }
  return layer;
}

Expected<UmT5Encoder> UmT5Encoder::load(const WeightStore& store, WeightPrecision precision) {
  auto config = infer_umt5_config(store);
  if (!config) return config.error();
  UmT5Encoder enc;
  enc.config_ = *config;
  enc.precision_ = precision;
  const UmT5Config& c = enc.config_;
  // Read in place from the mapped file: a prompt looks up a few of its 256K rows (2 GB in BF16).
  auto embedding =
      store.load_matrix("token_embedding.weight", {c.vocab, c.dim}, WeightPrecision::kStored, MatrixUse::kMappedRows);
  if (!embedding) return embedding.error();
  enc.token_embedding_ = std::move(*embedding);
  auto final_norm = store.load_f32("norm.weight", {c.dim});
  if (!final_norm) return final_norm.error();
  enc.final_norm_ = std::move(*final_norm);
  enc.layers_.reserve(static_cast<size_t>(c.num_layers));
  for (int64_t layer_idx = 0; layer_idx < c.num_layers; ++layer_idx) {
    auto layer = load_layer(store, c, layer_idx, precision);
    if (!layer) return layer.error();
    enc.layers_.push_back(std::move(*layer));
  }
  return enc;
}

Status UmT5Encoder::check_inputs(std::span<const int32_t> ids, std::span<const int32_t> mask) const {
  if (!mask.empty() && mask.size() != ids.size()) {
    return invalid_argument("umT5: " + std::to_string(ids.size()) + " token ids but a mask of " +
                            std::to_string(mask.size()));
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= config_.vocab) {
      return invalid_argument("umT5: token id " + std::to_string(ids[i]) + " at position " + std::to_string(i) +
                              " is outside the vocabulary of " + std::to_string(config_.vocab));
    }
  }
  for (size_t i = 0; i < mask.size(); ++i) {
    if (mask[i] != 0 && mask[i] != 1) {
      return invalid_argument("umT5: mask value " + std::to_string(mask[i]) + " at position " + std::to_string(i) +
                              " (expected 0 or 1)");
    }
  }
  return Status::ok();
}

void UmT5Encoder::attention_block(const Layer& layer, int64_t n, const int32_t* key_mask,
                                  const std::vector<int32_t>& buckets, Workspace& ws, ThreadPool& pool) const {
  const UmT5Config& c = config_;
  rms_norm(ws.x.data(), layer.norm1.data(), n, c.dim, c.norm_eps, ws.h.data());
  const MatmulTarget qkv[] = {{&layer.q.view(), ws.q.data()}, {&layer.k.view(), ws.k.data()},
                              {&layer.v.view(), ws.v.data()}};
  matmul_multi(qkv, 3, ws.h.data(), n, pool, ws.scratch);
  const BiasedAttentionShape shape{c.num_heads, c.head_dim(), 1.0f};  // T5: no 1/√head_dim
  const RelativeBias bias{layer.pos_bias.data(), c.num_buckets, buckets.data()};
  attention_rel_bias(ws.q.data(), n, ws.k.data(), ws.v.data(), n, shape, bias, key_mask, ws.attn.data(), pool);
  matmul(layer.o.view(), ws.attn.data(), n, ws.h.data(), pool, ws.scratch);  // [n, dim]
  add_inplace(ws.x.data(), ws.h.data(), n * c.dim);
}

void UmT5Encoder::ffn_block(const Layer& layer, int64_t n, Workspace& ws, ThreadPool& pool) const {
  const UmT5Config& c = config_;
  rms_norm(ws.x.data(), layer.norm2.data(), n, c.dim, c.norm_eps, ws.h.data());
  const MatmulTarget gate_up[] = {{&layer.gate.view(), ws.gate.data()}, {&layer.fc1.view(), ws.up.data()}};
  matmul_multi(gate_up, 2, ws.h.data(), n, pool, ws.scratch);
  const int64_t count = n * c.dim_ffn;
  gelu_tanh_inplace(ws.gate.data(), count);
  for (int64_t i = 0; i < count; ++i) ws.up[static_cast<size_t>(i)] *= ws.gate[static_cast<size_t>(i)];
  matmul(layer.fc2.view(), ws.up.data(), n, ws.h.data(), pool, ws.scratch);  // [n, dim]
  add_inplace(ws.x.data(), ws.h.data(), n * c.dim);
}

Expected<std::vector<float>> UmT5Encoder::forward(std::span<const int32_t> ids, std::span<const int32_t> mask,
                                                  ThreadPool& pool, const BlockObserver* observer) const {
  if (Status s = check_inputs(ids, mask); !s) return s;
  const UmT5Config& c = config_;
  const auto n = static_cast<int64_t>(ids.size());
  if (n == 0) return std::vector<float>{};
  Workspace ws(c, n);
  get_rows(token_embedding_.view(), ids.data(), n, ws.x.data());  // [n, dim], not scaled
  const std::vector<int32_t> buckets = t5_offset_buckets(n, n, c.num_buckets, c.max_distance, /*bidirectional=*/true);
  const int32_t* key_mask = mask.empty() ? nullptr : mask.data();
  for (int64_t layer_idx = 0; layer_idx < c.num_layers; ++layer_idx) {
    const Layer& layer = layers_[static_cast<size_t>(layer_idx)];
    attention_block(layer, n, key_mask, buckets, ws, pool);
    ffn_block(layer, n, ws, pool);
    if (observer != nullptr && *observer) (*observer)(layer_idx, ws.x.data(), n);
  }
  rms_norm(ws.x.data(), final_norm_.data(), n, c.dim, c.norm_eps, ws.x.data());
  return std::move(ws.x);
}

Expected<std::vector<float>> UmT5Encoder::encode(std::span<const int32_t> ids, std::span<const int32_t> mask,
                                                 ThreadPool& pool, const BlockObserver* observer) const {
  if (mask.size() != ids.size()) {
    return invalid_argument("umT5: " + std::to_string(ids.size()) + " token ids but a mask of " +
                            std::to_string(mask.size()));
  }
  if (Status s = check_inputs(ids, mask); !s) return s;
  int64_t num_valid = 0;  // L = Σ mask
  for (int32_t m : mask) num_valid += m;
  bool is_prefix = true;  // mask = L ones, then zeros (what the tokenizer produces)
  for (int64_t i = 0; i < num_valid; ++i) is_prefix = is_prefix && mask[static_cast<size_t>(i)] == 1;
  if (num_valid == 0) return std::vector<float>{};
  if (is_prefix) {
    // Only the L real positions: see the NOTE in the header for why this equals the padded run.
    return forward(ids.first(static_cast<size_t>(num_valid)), {}, pool, observer);
  }
  auto full = forward(ids, mask, pool, observer);  // [text_len, dim]
  if (!full) return full.error();
  full->resize(static_cast<size_t>(num_valid * config_.dim));  // the first L rows, as u[:v]
  return full;
}

}  // namespace frugal::video

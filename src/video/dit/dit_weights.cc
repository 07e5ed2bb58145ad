#include "video/dit/dit_weights.h"

#include <string>
#include <utility>

namespace frugal::video {
namespace {

Status load_linear(const WeightStore& store, const std::string& prefix, const std::vector<int64_t>& weight_shape,
                   WeightPrecision precision, DitLinear& out, MatrixUse use = MatrixUse::kMatmulTiles) {
  auto weight = store.load_matrix(prefix + ".weight", weight_shape, precision, use);
  if (!weight) return weight.error();
  auto bias = store.load_f32(prefix + ".bias", {weight_shape[0]});
  if (!bias) return bias.error();
  out.weight = std::move(*weight);
  out.bias = std::move(*bias);
  return Status::ok();
}

Status load_vector(const WeightStore& store, const std::string& name, const std::vector<int64_t>& shape,
                   std::vector<float>& out) {
  auto v = store.load_f32(name, shape);
  if (!v) return v.error();
  out = std::move(*v);
  return Status::ok();
}

Status load_attention(const WeightStore& store, const std::string& prefix, const DitConfig& c,
                      WeightPrecision precision, DitAttentionWeights& out) {
  const std::pair<const char*, DitLinear*> projections[] = {{"q", &out.q}, {"k", &out.k}, {"v", &out.v}, {"o", &out.o}};
  for (const auto& [name, linear] : projections) {
    if (Status s = load_linear(store, prefix + "." + name, {c.dim, c.dim}, precision, *linear); !s) return s;
  }
  if (!c.qk_norm) return Status::ok();
  if (Status s = load_vector(store, prefix + ".norm_q.weight", {c.dim}, out.norm_q); !s) return s;
  return load_vector(store, prefix + ".norm_k.weight", {c.dim}, out.norm_k);
}

Status load_block(const WeightStore& store, int64_t layer_idx, const DitConfig& c, WeightPrecision precision,
                  DitBlockWeights& out) {
  const std::string b = "blocks." + std::to_string(layer_idx);
  if (Status s = load_attention(store, b + ".self_attn", c, precision, out.self_attn); !s) return s;
  if (Status s = load_attention(store, b + ".cross_attn", c, precision, out.cross_attn); !s) return s;
  if (c.cross_attn_norm) {
    if (Status s = load_vector(store, b + ".norm3.weight", {c.dim}, out.norm3_weight); !s) return s;
    if (Status s = load_vector(store, b + ".norm3.bias", {c.dim}, out.norm3_bias); !s) return s;
  }
  if (Status s = load_linear(store, b + ".ffn.0", {c.ffn_dim, c.dim}, precision, out.ffn_in); !s) return s;
  if (Status s = load_linear(store, b + ".ffn.2", {c.dim, c.ffn_dim}, precision, out.ffn_out); !s) return s;
  return load_vector(store, b + ".modulation", {1, 6, c.dim}, out.modulation);
}

}  // namespace

// The DiT's matmul weights are loaded kMatmulTiles: a Q8_0 DiT runs on AMX-INT8 tiles where granted
// (re-quantized per row at load; docs/design/layering.md). A pass is never batched with other requests.
Expected<DitWeights> load_dit_weights(const WeightStore& store, const DitConfig& c, WeightPrecision precision) {
  if (Status s = check_dit_store(c, store); !s) return s;
  DitWeights w;
  const std::vector<int64_t> patch_shape = {c.dim, c.in_dim, c.patch_size[0], c.patch_size[1], c.patch_size[2]};
  if (Status s = load_linear(store, "patch_embedding", patch_shape, precision, w.patch_embedding); !s) return s;
  if (Status s = load_linear(store, "text_embedding.0", {c.dim, c.text_dim}, precision, w.text_in); !s) return s;
  if (Status s = load_linear(store, "text_embedding.2", {c.dim, c.dim}, precision, w.text_out); !s) return s;
  // The time path runs on the reference matmul (WanDit::embed_time): stored bytes, not packed.
  constexpr MatrixUse kRef = MatrixUse::kReference;
  if (Status s = load_linear(store, "time_embedding.0", {c.dim, c.freq_dim}, precision, w.time_in, kRef); !s) return s;
  if (Status s = load_linear(store, "time_embedding.2", {c.dim, c.dim}, precision, w.time_out, kRef); !s) return s;
  if (Status s = load_linear(store, "time_projection.1", {6 * c.dim, c.dim}, precision, w.time_projection, kRef); !s) {
    return s;
  }
  w.blocks.resize(static_cast<size_t>(c.num_layers));
  for (int64_t layer_idx = 0; layer_idx < c.num_layers; ++layer_idx) {
    if (Status s = load_block(store, layer_idx, c, precision, w.blocks[static_cast<size_t>(layer_idx)]); !s) return s;
  }
  if (Status s = load_linear(store, "head.head", {c.patch_volume() * c.out_dim, c.dim}, WeightPrecision::kF32, w.head);
      !s) {
    return s;
  }
  if (Status s = load_vector(store, "head.modulation", {1, 2, c.dim}, w.head_modulation); !s) return s;
  return w;
}

}  // namespace frugal::video

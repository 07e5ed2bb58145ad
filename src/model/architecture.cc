#include "model/architecture.h"

#include <cmath>

namespace frugal {
namespace {

const std::vector<const Architecture*>& registry() {
  static const std::vector<const Architecture*> kArchitectures = {
      &llama_architecture(),
      &qwen2_architecture(),
      &qwen2moe_architecture(),
      &qwen3moe_architecture(),
      &olmoe_architecture(),
  };
  return kArchitectures;
}

Expected<int64_t> read_positive(const GgufFile& file, const std::string& key, int64_t max_value) {
  auto value = file.get_uint(key);
  if (!value) return value.error();
  if (*value == 0 || *value > static_cast<uint64_t>(max_value)) {
    return invalid_argument("model: '" + key + "' = " + std::to_string(*value) + " is out of range (1.." +
                            std::to_string(max_value) + ")");
  }
  return static_cast<int64_t>(*value);
}

// Upper bounds that no real model reaches; they keep products of sizes far from int64 overflow.
constexpr int64_t kMaxDim = int64_t{1} << 20;
constexpr int64_t kMaxLayers = 4096;
constexpr int64_t kMaxContext = int64_t{1} << 24;

}  // namespace

Expected<const Architecture*> find_architecture(std::string_view name) {
  for (const Architecture* arch : registry()) {
    if (arch->name == name) return arch;
  }
  std::string known;
  for (const Architecture* arch : registry()) {
    if (!known.empty()) known += ", ";
    known += arch->name;
  }
  return unimplemented("model: unsupported architecture '" + std::string(name) + "' (supported: " + known + ")");
}

std::vector<std::string_view> architecture_names() {
  std::vector<std::string_view> names;
  for (const Architecture* arch : registry()) names.push_back(arch->name);
  return names;
}

Expected<ModelConfig> read_decoder_config(const GgufFile& file, const Architecture& arch) {
  const std::string p = std::string(arch.name) + ".";
  ModelConfig c;
  c.arch = std::string(arch.name);
  auto name = file.get_string_or("general.name", "");
  if (!name) return name.error();
  c.name = *name;

  auto n_ctx = read_positive(file, p + "context_length", kMaxContext);
  if (!n_ctx) return n_ctx.error();
  auto n_embd = read_positive(file, p + "embedding_length", kMaxDim);
  if (!n_embd) return n_embd.error();
  auto n_layer = read_positive(file, p + "block_count", kMaxLayers);
  if (!n_layer) return n_layer.error();
  auto n_ff = read_positive(file, p + "feed_forward_length", kMaxDim);
  if (!n_ff) return n_ff.error();
  auto n_head = read_positive(file, p + "attention.head_count", kMaxDim);
  if (!n_head) return n_head.error();
  c.n_ctx_train = *n_ctx;
  c.n_embd = *n_embd;
  c.n_layer = *n_layer;
  c.n_ff = *n_ff;
  c.n_head = *n_head;
  c.n_head_kv = c.n_head;
  if (file.has(p + "attention.head_count_kv")) {
    auto n_head_kv = read_positive(file, p + "attention.head_count_kv", kMaxDim);
    if (!n_head_kv) return n_head_kv.error();
    c.n_head_kv = *n_head_kv;
  }
  if (c.n_head % c.n_head_kv != 0) {
    return invalid_argument("model: attention.head_count (" + std::to_string(c.n_head) +
                            ") is not a multiple of attention.head_count_kv (" + std::to_string(c.n_head_kv) + ")");
  }
  c.head_dim = c.n_embd / c.n_head;
  if (file.has(p + "attention.key_length")) {
    auto key_length = read_positive(file, p + "attention.key_length", kMaxDim);
    if (!key_length) return key_length.error();
    c.head_dim = *key_length;
  }
  if (c.head_dim % 2 != 0) return invalid_argument("model: head dimension " + std::to_string(c.head_dim) + " is odd");

  auto eps = file.get_float_or(p + "attention.layer_norm_rms_epsilon", 1e-5);
  if (!eps) return eps.error();
  if (!(*eps > 0.0 && *eps < 1.0)) return invalid_argument("model: '" + p + "attention.layer_norm_rms_epsilon' out of range");
  c.rms_eps = static_cast<float>(*eps);

  c.rope.mode = arch.rope_mode;
  c.rope.n_rot = static_cast<int32_t>(c.head_dim);
  if (file.has(p + "rope.dimension_count")) {
    auto n_rot = read_positive(file, p + "rope.dimension_count", c.head_dim);
    if (!n_rot) return n_rot.error();
    if (*n_rot % 2 != 0) return invalid_argument("model: '" + p + "rope.dimension_count' is odd");
    c.rope.n_rot = static_cast<int32_t>(*n_rot);
  }
  auto base = file.get_float_or(p + "rope.freq_base", 10000.0);
  if (!base) return base.error();
  if (!(*base > 1.0) || !std::isfinite(*base)) return invalid_argument("model: '" + p + "rope.freq_base' out of range");
  c.rope.freq_base = static_cast<float>(*base);
  // Linear RoPE scaling ("rope.scaling.type" = linear): positions are multiplied by 1/factor.
  auto scaling_type = file.get_string_or(p + "rope.scaling.type", "none");
  if (!scaling_type) return scaling_type.error();
  if (*scaling_type == "linear") {
    auto factor = file.get_float_or(p + "rope.scaling.factor", 1.0);
    if (!factor) return factor.error();
    if (!(*factor >= 1.0)) return invalid_argument("model: '" + p + "rope.scaling.factor' must be >= 1");
    c.rope.freq_scale = static_cast<float>(1.0 / *factor);
  } else if (*scaling_type != "none" && *scaling_type != "llama3") {
    // llama3 scaling is carried by the rope_freqs tensor; yarn/longrope are not implemented.
    return unimplemented("model: rope scaling type '" + *scaling_type + "' is not supported");
  }
  c.qkv_bias = arch.qkv_bias;
  c.qk_norm = arch.qk_norm;
  Status moe = read_moe_config(file, arch, c);
  if (!moe.is_ok()) return moe;
  if (arch.read_extra != nullptr) {
    Status st = arch.read_extra(file, c);
    if (!st.is_ok()) return st;
  }
  return c;
}

}  // namespace frugal

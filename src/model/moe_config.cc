// Expert hyper-parameters of mixture-of-experts architectures (model layer), read as llama.cpp
// reads them: expert_count / expert_used_count under "<arch>.", the per-expert FFN width from
// expert_feed_forward_length (Qwen; else n_ff / n_expert_used) or feed_forward_length (Mixtral,
// OLMoE), and the shared expert's from expert_shared_feed_forward_length (else n_ff).
#include "model/architecture.h"

namespace frugal {
namespace {

constexpr uint64_t kMaxExperts = 512;  // llama.cpp's LLAMA_MAX_EXPERTS

Expected<int64_t> read_count(const GgufFile& file, const std::string& key, uint64_t max_value) {
  auto value = file.get_uint(key);
  if (!value) return value.error();
  if (*value == 0 || *value > max_value) {
    return invalid_argument("model: '" + key + "' = " + std::to_string(*value) + " is out of range (1.." +
                            std::to_string(max_value) + ")");
  }
  return static_cast<int64_t>(*value);
}

}  // namespace

Status read_moe_config(const GgufFile& file, const Architecture& arch, ModelConfig& c) {
  const std::string p = std::string(arch.name) + ".";
  const MoeTraits& t = arch.moe;
  uint64_t n_expert = 0;
  if (file.has(p + "expert_count")) {
    auto v = file.get_uint(p + "expert_count");
    if (!v) return v.error();
    n_expert = *v;
  }
  if (t.experts == ExpertFfn::kNone || (t.experts == ExpertFfn::kOptional && n_expert == 0)) return Status::ok();
  if (n_expert == 0) return invalid_argument("model: architecture '" + c.arch + "' needs '" + p + "expert_count' > 0");
  auto count = read_count(file, p + "expert_count", kMaxExperts);
  if (!count) return count.error();
  auto used = read_count(file, p + "expert_used_count", static_cast<uint64_t>(*count));
  if (!used) return used.error();
  c.n_expert = *count;
  c.n_expert_used = *used;
  c.expert_weights_norm = t.weights_norm;
  c.n_ff_exp = c.n_ff;
  if (t.ff_exp_key) {
    c.n_ff_exp = c.n_ff / c.n_expert_used;
    if (file.has(p + "expert_feed_forward_length")) {
      auto v = read_count(file, p + "expert_feed_forward_length", uint64_t{1} << 20);
      if (!v) return v.error();
      c.n_ff_exp = *v;
    }
    if (c.n_ff_exp <= 0) return invalid_argument("model: expert FFN width is 0 (feed_forward_length < expert_used_count)");
  }
  if (t.shared_expert) {
    c.n_ff_shexp = c.n_ff;
    if (file.has(p + "expert_shared_feed_forward_length")) {
      auto v = read_count(file, p + "expert_shared_feed_forward_length", uint64_t{1} << 20);
      if (!v) return v.error();
      c.n_ff_shexp = *v;
    }
  }
  return Status::ok();
}

}  // namespace frugal

// Architecture registry (model layer): one file per architecture under model/arch/ describes how a
// GGUF of that architecture maps onto the shared decoder. Adding an architecture = one new file +
// one line in architecture.cc's list; nothing else switches on the architecture name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"
#include "gguf/gguf_reader.h"
#include "model/config.h"

namespace frugal {

// How an architecture's FFN uses experts (GGUF keys <arch>.expert_count, .expert_used_count,
// .expert_feed_forward_length, .expert_shared_feed_forward_length; tensors ffn_gate_inp,
// ffn_{gate,up,down}_exps [n_embd|n_ff_exp, n_ff_exp|n_embd, n_expert], *_shexp).
enum class ExpertFfn {
  kNone,      // dense only
  kOptional,  // dense, or MoE when expert_count > 0 (llama: Mixtral)
  kRequired,  // MoE only (qwen2moe, qwen3moe, olmoe)
};

struct MoeTraits {
  ExpertFfn experts = ExpertFfn::kNone;
  bool weights_norm = false;     // top-k probabilities renormalised (Mixtral, Qwen3-MoE) or not (Qwen2-MoE, OLMoE)
  bool ff_exp_key = false;       // n_ff_exp from expert_feed_forward_length, else n_ff / n_expert_used (Qwen); false: n_ff
  bool shared_expert = false;    // a sigmoid-gated shared expert beside the routed ones (Qwen2-MoE)
};

struct Architecture {
  std::string_view name;      // general.architecture value
  std::string_view family;    // human-readable models covered
  RopeMode rope_mode = RopeMode::kNormal;
  bool qkv_bias = false;      // attn_{q,k,v}.bias tensors required
  QkNorm qk_norm = QkNorm::kNone;
  MoeTraits moe;
  // Architecture-specific metadata beyond the shared decoder keys (may be null).
  Status (*read_extra)(const GgufFile& file, ModelConfig& config) = nullptr;
};

// The architecture registered under `name`, or kUnimplemented naming it and listing the known ones.
Expected<const Architecture*> find_architecture(std::string_view name);
std::vector<std::string_view> architecture_names();

// Reads the shared decoder hyper-parameters under "<arch>." into a config (validated: positive
// sizes, n_head % n_head_kv == 0, head_dim even, ...). Errors name the key.
Expected<ModelConfig> read_decoder_config(const GgufFile& file, const Architecture& arch);

// Reads the expert hyper-parameters per arch.moe into config (model/moe_config.cc): expert_count
// (1..512), expert_used_count (1..expert_count), the expert and shared-expert widths.
Status read_moe_config(const GgufFile& file, const Architecture& arch, ModelConfig& config);

// Defined in model/arch/<name>.cc.
const Architecture& llama_architecture();
const Architecture& qwen2_architecture();
const Architecture& qwen2moe_architecture();
const Architecture& qwen3moe_architecture();
const Architecture& olmoe_architecture();

}  // namespace frugal

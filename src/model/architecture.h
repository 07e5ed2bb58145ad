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

struct Architecture {
  std::string_view name;      // general.architecture value
  std::string_view family;    // human-readable models covered
  RopeMode rope_mode = RopeMode::kNormal;
  bool qkv_bias = false;      // attn_{q,k,v}.bias tensors required
  // Architecture-specific metadata beyond the shared decoder keys (may be null).
  Status (*read_extra)(const GgufFile& file, ModelConfig& config) = nullptr;
};

// The architecture registered under `name`, or kUnimplemented naming it and listing the known ones.
Expected<const Architecture*> find_architecture(std::string_view name);
std::vector<std::string_view> architecture_names();

// Reads the shared decoder hyper-parameters under "<arch>." into a config (validated: positive
// sizes, n_head % n_head_kv == 0, head_dim even, ...). Errors name the key.
Expected<ModelConfig> read_decoder_config(const GgufFile& file, const Architecture& arch);

// Defined in model/arch/<name>.cc.
const Architecture& llama_architecture();
const Architecture& qwen2_architecture();

}  // namespace frugal

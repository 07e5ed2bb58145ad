#include "cost/llm_shape.h"

#include "gguf/gguf_reader.h"
#include "model/presets.h"
#include "model/quant_recipe.h"

#include <cctype>

namespace frugal {
namespace {

int64_t attention_params_per_layer(const LlmShape& s) {
  return s.n_embd * s.q_dim() * 2 + s.n_embd * s.kv_dim() * 2;  // wq, wo; wk, wv
}

int64_t ffn_params_per_expert(const LlmShape& s) { return 3 * s.n_embd * s.n_ff; }  // gate, up, down

LlmShape from_preset(const ModelShape& p) {
  LlmShape s;
  s.name = p.preset;
  s.description = p.description;
  s.n_layer = p.n_layer;
  s.n_embd = p.n_embd;
  s.n_head = p.n_head;
  s.n_head_kv = p.n_head_kv;
  s.n_ff = p.n_expert > 0 && p.n_ff_exp > 0 ? p.n_ff_exp : p.n_ff;  // per expert for MoE
  s.n_vocab = p.n_vocab;
  s.tied_output = p.tied_output;
  s.n_expert = p.n_expert;
  s.n_expert_used = p.n_expert_used;
  return s;
}

LlmShape dense(std::string name, std::string description, int64_t n_layer, int64_t n_embd, int64_t n_head,
               int64_t n_head_kv, int64_t n_ff, int64_t n_vocab) {
  LlmShape s;
  s.name = std::move(name);
  s.description = std::move(description);
  s.n_layer = n_layer;
  s.n_embd = n_embd;
  s.n_head = n_head;
  s.n_head_kv = n_head_kv;
  s.n_ff = n_ff;
  s.n_vocab = n_vocab;
  return s;
}

Expected<int64_t> arch_int(const GgufFile& f, const std::string& arch, const char* key, int64_t fallback) {
  const std::string full = arch + "." + key;
  if (!f.has(full)) {
    if (fallback >= 0) return fallback;
    return not_found(f.path() + ": missing metadata key '" + full + "'");
  }
  auto v = f.get_uint(full);
  if (!v) return v.error();
  return static_cast<int64_t>(*v);
}

// general.file_type as the planner's weight-type spelling ("q8_0"), or "" when absent or unknown.
std::string file_weight_type_name(const GgufFile& f) {
  constexpr FileType kAll[] = {FileType::kF32,  FileType::kF16,    FileType::kBF16,   FileType::kQ8_0, FileType::kQ4_0,
                               FileType::kQ5_0, FileType::kQ4_K_M, FileType::kQ5_K_M, FileType::kQ6_K};
  auto id = f.get_uint("general.file_type");
  if (!id) return "";
  for (FileType t : kAll) {
    if (file_type_gguf_id(t) != *id) continue;
    std::string name(file_type_name(t));
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return name;
  }
  return "";
}

}  // namespace

int64_t LlmShape::embedding_params() const { return n_vocab * n_embd; }

int64_t LlmShape::expert_params() const {
  if (file_total_params > 0) return file_expert_params;
  return is_moe() ? n_layer * n_expert * ffn_params_per_expert(*this) : 0;
}

int64_t LlmShape::total_params() const {
  if (file_total_params > 0) return file_total_params;
  const int64_t ffn = is_moe() ? n_expert * ffn_params_per_expert(*this) + n_embd * n_expert  // + router
                               : ffn_params_per_expert(*this);
  const int64_t per_layer = attention_params_per_layer(*this) + ffn + 2 * n_embd;  // + 2 norms
  return n_layer * per_layer + embedding_params() * (tied_output ? 1 : 2) + n_embd;
}

int64_t LlmShape::active_matmul_params() const {
  // With tied output the embedding matrix is also the output projection: it stays in.
  const int64_t matmul = total_params() - (tied_output ? 0 : embedding_params());
  if (!is_moe()) return matmul;
  const double unused = static_cast<double>(expert_params()) * (1.0 - static_cast<double>(n_expert_used) / n_expert);
  return matmul - static_cast<int64_t>(unused);
}

double LlmShape::kv_bytes_per_token(double kv_bytes_per_element) const {
  return 2.0 * static_cast<double>(n_layer) * static_cast<double>(kv_dim()) * kv_bytes_per_element;
}

const std::vector<LlmShape>& llm_shapes() {
  static const std::vector<LlmShape> kShapes = [] {
    // Values from each model's config.json on its Hugging Face model card.
    std::vector<LlmShape> v = {
        dense("llama-3-8b", "Llama-3.1-8B", 32, 4096, 32, 8, 14336, 128256),
        dense("llama-3-70b", "Llama-3.1-70B / Llama-3.3-70B", 80, 8192, 64, 8, 28672, 128256),
        dense("llama-3-405b", "Llama-3.1-405B", 126, 16384, 128, 8, 53248, 128256),
        dense("qwen2.5-7b", "Qwen2.5-7B", 28, 3584, 28, 4, 18944, 152064),
        dense("qwen2.5-72b", "Qwen2.5-72B", 80, 8192, 64, 8, 29568, 152064),
        dense("mistral-7b", "Mistral-7B-v0.1", 32, 4096, 32, 8, 14336, 32000),
    };
    LlmShape mixtral = dense("mixtral-8x7b", "Mixtral-8x7B (MoE: 2 of 8 experts per token)", 32, 4096, 32, 8,
                             14336, 32000);
    mixtral.n_expert = 8;
    mixtral.n_expert_used = 2;
    v.push_back(mixtral);
    for (const ModelShape& p : model_presets()) v.push_back(from_preset(p));
    return v;
  }();
  return kShapes;
}

std::optional<LlmShape> find_llm_shape(std::string_view name) {
  for (const LlmShape& s : llm_shapes()) {
    if (s.name == name) return s;
  }
  return std::nullopt;
}

std::string llm_shape_names() {
  std::string out;
  for (const LlmShape& s : llm_shapes()) out += (out.empty() ? "" : ", ") + s.name;
  return out;
}

Expected<LlmShape> llm_shape_from_gguf(const std::string& path) {
  auto file = GgufFile::open(path);
  if (!file) return file.error();
  auto arch = file->get_string("general.architecture");
  if (!arch) return arch.error();
  LlmShape s;
  s.name = path;
  s.description = file->get_string_or("general.name", *arch).has_value()
                      ? *file->get_string_or("general.name", *arch) : *arch;
  struct Key { const char* key; int64_t* out; int64_t fallback; };
  for (const Key& k : {Key{"block_count", &s.n_layer, -1}, Key{"embedding_length", &s.n_embd, -1},
                       Key{"attention.head_count", &s.n_head, -1}, Key{"feed_forward_length", &s.n_ff, -1},
                       Key{"expert_count", &s.n_expert, 0}, Key{"expert_used_count", &s.n_expert_used, 0}}) {
    auto v = arch_int(*file, *arch, k.key, k.fallback);
    if (!v) return v.error();
    *k.out = *v;
  }
  auto kv = arch_int(*file, *arch, "attention.head_count_kv", s.n_head);
  if (!kv) return kv.error();
  s.n_head_kv = *kv;
  if (s.n_head <= 0 || s.n_embd <= 0 || s.n_layer <= 0) return invalid_argument(path + ": shape has zero sizes");
  auto key_length = arch_int(*file, *arch, "attention.key_length", s.n_embd / s.n_head);
  if (!key_length) return key_length.error();
  s.head_dim = *key_length;
  double bytes = 0;
  for (const GgufTensorInfo& t : file->tensors()) {
    s.file_total_params += t.num_elements();
    bytes += static_cast<double>(t.size_bytes);
    if (t.name.find("_exps") != std::string::npos) s.file_expert_params += t.num_elements();
    if (t.name == "token_embd.weight") {
      s.n_vocab = t.ne[1];
      s.file_embedding_bytes = static_cast<double>(t.size_bytes);
    }
  }
  s.file_tensor_bytes = bytes;
  s.file_weight_type = file_weight_type_name(*file);
  s.tied_output = file->find_tensor("output.weight") == nullptr;
  if (s.file_total_params <= 0) return invalid_argument(path + ": no tensors");
  s.file_bytes_per_weight = bytes / static_cast<double>(s.file_total_params);
  return s;
}

Expected<LlmShape> resolve_llm_shape(const std::string& spec) {
  if (spec.size() > 5 && spec.compare(spec.size() - 5, 5, ".gguf") == 0) return llm_shape_from_gguf(spec);
  if (auto s = find_llm_shape(spec)) return *s;
  return not_found("unknown model '" + spec + "' (a GGUF file path or one of: " + llm_shape_names() + ")");
}

}  // namespace frugal

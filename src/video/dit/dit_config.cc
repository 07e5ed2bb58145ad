#include "video/dit/dit_config.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

namespace frugal::video {
namespace {

using Json = nlohmann::json;

// Reads an integer key into `out`; absent keys keep the default unless `required`.
Status read_int(const Json& j, const char* key, bool required, int64_t& out) {
  const auto it = j.find(key);
  if (it == j.end()) {
    if (required) return invalid_argument(std::string("DiT config.json: missing required key \"") + key + "\"");
    return Status::ok();
  }
  if (!it->is_number_integer()) {
    return invalid_argument(std::string("DiT config.json: \"") + key + "\" must be an integer, got " + it->dump());
  }
  out = it->get<int64_t>();
  return Status::ok();
}

Status read_bool(const Json& j, const char* key, bool& out) {
  const auto it = j.find(key);
  if (it == j.end()) return Status::ok();
  if (!it->is_boolean()) {
    return invalid_argument(std::string("DiT config.json: \"") + key + "\" must be true or false, got " + it->dump());
  }
  out = it->get<bool>();
  return Status::ok();
}

// Reads a JSON array of `n` integers.
Status read_int_array(const Json& j, const char* key, size_t n, std::vector<int64_t>& out) {
  const auto it = j.find(key);
  if (it == j.end()) return Status::ok();
  bool ok = it->is_array() && it->size() == n;
  for (size_t i = 0; ok && i < n; ++i) ok = (*it)[i].is_number_integer();
  if (!ok) {
    return invalid_argument(std::string("DiT config.json: \"") + key + "\" must be an array of " + std::to_string(n) +
                            " integers, got " + it->dump());
  }
  out.clear();
  for (size_t i = 0; i < n; ++i) out.push_back((*it)[i].get<int64_t>());
  return Status::ok();
}

Status read_fields(const Json& j, DitConfig& c) {
  if (const auto it = j.find("_class_name"); it != j.end() && (!it->is_string() || it->get<std::string>() != "WanModel")) {
    return invalid_argument("DiT config.json: _class_name is " + it->dump() + ", expected \"WanModel\"");
  }
  if (const auto it = j.find("model_type"); it != j.end()) {
    if (!it->is_string()) return invalid_argument("DiT config.json: \"model_type\" must be a string, got " + it->dump());
    c.model_type = it->get<std::string>();
  }
  struct IntKey {
    const char* key;
    bool required;
    int64_t* out;
  };
  const IntKey int_keys[] = {
      {"dim", true, &c.dim},           {"ffn_dim", true, &c.ffn_dim},     {"num_heads", true, &c.num_heads},
      {"num_layers", true, &c.num_layers}, {"freq_dim", false, &c.freq_dim}, {"text_dim", false, &c.text_dim},
      {"text_len", false, &c.text_len}, {"in_dim", false, &c.in_dim},     {"out_dim", false, &c.out_dim},
  };
  for (const IntKey& k : int_keys) {
    if (Status s = read_int(j, k.key, k.required, *k.out); !s) return s;
  }
  if (Status s = read_bool(j, "qk_norm", c.qk_norm); !s) return s;
  if (Status s = read_bool(j, "cross_attn_norm", c.cross_attn_norm); !s) return s;
  if (const auto it = j.find("eps"); it != j.end()) {
    if (!it->is_number() || !(it->get<double>() > 0.0)) {
      return invalid_argument("DiT config.json: \"eps\" must be a positive number, got " + it->dump());
    }
    c.eps = static_cast<float>(it->get<double>());
  }
  std::vector<int64_t> patch(c.patch_size.begin(), c.patch_size.end());
  if (Status s = read_int_array(j, "patch_size", 3, patch); !s) return s;
  std::copy(patch.begin(), patch.end(), c.patch_size.begin());
  std::vector<int64_t> window = {-1, -1};
  if (Status s = read_int_array(j, "window_size", 2, window); !s) return s;
  if (window[0] != -1 || window[1] != -1) {
    return unimplemented("DiT config.json: window_size " + Json(window).dump() +
                         " (local attention) is not supported; only [-1, -1] (global)");
  }
  return Status::ok();
}

// Parses metadata value `key` as an integer; false when absent or not an integer.
bool metadata_int(const WeightStore& store, const std::string& key, int64_t& out) {
  const auto it = store.metadata().find(key);
  if (it == store.metadata().end()) return false;
  const Json j = Json::parse(it->second, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_number_integer()) return false;
  out = j.get<int64_t>();
  return true;
}

// The number of blocks: blocks.0 .. blocks.N-1 must all be present.
Expected<int64_t> count_blocks(const WeightStore& store) {
  int64_t max_idx = -1;
  std::vector<bool> seen;
  for (const std::string& name : store.names()) {
    if (name.rfind("blocks.", 0) != 0) continue;
    const size_t dot = name.find('.', 7);
    const std::string idx_text = name.substr(7, dot == std::string::npos ? std::string::npos : dot - 7);
    if (idx_text.empty() || !std::all_of(idx_text.begin(), idx_text.end(), [](unsigned char ch) { return std::isdigit(ch) != 0; }) || idx_text.size() > 6) continue;
    const int64_t idx = std::stoll(idx_text);
    if (idx >= static_cast<int64_t>(seen.size())) seen.resize(static_cast<size_t>(idx + 1), false);
    seen[static_cast<size_t>(idx)] = true;
    max_idx = std::max(max_idx, idx);
  }
  if (max_idx < 0) return not_found("DiT weights: no \"blocks.N.*\" tensors (is this a WanModel file?)");
  for (int64_t i = 0; i <= max_idx; ++i) {
    if (!seen[static_cast<size_t>(i)]) {
      return not_found("DiT weights: block " + std::to_string(i) + " is missing but block " +
                       std::to_string(max_idx) + " exists");
    }
  }
  return max_idx + 1;
}

// The shape of `name` with `rank` dimensions, or a Status naming it.
Expected<std::vector<int64_t>> shape_of(const WeightStore& store, const std::string& name, size_t rank) {
  auto shape = store.shape(name);
  if (!shape) return not_found("DiT weights: tensor \"" + name + "\" is missing; cannot infer the config");
  if (shape->size() != rank) {
    return invalid_argument("DiT weights: tensor \"" + name + "\" has shape " + shape_string(*shape) + ", expected " +
                            std::to_string(rank) + " dimensions");
  }
  return shape;
}

void add_linear(std::vector<DitTensorSpec>& specs, const std::string& prefix, int64_t n_out, int64_t n_in) {
  specs.push_back({prefix + ".weight", {n_out, n_in}});
  specs.push_back({prefix + ".bias", {n_out}});
}

void add_attention(std::vector<DitTensorSpec>& specs, const std::string& prefix, const DitConfig& c) {
  for (const char* proj : {"q", "k", "v", "o"}) add_linear(specs, prefix + "." + proj, c.dim, c.dim);
  if (c.qk_norm) {
    specs.push_back({prefix + ".norm_q.weight", {c.dim}});
    specs.push_back({prefix + ".norm_k.weight", {c.dim}});
  }
}

}  // namespace

std::string dit_config_summary(const DitConfig& c) {
  std::ostringstream s;
  s << "model_type " << c.model_type << ", dim " << c.dim << ", ffn_dim " << c.ffn_dim << ", heads " << c.num_heads
    << ", layers " << c.num_layers << ", freq_dim " << c.freq_dim << ", text_dim " << c.text_dim << ", text_len "
    << c.text_len << ", in_dim " << c.in_dim << ", out_dim " << c.out_dim << ", patch (" << c.patch_size[0] << ","
    << c.patch_size[1] << "," << c.patch_size[2] << ")";
  return s.str();
}

Status validate_dit_config(const DitConfig& c) {
  if (c.model_type != "t2v") {
    return unimplemented("DiT model_type \"" + c.model_type + "\" is not supported; only \"t2v\" (text-to-video)");
  }
  const std::pair<const char*, int64_t> sizes[] = {
      {"dim", c.dim},           {"ffn_dim", c.ffn_dim},       {"freq_dim", c.freq_dim},
      {"text_dim", c.text_dim}, {"text_len", c.text_len},     {"in_dim", c.in_dim},
      {"out_dim", c.out_dim},   {"num_heads", c.num_heads},   {"num_layers", c.num_layers},
      {"patch_size[0]", c.patch_size[0]}, {"patch_size[1]", c.patch_size[1]}, {"patch_size[2]", c.patch_size[2]},
  };
  for (const auto& [key, value] : sizes) {
    if (value <= 0) return invalid_argument(std::string("DiT config: ") + key + " must be positive, got " + std::to_string(value));
  }
  if (c.freq_dim % 2 != 0) return invalid_argument("DiT config: freq_dim must be even (cos/sin halves), got " + std::to_string(c.freq_dim));
  if (c.dim % c.num_heads != 0) {
    return invalid_argument("DiT config: dim " + std::to_string(c.dim) + " is not a multiple of num_heads " +
                            std::to_string(c.num_heads));
  }
  if (c.head_dim() % 2 != 0) {
    return invalid_argument("DiT config: head_dim " + std::to_string(c.head_dim()) + " must be even (RoPE pairs)");
  }
  if (!(c.eps > 0.0f) || !std::isfinite(c.eps)) return invalid_argument("DiT config: eps must be positive");
  return Status::ok();
}

Expected<DitConfig> parse_dit_config_json(std::string_view json_text) {
  const Json j = Json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return invalid_argument("DiT config.json: not valid JSON");
  if (!j.is_object()) return invalid_argument("DiT config.json: the top level must be an object");
  DitConfig c;
  if (Status s = read_fields(j, c); !s) return s;
  if (Status s = validate_dit_config(c); !s) return s;
  return c;
}

Expected<DitConfig> load_dit_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("DiT config file not found: " + path);
  std::ostringstream text;
  text << in.rdbuf();
  auto c = parse_dit_config_json(text.str());
  if (!c) return Status(c.error().code(), c.error().message() + " (" + path + ")");
  return c;
}

Expected<DitConfig> infer_dit_config(const WeightStore& store) {
  if (store.contains("img_emb.proj.0.weight") || store.contains("img_emb.proj.1.weight")) {
    return unimplemented("DiT weights: img_emb.* present: an image-to-video model; only t2v is supported");
  }
  DitConfig c;
  auto patch = shape_of(store, "patch_embedding.weight", 5);  // [dim, in_dim, pt, ph, pw]
  if (!patch) return patch.error();
  c.dim = (*patch)[0];
  c.in_dim = (*patch)[1];
  c.patch_size = {(*patch)[2], (*patch)[3], (*patch)[4]};
  auto layers = count_blocks(store);
  if (!layers) return layers.error();
  c.num_layers = *layers;
  auto ffn = shape_of(store, "blocks.0.ffn.0.weight", 2);  // [ffn_dim, dim]
  if (!ffn) return ffn.error();
  c.ffn_dim = (*ffn)[0];
  auto time = shape_of(store, "time_embedding.0.weight", 2);  // [dim, freq_dim]
  if (!time) return time.error();
  c.freq_dim = (*time)[1];
  auto text = shape_of(store, "text_embedding.0.weight", 2);  // [dim, text_dim]
  if (!text) return text.error();
  c.text_dim = (*text)[1];
  auto head = shape_of(store, "head.head.weight", 2);  // [prod(patch) * out_dim, dim]
  if (!head) return head.error();
  if (c.patch_volume() <= 0 || (*head)[0] % c.patch_volume() != 0) {
    return invalid_argument("DiT weights: head.head.weight rows " + std::to_string((*head)[0]) +
                            " are not a multiple of the patch volume " + std::to_string(c.patch_volume()));
  }
  c.out_dim = (*head)[0] / c.patch_volume();
  c.qk_norm = store.contains("blocks.0.self_attn.norm_q.weight");
  c.cross_attn_norm = store.contains("blocks.0.norm3.weight");
  if (!metadata_int(store, "num_heads", c.num_heads)) {
    if (c.dim % kWanHeadDim != 0) {
      return invalid_argument("DiT weights: dim " + std::to_string(c.dim) + " is not a multiple of " +
                              std::to_string(kWanHeadDim) + " and the file has no num_heads metadata; give a config.json");
    }
    c.num_heads = c.dim / kWanHeadDim;
  }
  if (!metadata_int(store, "text_len", c.text_len)) c.text_len = kWanDefaultTextLen;
  if (const auto it = store.metadata().find("eps"); it != store.metadata().end()) {
    const Json j = Json::parse(it->second, nullptr, false);
    if (!j.is_discarded() && j.is_number() && j.get<double>() > 0.0) c.eps = static_cast<float>(j.get<double>());
  }
  if (Status s = validate_dit_config(c); !s) return s;
  return c;
}

Expected<DitConfig> dit_config_preset(std::string_view name) {
  DitConfig c;
  c.freq_dim = 256;
  c.text_dim = 4096;
  c.text_len = kWanDefaultTextLen;
  if (name == "wan2.1-1.3b") {
    c.dim = 1536;
    c.ffn_dim = 8960;
    c.num_heads = 12;
    c.num_layers = 30;
    return c;
  }
  if (name == "wan2.1-14b") {
    c.dim = 5120;
    c.ffn_dim = 13824;
    c.num_heads = 40;
    c.num_layers = 40;
    return c;
  }
  std::string known;
  for (const std::string& n : dit_config_preset_names()) known += (known.empty() ? "" : ", ") + n;
  return not_found("unknown DiT preset \"" + std::string(name) + "\"; known: " + known);
}

std::vector<std::string> dit_config_preset_names() { return {"wan2.1-1.3b", "wan2.1-14b"}; }

std::vector<DitTensorSpec> dit_tensor_specs(const DitConfig& c) {
  std::vector<DitTensorSpec> specs;
  specs.push_back({"patch_embedding.weight", {c.dim, c.in_dim, c.patch_size[0], c.patch_size[1], c.patch_size[2]}});
  specs.push_back({"patch_embedding.bias", {c.dim}});
  add_linear(specs, "text_embedding.0", c.dim, c.text_dim);
  add_linear(specs, "text_embedding.2", c.dim, c.dim);
  add_linear(specs, "time_embedding.0", c.dim, c.freq_dim);
  add_linear(specs, "time_embedding.2", c.dim, c.dim);
  add_linear(specs, "time_projection.1", 6 * c.dim, c.dim);
  for (int64_t layer_idx = 0; layer_idx < c.num_layers; ++layer_idx) {
    const std::string b = "blocks." + std::to_string(layer_idx);
    add_attention(specs, b + ".self_attn", c);
    if (c.cross_attn_norm) {
      specs.push_back({b + ".norm3.weight", {c.dim}});
      specs.push_back({b + ".norm3.bias", {c.dim}});
    }
    add_attention(specs, b + ".cross_attn", c);
    add_linear(specs, b + ".ffn.0", c.ffn_dim, c.dim);
    add_linear(specs, b + ".ffn.2", c.dim, c.ffn_dim);
    specs.push_back({b + ".modulation", {1, 6, c.dim}});
  }
  add_linear(specs, "head.head", c.patch_volume() * c.out_dim, c.dim);
  specs.push_back({"head.modulation", {1, 2, c.dim}});
  return specs;
}

Status check_dit_store(const DitConfig& config, const WeightStore& store) {
  if (Status s = validate_dit_config(config); !s) return s;
  for (const DitTensorSpec& spec : dit_tensor_specs(config)) {
    auto shape = store.shape(spec.name);
    if (!shape) {
      return not_found("DiT tensor \"" + spec.name + "\" is missing from the weights (config: " +
                       dit_config_summary(config) + ")");
    }
    if (*shape != spec.shape) {
      return invalid_argument("DiT tensor \"" + spec.name + "\" has shape " + shape_string(*shape) + ", the config (" +
                              dit_config_summary(config) + ") needs " + shape_string(spec.shape));
    }
  }
  const std::string extra = "blocks." + std::to_string(config.num_layers) + ".modulation";
  if (store.contains(extra)) {
    return invalid_argument("DiT weights have more blocks than the config's num_layers " +
                            std::to_string(config.num_layers) + " (found \"" + extra + "\")");
  }
  return Status::ok();
}

}  // namespace frugal::video

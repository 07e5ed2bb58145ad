// `frugal inspect` on the video half's files (see inspect_video.h).
#include "inspect_video.h"

#include <cstdio>
#include <filesystem>
#include <map>

#include "cli_common.h"
#include "video/dit/dit_config.h"
#include "video/pipeline/model_files.h"
#include "video/text_encoder/umt5_config.h"
#include "video/vae/vae_config.h"
#include "video/weights/weight_store.h"

namespace frugal::cli {
namespace {

// A tensor name with its layer index replaced by N ("blocks.N.ffn.0.weight"), so that without --all
// only the first layer of each repeated block is listed.
bool is_repeated_layer(const std::string& name) {
  for (const char* prefix : {"blocks.", "encoder.downsamples.", "decoder.upsamples."}) {
    const std::string p(prefix);
    if (name.rfind(p, 0) == 0 && name.size() > p.size() && name.compare(p.size(), 2, "0.") != 0) return true;
  }
  return false;
}

// What the engine reads the component as: its sizes, from config.json or from the tensor shapes.
void print_component_config(const WeightStore& store, const std::string& config_json) {
  if (store.contains("patch_embedding.weight")) {
    auto c = config_json.empty() ? video::infer_dit_config(store) : video::load_dit_config_file(config_json);
    if (c) {
      std::printf("  DiT: %s (%s)\n", video::dit_config_summary(*c).c_str(),
                  config_json.empty() ? "inferred from the tensor shapes" : "config.json");
    } else {
      std::printf("  DiT config: %s\n", c.error().to_string().c_str());
    }
  } else if (store.contains("decoder.conv1.weight")) {
    auto c = video::vae::infer_vae_config(store);
    std::printf("  VAE: %s\n", c ? c->to_string().c_str() : c.error().to_string().c_str());
  } else if (store.contains("token_embedding.weight")) {
    auto c = video::infer_umt5_config(store);
    if (c) {
      std::printf("  umT5 encoder: vocab %lld, dim %lld, %lld heads, %lld layers, ffn %lld, %lld buckets\n",
                  static_cast<long long>(c->vocab), static_cast<long long>(c->dim), static_cast<long long>(c->num_heads),
                  static_cast<long long>(c->num_layers), static_cast<long long>(c->dim_ffn),
                  static_cast<long long>(c->num_buckets));
    } else {
      std::printf("  umT5 config: %s\n", c.error().to_string().c_str());
    }
  }
}

int print_store(const std::string& title, const std::vector<std::string>& paths, bool all,
                const std::string& config_json = "") {
  auto store = WeightStore::open(paths);
  if (!store) return report_error(store.error());
  std::printf("%s: %s", title.c_str(), paths.front().c_str());
  if (paths.size() > 1) std::printf(" (+%zu more)", paths.size() - 1);
  std::printf("\n  %zu tensors, %lld parameters (%.3f B), %s\n", store->names().size(),
              static_cast<long long>(store->total_params()), store->total_params() / 1e9,
              human_bytes(static_cast<double>(store->total_bytes())).c_str());
  for (const auto& [key, value] : store->metadata()) {
    std::string shown = value.size() > 100 ? value.substr(0, 100) + "..." : value;
    std::printf("  meta %-28s %s\n", key.c_str(), shown.c_str());
  }
  std::map<std::string, std::pair<int64_t, int64_t>> per_type;  // dtype -> (params, tensors)
  size_t shown = 0;
  std::printf("  %-52s %-8s %s\n", "name", "dtype", "shape (PyTorch order)");
  for (const std::string& name : store->names()) {
    const auto shape = *store->shape(name);
    const std::string dtype = *store->dtype_name(name);
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    per_type[dtype].first += n;
    per_type[dtype].second += 1;
    if (!all && is_repeated_layer(name)) continue;
    std::printf("  %-52s %-8s %s\n", name.c_str(), dtype.c_str(), shape_string(shape).c_str());
    ++shown;
  }
  if (shown < store->names().size()) std::printf("  ... %zu more (--all lists every tensor)\n", store->names().size() - shown);
  for (const auto& [dtype, v] : per_type) {
    std::printf("  %-8s %14lld params in %lld tensors\n", dtype.c_str(), static_cast<long long>(v.first),
                static_cast<long long>(v.second));
  }
  print_component_config(*store, config_json);
  return 0;
}

}  // namespace

int inspect_wan_gguf(const std::string& path) {
  auto store = WeightStore::open({path});
  if (!store) return report_error(store.error());
  print_component_config(*store, "");
  return 0;
}

bool is_video_inspect_target(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return true;
  auto ends = [&](const char* suffix) {
    const std::string s(suffix);
    return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
  };
  return ends(".safetensors") || ends(".json");  // a .gguf DiT goes through the GGUF path
}

int inspect_video(const std::string& path, bool all_tensors) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return print_store("safetensors", {path}, all_tensors);
  auto files = video::resolve_video_model_files(path, {});
  if (!files) return report_error(files.error());
  std::printf("video model folder %s\n", path.c_str());
  for (size_t i = 0; i < files->dits.size(); ++i) {
    const std::string title = files->dits.size() == 1 ? "DiT" : (i == 0 ? "DiT (high-noise expert)" : "DiT (low-noise expert)");
    if (!files->dits[i].config_json.empty()) std::printf("%s config: %s\n", title.c_str(), files->dits[i].config_json.c_str());
    if (int code = print_store(title, files->dits[i].weights, all_tensors, files->dits[i].config_json); code != 0) {
      return code;
    }
  }
  if (int code = print_store("VAE", {files->vae}, all_tensors); code != 0) return code;
  if (int code = print_store("text encoder", {files->text_encoder}, all_tensors); code != 0) return code;
  std::printf("tokenizer: %s\n", files->tokenizer.empty() ? "(none: prompts must be given as token ids)"
                                                          : files->tokenizer.c_str());
  return 0;
}

}  // namespace frugal::cli

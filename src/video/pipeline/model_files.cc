// Model folder resolution (see model_files.h).
#include "video/pipeline/model_files.h"

#include <algorithm>
#include <filesystem>

namespace frugal::video {
namespace {

namespace fs = std::filesystem;

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// The first existing file among `names` inside `dir`, or empty.
std::string first_existing(const fs::path& dir, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (is_file(dir / name)) return (dir / name).string();
  }
  return {};
}

std::vector<std::string> files_with_suffix(const fs::path& dir, const std::string& prefix, const std::string& suffix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.rfind(prefix, 0) == 0 && name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(entry.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Expected<DitFiles> resolve_dit_dir(const fs::path& dir) {
  DitFiles dit;
  if (is_file(dir / "config.json")) dit.config_json = (dir / "config.json").string();
  const std::string index = first_existing(dir, {"diffusion_pytorch_model.safetensors.index.json"});
  if (!index.empty()) {
    dit.weights = {index};
    return dit;
  }
  if (is_file(dir / "diffusion_pytorch_model.safetensors")) {
    dit.weights = {(dir / "diffusion_pytorch_model.safetensors").string()};
    return dit;
  }
  dit.weights = files_with_suffix(dir, "", ".gguf");
  if (dit.weights.size() == 1) return dit;
  if (dit.weights.size() > 1) return invalid_argument(dir.string() + " holds several .gguf DiT files; name one with --dit");
  return not_found("no DiT weights in " + dir.string() +
                   " (looked for diffusion_pytorch_model.safetensors, its .index.json, or a .gguf file)");
}

Expected<std::string> resolve_part(const fs::path& dir, const std::string& what, std::initializer_list<const char*> names,
                                   const char* pth_name) {
  std::string found = first_existing(dir, names);
  if (!found.empty()) return found;
  if (pth_name != nullptr && is_file(dir / pth_name)) {
    return not_found(what + ": " + (dir / pth_name).string() +
                     " is a PyTorch pickle; convert it once with tools/convert_wan/pth_to_safetensors.py");
  }
  return not_found(what + " not found in " + dir.string() + " (looked for " + *names.begin() + ")");
}

Status check_exists(const std::string& path, const std::string& what) {
  if (!is_file(path)) return not_found(what + " " + path + " does not exist");
  return Status::ok();
}

}  // namespace

Expected<VideoModelFiles> resolve_video_model_files(const std::string& model_dir, const VideoModelOverrides& overrides) {
  VideoModelFiles files;
  const fs::path dir(model_dir);
  if (!model_dir.empty()) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return not_found("model folder " + model_dir + " does not exist");
  }
  if (!overrides.dit.empty()) {
    DitFiles dit;
    dit.weights = overrides.dit;
    for (const std::string& p : dit.weights) {
      if (Status s = check_exists(p, "DiT file"); !s) return s;
    }
    if (!model_dir.empty() && is_file(dir / "config.json")) dit.config_json = (dir / "config.json").string();
    files.dits.push_back(std::move(dit));
  } else if (model_dir.empty()) {
    return invalid_argument("name a model folder (-m) or the DiT file (--dit)");
  } else if (fs::is_directory(dir / "high_noise_model") && fs::is_directory(dir / "low_noise_model")) {
    for (const char* expert : {"high_noise_model", "low_noise_model"}) {
      auto dit = resolve_dit_dir(dir / expert);
      if (!dit) return dit.error();
      files.dits.push_back(std::move(*dit));
    }
  } else {
    auto dit = resolve_dit_dir(dir);
    if (!dit) return dit.error();
    files.dits.push_back(std::move(*dit));
  }
  auto part = [&](const std::string& override_path, std::string& out, const std::string& what,
                  std::initializer_list<const char*> names, const char* pth, bool required) -> Status {
    if (!override_path.empty()) {
      out = override_path;
      return check_exists(out, what);
    }
    if (model_dir.empty()) return required ? invalid_argument("name the " + what + " file") : Status::ok();
    auto found = resolve_part(dir, what, names, pth);
    if (found) out = *found;
    else if (required) return found.error();
    return Status::ok();
  };
  if (Status s = part(overrides.vae, files.vae, "VAE", {"Wan2.1_VAE.safetensors", "vae.safetensors"}, "Wan2.1_VAE.pth", true);
      !s) {
    return s;
  }
  if (Status s = part(overrides.text_encoder, files.text_encoder, "text encoder",
                      {"models_t5_umt5-xxl-enc-bf16.safetensors", "models_t5_umt5-xxl-enc.safetensors",
                       "text_encoder.safetensors"},
                      "models_t5_umt5-xxl-enc-bf16.pth", true);
      !s) {
    return s;
  }
  if (Status s = part(overrides.tokenizer, files.tokenizer, "tokenizer",
                      {"google/umt5-xxl/spiece.model", "spiece.model", "tokenizer.model"}, nullptr, false);
      !s) {
    return s;
  }
  return files;
}

}  // namespace frugal::video

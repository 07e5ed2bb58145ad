#include "video_model_key.h"

#include <filesystem>

#include "video/dit/dit_config.h"
#include "video/pipeline/model_files.h"

namespace frugal::cli {

Expected<VideoModelKey> video_model_key(const std::string& model_dir) {
  auto files = video::resolve_video_model_files(model_dir, {});
  if (!files) return files.error();
  if (files->dits.size() != 1 || files->dits.front().config_json.empty()) {
    return invalid_argument("video calibration needs a one-DiT model folder with a config.json: " + model_dir);
  }
  auto config = video::load_dit_config_file(files->dits.front().config_json);
  if (!config) return config.error();
  std::error_code ec;
  auto bytes = [&](const std::string& path) -> uintmax_t {
    const uintmax_t n = path.empty() ? 0 : std::filesystem::file_size(path, ec);
    return ec ? 0 : n;
  };
  uintmax_t dit_bytes = 0;
  for (const std::string& f : files->dits.front().weights) dit_bytes += bytes(f);
  VideoModelKey key;
  std::filesystem::path p(model_dir);
  if (!p.has_filename()) p = p.parent_path();
  key.name = p.filename().string();
  key.signature = video::dit_config_summary(*config) + "; bytes: dit " + std::to_string(dit_bytes) + ", vae " +
                  std::to_string(bytes(files->vae)) + ", text encoder " + std::to_string(bytes(files->text_encoder));
  key.dit.name = key.name;
  key.dit.description = key.name;
  key.dit.dim = config->dim;
  key.dit.n_layer = config->num_layers;
  key.dit.n_head = config->num_heads;
  key.dit.ffn_dim = config->ffn_dim;
  key.dit.text_len = config->text_len;
  key.dit.patch_t = config->patch_size[0];
  key.dit.patch_h = config->patch_size[1];
  key.dit.patch_w = config->patch_size[2];
  key.dit.z_dim = config->in_dim;
  return key;
}

}  // namespace frugal::cli

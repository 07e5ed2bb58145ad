#include "video/vae/vae_config.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <type_traits>

namespace frugal::video::vae {
namespace {

constexpr const char* kEncoderBlocks = "encoder.downsamples.";

bool has_scale(const std::vector<double>& scales, double scale) {
  return std::find(scales.begin(), scales.end(), scale) != scales.end();
}

// The first dimension of `name`, which must have `rank` dimensions.
Expected<int64_t> leading_dim(const WeightStore& store, const std::string& name, size_t rank) {
  auto shape = store.shape(name);
  if (!shape) return not_found("not a Wan2.1 VAE state dict: tensor \"" + name + "\" is missing");
  if (shape->size() != rank || (*shape)[0] <= 0) {
    return invalid_argument("tensor \"" + name + "\" has shape " + shape_string(*shape) + "; expected " +
                            std::to_string(rank) + " dimensions");
  }
  return (*shape)[0];
}

// Indices N of encoder.downsamples.N.* present in the store.
std::set<int64_t> encoder_block_indices(const WeightStore& store) {
  std::set<int64_t> indices;
  const std::string prefix = kEncoderBlocks;
  for (const std::string& name : store.names()) {
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const size_t dot = name.find('.', prefix.size());
    const std::string digits = name.substr(prefix.size(), dot - prefix.size());
    if (!digits.empty() && std::all_of(digits.begin(), digits.end(), ::isdigit)) indices.insert(std::stoll(digits));
  }
  return indices;
}

struct Level {
  int64_t out_dim = 0;
  int64_t res_blocks = 0;
  bool attention = false;
};

// Groups encoder.downsamples.* into levels: residual (+ attention) blocks closed by a Resample.
Status walk_encoder(const WeightStore& store, WanVaeConfig& cfg, std::vector<Level>& levels) {
  const std::set<int64_t> indices = encoder_block_indices(store);
  Level level;
  for (int64_t idx = 0; idx < static_cast<int64_t>(indices.size()); ++idx) {
    const std::string prefix = kEncoderBlocks + std::to_string(idx) + ".";
    if (indices.count(idx) == 0) return invalid_argument("encoder block " + prefix + "* is missing");
    if (store.contains(prefix + "residual.0.gamma")) {
      auto out = leading_dim(store, prefix + "residual.2.weight", 5);
      if (!out) return out.error();
      level.out_dim = *out;
      ++level.res_blocks;
    } else if (store.contains(prefix + "norm.gamma")) {
      level.attention = true;
    } else if (store.contains(prefix + "resample.1.weight")) {
      cfg.temporal_downsample.push_back(store.contains(prefix + "time_conv.weight"));
      levels.push_back(level);
      level = Level();
    } else {
      return invalid_argument("encoder block " + prefix + "* is neither a residual, attention nor resample block");
    }
  }
  levels.push_back(level);
  return Status::ok();
}

template <typename T>
std::string list_string(const std::vector<T>& v) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out << ",";
    if constexpr (std::is_same_v<T, bool>) {
      out << (v[i] ? "T" : "F");
    } else {
      out << v[i];
    }
  }
  out << "]";
  return out.str();
}

}  // namespace

bool WanVaeConfig::encoder_level_has_attention(int64_t level) const {
  return has_scale(attn_scales, std::ldexp(1.0, static_cast<int>(-level)));
}

bool WanVaeConfig::decoder_level_has_attention(int64_t level) const {
  return has_scale(attn_scales, std::ldexp(1.0, static_cast<int>(level - (levels() - 2))));
}

std::string WanVaeConfig::to_string() const {
  std::ostringstream out;
  out << "dim " << dim << ", z_dim " << z_dim << ", dim_mult " << list_string(dim_mult) << ", " << num_res_blocks
      << " res blocks, temporal downsample " << list_string(temporal_downsample) << ", attn_scales "
      << list_string(attn_scales);
  return out.str();
}

Expected<WanVaeConfig> infer_vae_config(const WeightStore& store) {
  WanVaeConfig cfg;
  auto dim = leading_dim(store, "encoder.conv1.weight", 5);
  if (!dim) return dim.error();
  cfg.dim = *dim;
  auto z_dim = leading_dim(store, "conv2.weight", 5);
  if (!z_dim) return z_dim.error();
  cfg.z_dim = *z_dim;
  std::vector<Level> levels;
  if (Status s = walk_encoder(store, cfg, levels); !s) return s;
  cfg.num_res_blocks = levels.front().res_blocks;
  for (size_t l = 0; l < levels.size(); ++l) {
    const Level& level = levels[l];
    if (level.res_blocks == 0 || level.res_blocks != cfg.num_res_blocks) {
      return invalid_argument("encoder level " + std::to_string(l) + " has " + std::to_string(level.res_blocks) +
                              " residual blocks; level 0 has " + std::to_string(cfg.num_res_blocks));
    }
    if (level.out_dim % cfg.dim != 0) {
      return invalid_argument("encoder level " + std::to_string(l) + " has " + std::to_string(level.out_dim) +
                              " channels, not a multiple of dim " + std::to_string(cfg.dim));
    }
    cfg.dim_mult.push_back(level.out_dim / cfg.dim);
    if (level.attention) cfg.attn_scales.push_back(std::ldexp(1.0, -static_cast<int>(l)));
  }
  if (cfg.levels() < 2) return invalid_argument("a Wan VAE needs at least two encoder levels");
  return cfg;
}

}  // namespace frugal::video::vae

// The Wan2.1 VAE's tensor list (see vae_tensor_specs.h), walking the module tree as WanVAE_ builds it.
#include "video/vae/vae_tensor_specs.h"

namespace frugal::video {
namespace {

using Specs = std::vector<VaeTensorSpec>;

void conv(Specs& out, const std::string& name, int64_t c_out, int64_t c_in, std::vector<int64_t> kernel) {
  std::vector<int64_t> shape = {c_out, c_in};
  shape.insert(shape.end(), kernel.begin(), kernel.end());
  out.push_back({name + ".weight", shape});
  out.push_back({name + ".bias", {c_out}});
}

// ResidualBlock(in, out): RMS_norm, SiLU, CausalConv3d 3³, RMS_norm, SiLU, Dropout, CausalConv3d 3³
// (+ a 1×1×1 shortcut when the width changes).
void residual(Specs& out, const std::string& p, int64_t in, int64_t c_out) {
  out.push_back({p + "residual.0.gamma", {in, 1, 1, 1}});
  conv(out, p + "residual.2", c_out, in, {3, 3, 3});
  out.push_back({p + "residual.3.gamma", {c_out, 1, 1, 1}});
  conv(out, p + "residual.6", c_out, c_out, {3, 3, 3});
  if (in != c_out) conv(out, p + "shortcut", c_out, in, {1, 1, 1});
}

void attention(Specs& out, const std::string& p, int64_t c) {
  out.push_back({p + "norm.gamma", {c, 1, 1}});
  conv(out, p + "to_qkv", 3 * c, c, {1, 1});
  conv(out, p + "proj", c, c, {1, 1});
}

void middle(Specs& out, const std::string& p, int64_t c) {
  residual(out, p + "0.", c, c);
  attention(out, p + "1.", c);
  residual(out, p + "2.", c, c);
}

void head(Specs& out, const std::string& p, int64_t c, int64_t c_out) {
  out.push_back({p + "0.gamma", {c, 1, 1, 1}});
  conv(out, p + "2", c_out, c, {3, 3, 3});
}

void encoder(Specs& out, const vae::WanVaeConfig& c) {
  std::vector<int64_t> dims = {c.dim};
  for (int64_t m : c.dim_mult) dims.push_back(c.dim * m);
  conv(out, "encoder.conv1", dims[0], 3, {3, 3, 3});
  int64_t idx = 0;
  for (int64_t level = 0; level < c.levels(); ++level) {
    int64_t in = dims[level];
    const int64_t level_out = dims[level + 1];
    for (int64_t b = 0; b < c.num_res_blocks; ++b) {
      residual(out, "encoder.downsamples." + std::to_string(idx++) + ".", in, level_out);
      if (c.encoder_level_has_attention(level)) attention(out, "encoder.downsamples." + std::to_string(idx++) + ".", level_out);
      in = level_out;
    }
    if (level != c.levels() - 1) {
      const std::string p = "encoder.downsamples." + std::to_string(idx++) + ".";
      conv(out, p + "resample.1", level_out, level_out, {3, 3});
      if (c.temporal_downsample[static_cast<size_t>(level)]) conv(out, p + "time_conv", level_out, level_out, {3, 1, 1});
    }
  }
  middle(out, "encoder.middle.", dims.back());
  head(out, "encoder.head.", dims.back(), 2 * c.z_dim);
}

void decoder(Specs& out, const vae::WanVaeConfig& c) {
  // dims = [dim_mult[-1]] + dim_mult[::-1], times dim; the levels after the first start at half the
  // width of the previous level's end (the upsample halves the channels).
  std::vector<int64_t> dims = {c.dim * c.dim_mult.back()};
  for (auto it = c.dim_mult.rbegin(); it != c.dim_mult.rend(); ++it) dims.push_back(c.dim * *it);
  conv(out, "decoder.conv1", dims[0], c.z_dim, {3, 3, 3});
  middle(out, "decoder.middle.", dims[0]);
  int64_t idx = 0;
  for (int64_t level = 0; level < c.levels(); ++level) {
    int64_t in = dims[level];
    if (level >= 1 && level <= 3) in /= 2;
    const int64_t level_out = dims[level + 1];
    for (int64_t b = 0; b < c.num_res_blocks + 1; ++b) {
      residual(out, "decoder.upsamples." + std::to_string(idx++) + ".", in, level_out);
      if (c.decoder_level_has_attention(level)) attention(out, "decoder.upsamples." + std::to_string(idx++) + ".", level_out);
      in = level_out;
    }
    if (level != c.levels() - 1) {
      const std::string p = "decoder.upsamples." + std::to_string(idx++) + ".";
      // Temporal upsampling mirrors the encoder's temporal downsampling, deepest level first.
      const bool temporal = c.temporal_downsample[c.temporal_downsample.size() - 1 - static_cast<size_t>(level)];
      conv(out, p + "resample.1", level_out / 2, level_out, {3, 3});
      if (temporal) conv(out, p + "time_conv", 2 * level_out, level_out, {3, 1, 1});
    }
  }
  head(out, "decoder.head.", dims.back(), 3);
}

}  // namespace

vae::WanVaeConfig wan21_vae_config(int64_t dim) {
  vae::WanVaeConfig c;
  c.dim = dim;
  c.z_dim = 16;
  c.dim_mult = {1, 2, 4, 4};
  c.num_res_blocks = 2;
  c.temporal_downsample = {false, true, true};
  return c;
}

std::vector<VaeTensorSpec> vae_tensor_specs(const vae::WanVaeConfig& config) {
  Specs out;
  encoder(out, config);
  conv(out, "conv1", 2 * config.z_dim, 2 * config.z_dim, {1, 1, 1});
  conv(out, "conv2", config.z_dim, config.z_dim, {1, 1, 1});
  decoder(out, config);
  return out;
}

}  // namespace frugal::video

#include "video/vae/vae_memory.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ops/conv.h"
#include "video/vae/vae_tensor_specs.h"

namespace frugal::video {

namespace {

constexpr int64_t kF32 = 4;
constexpr int64_t kSpatial = 8;  // output pixels per latent pixel, per side

// Walks the decoder of CausalCoder::load_decoder for one chunk, in floats per latent pixel: `caches`
// sums every causal cache, `peak` the largest transient (what is live inside one block, the chunk's
// input included). `area` is the level's pixels per latent pixel, `frames` the chunk's frames there.
struct DecoderWalk {
  bool first_chunk = false;
  int64_t caches = 0, peak = 0;
  int64_t channels = 0, frames = 1, area = 1;

  void transient(int64_t floats) { peak = std::max(peak, floats); }
  void cache(int64_t c_in) { caches += 2 * c_in * area; }  // a causal 3x3x3 conv keeps 2 input frames

  void residual(int64_t in, int64_t out) {
    cache(in);
    cache(out);
    const int64_t per_frame = in != out ? std::max(in + 2 * out, 3 * out) : 3 * out;
    transient(per_frame * frames * area);
    channels = out;
  }
  void attention(int64_t c) { transient(c * frames * area + 7 * c * area); }
  void upsample(bool temporal) {
    const int64_t c = channels;
    if (temporal) cache(c);  // time_conv, causal 3x1x1
    if (temporal && !first_chunk) {
      transient(6 * c * frames * area);  // x + time_conv out, then [C, 2T] + the upsampled [C/2, 2T, 4a]
      frames *= 2;
    } else {
      transient(3 * c * frames * area);  // [C, T] + [C/2, T, 4a]
    }
    channels = c / 2;
    area *= 4;
  }
};

DecoderWalk walk_decoder(const vae::WanVaeConfig& cfg, bool first_chunk) {
  DecoderWalk w;
  w.first_chunk = first_chunk;
  std::vector<int64_t> dims = {cfg.dim * cfg.dim_mult.back()};
  for (auto it = cfg.dim_mult.rbegin(); it != cfg.dim_mult.rend(); ++it) dims.push_back(cfg.dim * *it);
  const int64_t z = cfg.z_dim;
  // WanVae::decode holds its de-normalised input [z, 1] and conv2's output [z, 1] during the decoder.
  const int64_t held = z;
  w.cache(z);  // decoder.conv1
  w.transient(2 * z + dims.front());
  w.channels = dims.front();
  w.residual(dims.front(), dims.front());
  w.attention(dims.front());
  w.residual(dims.front(), dims.front());
  const int64_t levels = cfg.levels();
  for (int64_t level = 0; level < levels; ++level) {
    int64_t in_dim = dims[static_cast<size_t>(level)];
    if (level == 1 || level == 2 || level == 3) in_dim /= 2;
    const int64_t out_dim = dims[static_cast<size_t>(level) + 1];
    for (int64_t r = 0; r < cfg.num_res_blocks + 1; ++r) {
      w.residual(in_dim, out_dim);
      if (cfg.decoder_level_has_attention(level)) w.attention(out_dim);
      in_dim = out_dim;
    }
    if (level != levels - 1) w.upsample(cfg.temporal_downsample[static_cast<size_t>(levels - 2 - level)]);
  }
  w.cache(w.channels);                                   // head conv
  w.transient((w.channels + 3) * w.frames * w.area);     // its input and [3, T] output
  w.peak += held;
  // The consumer's copy of one output chunk [3, T, 8h, 8w] (the CLI clamps a copy; the pipeline converts).
  w.peak += 3 * w.frames * w.area;
  return w;
}

// Activation floats per latent pixel at the peak (see vae_decode_activation_bytes).
int64_t activation_floats_per_pixel(const vae::WanVaeConfig& config, int64_t frames) {
  const DecoderWalk first = walk_decoder(config, true);
  int64_t floats = first.caches + first.peak;
  if (frames >= 2) {
    const DecoderWalk steady = walk_decoder(config, false);
    floats = std::max(floats, steady.caches + steady.peak);
  }
  return floats;
}

// The parts of a prediction that do not depend on the tile, computed once per plan.
struct DecodeCosts {
  int64_t fixed = 0;           // weights + allowances
  int64_t per_pixel = 0;       // activation bytes per latent pixel of a tile
  int64_t blended = 0;         // the tiled decode's output buffer
  int64_t latent_channels = 0, latent_frames = 0;

  int64_t predict(bool tiled, int64_t tile_h, int64_t tile_w) const {
    const int64_t tile = per_pixel * tile_h * tile_w;
    if (!tiled) return fixed + tile;
    return fixed + tile + blended + latent_channels * latent_frames * tile_h * tile_w * kF32;
  }
};

}  // namespace

int64_t vae_decode_activation_bytes(const vae::WanVaeConfig& config, int64_t h, int64_t w, int64_t frames) {
  return activation_floats_per_pixel(config, frames) * h * w * kF32;
}

int64_t vae_weight_bytes(const vae::WanVaeConfig& config) {
  const ConvTileMode mode = conv_tile_mode_in_effect();
  int64_t bytes = 0;
  for (const VaeTensorSpec& spec : vae_tensor_specs(config)) {
    int64_t n = 1;
    for (int64_t d : spec.shape) n *= d;
    bytes += n * kF32;
    // The decode's convolutions also hold their packed bf16 copy on the tile path (VaeConv).
    const bool decode_conv = spec.name.rfind("decoder.", 0) == 0 || spec.name.rfind("conv2.", 0) == 0;
    const bool attention = spec.name.find(".to_qkv.") != std::string::npos || spec.name.find(".proj.") != std::string::npos;
    if (mode != ConvTileMode::kOff && decode_conv && !attention && spec.shape.size() >= 4) {
      Conv3dParams p;
      p.c_out = spec.shape[0];
      p.c_in = n / spec.shape[0];  // 1x1x1 geometry with the same k
      bytes += conv_tile_weight_bytes(p, mode);
    }
  }
  return bytes;
}

std::string VaeTilePlan::to_string() const {
  if (!tiled) return "untiled";
  char buf[160];
  std::snprintf(buf, sizeof(buf), "%lldx%lld tiles of %lldx%lld latent (%lldx%lld px, HxW), overlap %lldx%lld",
                static_cast<long long>(tiles_y), static_cast<long long>(tiles_x), static_cast<long long>(tile_h),
                static_cast<long long>(tile_w), static_cast<long long>(tile_h * kSpatial),
                static_cast<long long>(tile_w * kSpatial), static_cast<long long>(overlap_h),
                static_cast<long long>(overlap_w));
  return buf;
}

int64_t vae_tile_count(int64_t length, int64_t tile, int64_t overlap) {
  if (tile >= length) return 1;
  const int64_t stride = std::max<int64_t>(1, tile - overlap);
  return 1 + (length - tile + stride - 1) / stride;
}

int64_t vae_tile_start(int64_t length, int64_t tile, int64_t count, int64_t index) {
  if (count <= 1) return 0;
  return (index * (length - tile) + (count - 1) / 2) / (count - 1);
}

namespace {

DecodeCosts decode_costs(const vae::WanVaeConfig& config, const std::array<int64_t, 4>& shape) {
  const auto [c, t, h, w] = shape;
  DecodeCosts costs;
  costs.fixed = vae_weight_bytes(config) + kVaeScratchAllowanceBytes + kVaeProcessAllowanceBytes;
  costs.per_pixel = static_cast<int64_t>(
      std::ceil(kVaeActivationSlack * static_cast<double>(activation_floats_per_pixel(config, t) * kF32)));
  costs.blended = 3 * (1 + 4 * (t - 1)) * h * w * kSpatial * kSpatial * kF32;  // [3, F, H, W]
  costs.latent_channels = c;  // the tile's latent [16, T, th, tw]
  costs.latent_frames = t;
  return costs;
}

}  // namespace

int64_t vae_predicted_decode_bytes(const vae::WanVaeConfig& config, const std::array<int64_t, 4>& shape, bool tiled,
                                   int64_t tile_h, int64_t tile_w) {
  return decode_costs(config, shape).predict(tiled, tile_h, tile_w);
}

VaeTilePlan vae_fixed_tile_plan(const vae::WanVaeConfig& config, const std::array<int64_t, 4>& shape, int64_t tile_h,
                                int64_t tile_w, int64_t overlap_h, int64_t overlap_w) {
  VaeTilePlan p;
  const int64_t h = shape[2], w = shape[3];
  p.tile_h = std::clamp<int64_t>(tile_h, 1, h);
  p.tile_w = std::clamp<int64_t>(tile_w, 1, w);
  p.overlap_h = p.tile_h < h ? std::clamp<int64_t>(overlap_h, 0, p.tile_h - 1) : 0;
  p.overlap_w = p.tile_w < w ? std::clamp<int64_t>(overlap_w, 0, p.tile_w - 1) : 0;
  p.tiles_y = vae_tile_count(h, p.tile_h, p.overlap_h);
  p.tiles_x = vae_tile_count(w, p.tile_w, p.overlap_w);
  p.tiled = p.tiles() > 1;
  p.predicted_bytes = vae_predicted_decode_bytes(config, shape, p.tiled, p.tile_h, p.tile_w);
  return p;
}

Expected<VaeTilePlan> plan_vae_decode(const vae::WanVaeConfig& config, const std::array<int64_t, 4>& shape,
                                      int64_t budget_bytes) {
  const int64_t h = shape[2], w = shape[3];
  const DecodeCosts costs = decode_costs(config, shape);
  VaeTilePlan untiled = vae_fixed_tile_plan(config, shape, h, w, 0, 0);
  if (budget_bytes <= 0 || untiled.predicted_bytes <= budget_bytes) return untiled;
  // Every fitting tile with its cost (latent pixels decoded, overlaps counted twice); then, among
  // those within kCostSlack of the cheapest, the largest tile: a bigger tile has a bigger overlap
  // (a quarter of its side) and fewer seams for a few percent more work.
  constexpr double kCostSlack = 1.15;
  std::vector<VaeTilePlan> fitting;
  int64_t min_cost = -1;
  const int64_t min_h = std::min(kVaeMinTileSide, h), min_w = std::min(kVaeMinTileSide, w);
  for (int64_t th = h; th >= min_h; --th) {
    for (int64_t tw = w; tw >= min_w; --tw) {
      if (th == h && tw == w) continue;
      const int64_t bytes = costs.predict(true, th, tw);
      if (bytes > budget_bytes) continue;
      VaeTilePlan p;
      p.tiled = true;
      p.tile_h = th;
      p.tile_w = tw;
      p.overlap_h = th < h ? th / 4 : 0;
      p.overlap_w = tw < w ? tw / 4 : 0;
      p.tiles_y = vae_tile_count(h, th, p.overlap_h);
      p.tiles_x = vae_tile_count(w, tw, p.overlap_w);
      p.predicted_bytes = bytes;
      const int64_t cost = p.tiles() * th * tw;
      if (min_cost < 0 || cost < min_cost) min_cost = cost;
      fitting.push_back(p);
    }
  }
  VaeTilePlan best;
  int64_t best_cost = -1;
  for (const VaeTilePlan& p : fitting) {
    const int64_t cost = p.tiles() * p.tile_h * p.tile_w;
    if (static_cast<double>(cost) > kCostSlack * static_cast<double>(min_cost)) continue;
    const int64_t area = p.tile_h * p.tile_w, best_area = best.tile_h * best.tile_w;
    if (best_cost < 0 || area > best_area || (area == best_area && cost < best_cost)) {
      best = p;
      best_cost = cost;
    }
  }
  if (best_cost >= 0) return best;
  const int64_t smallest = costs.predict(true, min_h, min_w);
  const int64_t frames = 1 + 4 * (shape[1] - 1);
  return resource_exhausted(
      "memory budget " + format_memory_size(budget_bytes) + " is too small for this VAE decode: the smallest tile (" +
      std::to_string(min_h * kSpatial) + "x" + std::to_string(min_w * kSpatial) + " px) needs " +
      format_memory_size(smallest) + " (VAE weights " + format_memory_size(vae_weight_bytes(config)) +
      ", the blended frames " + format_memory_size(3 * frames * h * w * kSpatial * kSpatial * kF32) +
      ", one tile's activations " + format_memory_size(vae_decode_activation_bytes(config, min_h, min_w, shape[1])) +
      ", scratch and process " + format_memory_size(kVaeScratchAllowanceBytes + kVaeProcessAllowanceBytes) + ")");
}

Expected<int64_t> parse_memory_size(const std::string& text) {
  const auto bad = [&] {
    return invalid_argument("memory size \"" + text + "\" is not a size: write e.g. 4GiB, 512MiB, 4G or a byte count");
  };
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) != 0 || text[i] == '.')) ++i;
  if (i == 0) return bad();
  const std::string number = text.substr(0, i);
  if (std::count(number.begin(), number.end(), '.') > 1 || number == ".") return bad();
  const double value = std::strtod(number.c_str(), nullptr);
  while (i < text.size() && text[i] == ' ') ++i;
  std::string unit;
  for (; i < text.size(); ++i) unit += static_cast<char>(std::toupper(static_cast<unsigned char>(text[i])));
  double scale = 0;
  if (unit.empty() || unit == "B") scale = 1;
  for (const auto& [names, s] : {std::pair{"K", 1024.0}, {"M", 1024.0 * 1024}, {"G", 1024.0 * 1024 * 1024},
                                 {"T", 1024.0 * 1024 * 1024 * 1024}}) {
    const std::string n = names;
    if (unit == n || unit == n + "B" || unit == n + "IB") scale = s;
  }
  if (scale == 0) return bad();
  const double bytes = value * scale;
  if (!(bytes >= 1) || bytes > 9.0e18) {
    return invalid_argument("memory size \"" + text + "\" must be at least one byte and below 8 EiB");
  }
  return static_cast<int64_t>(bytes);
}

std::string format_memory_size(int64_t bytes) {
  char buf[48];
  const double b = static_cast<double>(bytes);
  if (b >= 1024.0 * 1024 * 1024) std::snprintf(buf, sizeof(buf), "%.2f GiB", b / (1024.0 * 1024 * 1024));
  else std::snprintf(buf, sizeof(buf), "%.1f MiB", b / (1024.0 * 1024));
  return buf;
}

}  // namespace frugal::video

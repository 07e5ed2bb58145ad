// WanVae's tiled decode (video/vae layer): overlapping spatial tiles of the latent, each decoded
// through the whole causal sequence with the streaming decoder, blended linearly into one buffer of
// frames, then handed to the sink in the untiled decode's chunks. Blending, per axis: a tile's weight
// ramps linearly from ~0 to 1 across the part it shares with its previous neighbour and back down
// across the part it shares with the next one ((i + 0.5) / overlap), and the sum of the weights of
// the tiles covering an output pixel divides the accumulated sum, so any overlap (and overlap 0:
// hard seams) blends to a convex combination. The weights are separable (w_y · w_x) and the tile grid
// is a product, so the normaliser is S_y(y) · S_x(x): two vectors, no weight plane.
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/check.h"
#include "video/vae/wan_vae.h"

namespace frugal::video {

namespace {

constexpr int64_t kSpatial = 8;

struct AxisTiles {
  int64_t count = 1, tile = 0;
  std::vector<int64_t> start;                // latent pixels
  std::vector<std::vector<float>> weight;    // per tile: [tile * 8] output pixels
  std::vector<float> inv_sum;                // [length * 8]: 1 / sum of the weights covering the pixel
};

AxisTiles axis_tiles(int64_t length, int64_t tile, int64_t overlap) {
  AxisTiles a;
  a.tile = tile;
  a.count = vae_tile_count(length, tile, overlap);
  for (int64_t i = 0; i < a.count; ++i) a.start.push_back(vae_tile_start(length, tile, a.count, i));
  const int64_t px = tile * kSpatial;
  std::vector<float> sum(static_cast<size_t>(length * kSpatial), 0.0f);
  for (int64_t i = 0; i < a.count; ++i) {
    // Output pixels shared with the previous / next tile.
    const int64_t before = i > 0 ? (a.start[i - 1] + tile - a.start[i]) * kSpatial : 0;
    const int64_t after = i + 1 < a.count ? (a.start[i] + tile - a.start[i + 1]) * kSpatial : 0;
    std::vector<float> w(static_cast<size_t>(px), 1.0f);
    for (int64_t p = 0; p < px; ++p) {
      if (p < before) w[p] *= (static_cast<float>(p) + 0.5f) / static_cast<float>(before);
      if (p >= px - after) w[p] *= (static_cast<float>(px - p) - 0.5f) / static_cast<float>(after);
      sum[static_cast<size_t>(a.start[i] * kSpatial + p)] += w[p];
    }
    a.weight.push_back(std::move(w));
  }
  a.inv_sum.resize(sum.size());
  for (size_t p = 0; p < sum.size(); ++p) a.inv_sum[p] = 1.0f / sum[p];
  return a;
}

// Frame offset of chunk k (1 frame, then 4 per latent frame) and its frame count.
int64_t chunk_first_frame(int64_t k) { return k == 0 ? 0 : 1 + 4 * (k - 1); }
int64_t chunk_frames(int64_t k) { return k == 0 ? 1 : 4; }

}  // namespace

Status WanVae::decode_tiled(const float* z, const std::array<int64_t, 4>& shape, const VaeFrameSink& sink,
                            const VaeTilePlan& plan, const VaeDecodeOptions& options) {
  const auto [channels, frames, height, width] = shape;
  const AxisTiles ys = axis_tiles(height, plan.tile_h, plan.overlap_h);
  const AxisTiles xs = axis_tiles(width, plan.tile_w, plan.overlap_w);
  const int64_t out_h = height * kSpatial, out_w = width * kSpatial, out_plane = out_h * out_w;
  const int64_t total_frames = 1 + 4 * (frames - 1);
  // Chunk-major [chunk k: [3, n_k, H, W]], so each chunk goes to the sink as it is.
  std::vector<float> out(static_cast<size_t>(3 * total_frames * out_plane), 0.0f);
  const int64_t th = plan.tile_h, tw = plan.tile_w, tile_px_h = th * kSpatial, tile_px_w = tw * kSpatial;
  std::vector<float> tile_z(static_cast<size_t>(channels * frames * th * tw));
  for (int64_t iy = 0; iy < ys.count; ++iy) {
    for (int64_t ix = 0; ix < xs.count; ++ix) {
      const int64_t y0 = ys.start[iy], x0 = xs.start[ix];
      for (int64_t c = 0; c < channels; ++c) {
        for (int64_t t = 0; t < frames; ++t) {
          for (int64_t y = 0; y < th; ++y) {
            std::memcpy(tile_z.data() + ((c * frames + t) * th + y) * tw, z + ((c * frames + t) * height + y0 + y) * width + x0,
                        static_cast<size_t>(tw) * sizeof(float));
          }
        }
      }
      const std::vector<float>& wy = ys.weight[iy];
      const std::vector<float>& wx = xs.weight[ix];
      int64_t chunk = 0;
      auto accumulate = [&](const float* tile_frames, int64_t n) -> Status {
        CHECK(n == chunk_frames(chunk), "tiled VAE decode: unexpected chunk size");
        float* dst_chunk = out.data() + 3 * chunk_first_frame(chunk) * out_plane;
        for (int64_t cf = 0; cf < 3 * n; ++cf) {  // (channel, frame) planes of the chunk
          const float* src = tile_frames + cf * tile_px_h * tile_px_w;
          float* dst = dst_chunk + cf * out_plane + (y0 * kSpatial) * out_w + x0 * kSpatial;
          for (int64_t y = 0; y < tile_px_h; ++y) {
            const float row_w = wy[static_cast<size_t>(y)];
            const float* s = src + y * tile_px_w;
            float* d = dst + y * out_w;
            for (int64_t x = 0; x < tile_px_w; ++x) d[x] += row_w * wx[static_cast<size_t>(x)] * s[x];
          }
        }
        ++chunk;
        return Status::ok();
      };
      Status s = decode_stream(tile_z.data(), {channels, frames, th, tw}, accumulate);
      if (!s) return s;
      if (options.on_tile) {
        if (Status p = options.on_tile(iy * xs.count + ix + 1, ys.count * xs.count); !p) return p;
      }
    }
  }
  tile_z = {};
  for (int64_t k = 0; k < frames; ++k) {
    const int64_t n = chunk_frames(k);
    float* chunk = out.data() + 3 * chunk_first_frame(k) * out_plane;
    for (int64_t cf = 0; cf < 3 * n; ++cf) {
      float* plane = chunk + cf * out_plane;
      for (int64_t y = 0; y < out_h; ++y) {
        const float sy = ys.inv_sum[static_cast<size_t>(y)];
        float* row = plane + y * out_w;
        for (int64_t x = 0; x < out_w; ++x) row[x] *= sy * xs.inv_sum[static_cast<size_t>(x)];
      }
    }
    if (Status s = sink(chunk, n); !s) return s;
  }
  return Status::ok();
}

}  // namespace frugal::video

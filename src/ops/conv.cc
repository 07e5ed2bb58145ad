#include "ops/conv.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "core/check.h"
#include "core/logging.h"
#include "kernels/kernel_table.h"

namespace frugal {
namespace {

// im2col band budget: 8 MiB of gathered rows stays in a server core's share of L3 while the
// matmul streams it once per group of weight rows, and bounds the scratch whatever the frame size.
constexpr int64_t kColsBudgetBytes = 8 << 20;
// ...but never fewer than this many pixel rows per thread: ops::matmul hands out its matrix rows in
// 16-row items, and a band of a few items would leave most threads idle on wide convolutions
// (k = 384 * 27 gives only ~200 rows per 8 MiB).
constexpr int64_t kMinBandRowsPerThread = 32;

struct OutGeometry {
  int64_t t = 0, h = 0, w = 0;
  int64_t pixels_per_frame() const { return h * w; }
  int64_t pixels() const { return t * h * w; }
};

// One im2col row: row[ci * kvol + (dt * kh + dh) * kw + dw] for output pixel (t, ho, wo). The input
// is read at the upsampled size (height * up, width * up); a stored pixel covers up x up of it.
void gather_row(const ConvFrame* frames, int64_t height, int64_t width, const Conv3dParams& p, int64_t t,
                int64_t ho, int64_t wo, float* row) {
  const int64_t kvol = p.kernel_volume();
  const int64_t up = p.upsample;
  const int64_t up_height = height * up, up_width = width * up;
  const int64_t hi0 = ho * p.stride_h - p.pad_top;
  const int64_t wi0 = wo * p.stride_w - p.pad_left;
  const bool w_contiguous = up == 1 && wi0 >= 0 && wi0 + p.kernel_w <= width;
  for (int64_t dt = 0; dt < p.kernel_t; ++dt) {
    const ConvFrame& frame = frames[t * p.stride_t + dt];
    for (int64_t ci = 0; ci < p.c_in; ++ci) {
      float* dst = row + ci * kvol + dt * p.kernel_h * p.kernel_w;
      if (frame.data == nullptr) {
        std::fill(dst, dst + p.kernel_h * p.kernel_w, 0.0f);
        continue;
      }
      const float* src = frame.data + ci * frame.channel_stride;
      for (int64_t dh = 0; dh < p.kernel_h; ++dh, dst += p.kernel_w) {
        const int64_t hi = hi0 + dh;
        if (hi < 0 || hi >= up_height) {
          std::fill(dst, dst + p.kernel_w, 0.0f);
          continue;
        }
        const float* src_row = src + (hi / up) * width;
        if (w_contiguous) {
          std::memcpy(dst, src_row + wi0, static_cast<size_t>(p.kernel_w) * sizeof(float));
          continue;
        }
        for (int64_t dw = 0; dw < p.kernel_w; ++dw) {
          const int64_t wi = wi0 + dw;
          dst[dw] = (wi >= 0 && wi < up_width) ? src_row[wi / up] : 0.0f;
        }
      }
    }
  }
}

// Pixels [p_begin, p_begin + n) of the flattened (t, ho, wo) output into cols [n, k].
void gather_band(const ConvFrame* frames, int64_t height, int64_t width, const Conv3dParams& p,
                 const OutGeometry& out, int64_t p_begin, int64_t n, float* cols, ThreadPool& pool) {
  const int64_t k = p.k();
  pool.parallel_for(n, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) {
      const int64_t pixel = p_begin + j;
      const int64_t t = pixel / out.pixels_per_frame();
      const int64_t rem = pixel % out.pixels_per_frame();
      gather_row(frames, height, width, p, t, rem / out.w, rem % out.w, cols + j * k);
    }
  });
}

// y [c_out, n] (+ bias) into out [c_out, T_out * H_out * W_out] at pixel offset p_begin.
void scatter_band(const float* y, const float* bias, int64_t c_out, int64_t n, int64_t total_pixels, int64_t p_begin,
                  float* out, ThreadPool& pool) {
  pool.parallel_for(c_out, [&](int64_t begin, int64_t end) {
    for (int64_t co = begin; co < end; ++co) {
      const float* src = y + co * n;
      float* dst = out + co * total_pixels + p_begin;
      const float b = bias != nullptr ? bias[co] : 0.0f;
      for (int64_t j = 0; j < n; ++j) dst[j] = src[j] + b;
    }
  });
}

// Tile path: the band's bf16 B strips (16 pixels each) stay within ConvScratch::tile_band_budget_bytes
// (16 MiB: a strip of k = 384 * 27 is 648 KiB in hi + lo planes, so ~25 strips), but each thread
// gets at least kMinBandStripsPerThread.
constexpr int64_t kMinBandStripsPerThread = 2;

Bf16Products products_of(ConvTileMode mode) {
  switch (mode) {
    case ConvTileMode::kX1: return Bf16Products::kX1;
    case ConvTileMode::kX2: return Bf16Products::kX2;
    default: return Bf16Products::kX3;
  }
}

uint16_t* align64(uint16_t* p) {
  return reinterpret_cast<uint16_t*>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t{63});
}

// The im2col columns of 16 output pixels, k-major: staged[i * 16 + j] = element i (the weight's K
// order ci * kvol + (dt * kh + dh) * kw + dw) of pixel first + j; pixels j >= n_valid are zero.
// When the 16 pixels are one run of an output row (stride_w 1), each (ci, dt, dh, dw) reads 16
// neighbouring input values (an upsampled frame: 8, each twice), so the copy is a short loop the
// compiler vectorizes; otherwise each element is located on its own.
void gather_strip(const ConvFrame* frames, int64_t height, int64_t width, const Conv3dParams& p, const OutGeometry& og,
                  int64_t first, int64_t n_valid, float* staged) {
  const int64_t kvol = p.kernel_volume();
  const int64_t up = p.upsample, up_height = height * up, up_width = width * up;
  int64_t t[16], ho[16], wo[16];
  for (int64_t j = 0; j < 16; ++j) {
    const int64_t pixel = first + std::min(j, n_valid - 1);
    t[j] = pixel / og.pixels_per_frame();
    const int64_t rem = pixel % og.pixels_per_frame();
    ho[j] = rem / og.w;
    wo[j] = rem % og.w;
  }
  const bool one_row = n_valid == 16 && t[0] == t[15] && ho[0] == ho[15] && wo[15] == wo[0] + 15 && p.stride_w == 1;
  for (int64_t ci = 0; ci < p.c_in; ++ci) {
    for (int64_t dt = 0; dt < p.kernel_t; ++dt) {
      for (int64_t dh = 0; dh < p.kernel_h; ++dh) {
        float* dst = staged + (ci * kvol + (dt * p.kernel_h + dh) * p.kernel_w) * 16;
        if (one_row) {
          const ConvFrame& frame = frames[t[0] * p.stride_t + dt];
          const int64_t hi = ho[0] * p.stride_h - p.pad_top + dh;
          if (frame.data == nullptr || hi < 0 || hi >= up_height) {
            std::fill(dst, dst + 16 * p.kernel_w, 0.0f);
            continue;
          }
          const float* src = frame.data + ci * frame.channel_stride + (hi / up) * width;
          // The strips two and three ahead in this row read the next lines of the same input rows:
          // each strip touches c_in * kt * kh rows, too many streams for the hardware prefetcher.
          const int64_t ahead = (wo[0] + 32) / up;
          if (ahead < width) __builtin_prefetch(src + ahead);
          if (ahead + 16 < width) __builtin_prefetch(src + ahead + 16);
          for (int64_t dw = 0; dw < p.kernel_w; ++dw, dst += 16) {
            const int64_t w0 = wo[0] - p.pad_left + dw;  // upsampled column of pixel 0
            if (up == 1 && w0 >= 0 && w0 + 16 <= width) {
              std::memcpy(dst, src + w0, 16 * sizeof(float));
            } else if (up == 2) {
              for (int64_t j = 0; j < 16; ++j) {
                const int64_t wi = w0 + j;
                dst[j] = (wi >= 0 && wi < up_width) ? src[wi >> 1] : 0.0f;
              }
            } else {
              for (int64_t j = 0; j < 16; ++j) {
                const int64_t wi = w0 + j;
                dst[j] = (wi >= 0 && wi < up_width) ? src[wi / up] : 0.0f;
              }
            }
          }
          continue;
        }
        for (int64_t dw = 0; dw < p.kernel_w; ++dw, dst += 16) {
          for (int64_t j = 0; j < 16; ++j) {
            const ConvFrame& frame = frames[t[j] * p.stride_t + dt];
            const int64_t hi = ho[j] * p.stride_h - p.pad_top + dh;
            const int64_t wi = wo[j] * p.stride_w - p.pad_left + dw;
            const bool inside = j < n_valid && frame.data != nullptr && hi >= 0 && hi < up_height && wi >= 0 &&
                                wi < up_width;
            dst[j] = inside ? frame.data[ci * frame.channel_stride + (hi / up) * width + wi / up] : 0.0f;
          }
        }
      }
    }
  }
}

// The tile path: per band, each thread gathers its own 16-pixel strips (k-major) and splits them
// into bf16 B strips, then multiplies the packed weight (A: the output channels) with them; the
// kernel writes out[c_out, pixels] (+ bias) row by row.
void conv3d_tiles(const ConvFrame* frames, int64_t height, int64_t width, const Conv3dParams& p, const OutGeometry& og,
                  const ConvTileWeights& tiles, ConvTileMode mode, const float* bias, float* out, ThreadPool& pool,
                  ConvScratch& scratch) {
  const Bf16TileGemm& kt = *kernels().bf16_tile_gemm;
  const Bf16Products products = products_of(mode);
  const int b_planes = products == Bf16Products::kX1 ? 1 : 2;
  const int64_t k = p.k(), k_pad = tiles.k_pad();
  const int64_t strip_elems = bf16_tile_b_strip_elems(k_pad, b_planes);
  const int64_t total = og.pixels();
  const int64_t total_strips = (total + 15) / 16;
  const int64_t strip_bytes = strip_elems * static_cast<int64_t>(sizeof(uint16_t));
  const int64_t band_strips = std::min(
      total_strips, std::max(kMinBandStripsPerThread * pool.num_threads(), scratch.tile_band_budget_bytes / strip_bytes));
  scratch.tile_b.resize(static_cast<size_t>(band_strips * strip_elems + 32));
  uint16_t* b = align64(scratch.tile_b.data());
  for (int64_t p_begin = 0; p_begin < total; p_begin += band_strips * 16) {
    const int64_t n = std::min(band_strips * 16, total - p_begin);
    pool.parallel_for((n + 15) / 16, [&](int64_t begin, int64_t end) {
      thread_local std::vector<float> staged;  // [k][16]
      staged.resize(static_cast<size_t>(k * 16));
      for (int64_t s = begin; s < end; ++s) {
        gather_strip(frames, height, width, p, og, p_begin + s * 16, std::min<int64_t>(16, n - s * 16), staged.data());
        uint16_t* hi = b + s * strip_elems;
        kt.split_strip(staged.data(), k, k_pad, hi, b_planes == 2 ? hi + k_pad * 16 : nullptr);
      }
      Bf16TileGemmArgs args;
      args.k_pad = k_pad;
      args.a_hi = tiles.hi();
      args.a_lo = tiles.lo();
      args.row_tile_begin = 0;
      args.row_tile_end = (p.c_out + 15) / 16;
      args.n_rows = p.c_out;
      args.b = b;
      args.b_planes = b_planes;
      args.col_strip_begin = begin;
      args.col_strip_end = end;
      args.n_cols = n;
      args.products = products;
      args.out = out + p_begin;
      args.out_row_stride = total;
      args.bias = bias;
      kt.gemm(args);
    });
  }
}

ConvTileMode initial_conv_tile_mode() {
  const char* env = std::getenv("FRUGAL_AMX_VAE");
  if (env == nullptr || *env == '\0') return ConvTileMode::kX3;
  const std::string_view v(env);
  for (ConvTileMode mode : {ConvTileMode::kOff, ConvTileMode::kX1, ConvTileMode::kX2, ConvTileMode::kX3}) {
    if (v == conv_tile_mode_name(mode)) return mode;
  }
  log_warn("FRUGAL_AMX_VAE=" + std::string(v) + " is not one of off|x1|x2|x3; using x3");
  return ConvTileMode::kX3;
}

std::atomic<ConvTileMode>& conv_tile_mode_state() {
  static std::atomic<ConvTileMode> mode{initial_conv_tile_mode()};
  return mode;
}

}  // namespace

ConvTileMode conv_tile_mode() { return conv_tile_mode_state().load(std::memory_order_relaxed); }
void set_conv_tile_mode(ConvTileMode mode) { conv_tile_mode_state().store(mode, std::memory_order_relaxed); }
ConvTileMode conv_tile_mode_in_effect() {
  return kernels().bf16_tile_gemm != nullptr ? conv_tile_mode() : ConvTileMode::kOff;
}

const char* conv_tile_mode_name(ConvTileMode mode) {
  switch (mode) {
    case ConvTileMode::kOff: return "off";
    case ConvTileMode::kX1: return "x1";
    case ConvTileMode::kX2: return "x2";
    case ConvTileMode::kX3: return "x3";
  }
  return "off";
}

int64_t conv_tile_weight_bytes(const Conv3dParams& params, ConvTileMode mode) {
  if (mode == ConvTileMode::kOff) return 0;
  const int planes = mode == ConvTileMode::kX3 ? 2 : 1;
  return (planes * bf16_tile_round16(params.c_out) * bf16_tile_k_pad(params.k()) + 32) *
         static_cast<int64_t>(sizeof(uint16_t));
}

ConvTileWeights pack_conv_tiles(const TensorView& weight, const Conv3dParams& params, ConvTileMode mode,
                                ThreadPool* pool) {
  ConvTileWeights packed;
  const Bf16TileGemm* kt = kernels().bf16_tile_gemm;
  if (mode == ConvTileMode::kOff || kt == nullptr) return packed;
  CHECK(weight.dtype == DType::kF32 && weight.data != nullptr, "pack_conv_tiles: weights must be f32");
  CHECK(weight.ne[0] == params.k() && weight.num_rows() == params.c_out, "pack_conv_tiles: weight shape");
  const int64_t k = params.k(), k_pad = bf16_tile_k_pad(k);
  packed.planes_ = mode == ConvTileMode::kX3 ? 2 : 1;
  packed.k_pad_ = k_pad;
  packed.c_out_ = params.c_out;
  packed.plane_elems_ = bf16_tile_round16(params.c_out) * k_pad;
  packed.storage_.resize(static_cast<size_t>(conv_tile_weight_bytes(params, mode) / 2));  // zero: padding rows
  packed.offset_ = static_cast<size_t>(align64(packed.storage_.data()) - packed.storage_.data());
  const auto* w = static_cast<const float*>(weight.data);
  uint16_t* hi = packed.storage_.data() + packed.offset_;
  uint16_t* lo = packed.planes_ == 2 ? hi + packed.plane_elems_ : nullptr;
  auto pack_rows = [&](int64_t begin, int64_t end) {
    for (int64_t co = begin; co < end; ++co) kt->split_row(w + co * k, k, k_pad, co, hi, lo);
  };
  if (pool != nullptr) {
    pool->parallel_for(params.c_out, pack_rows);
  } else {
    pack_rows(0, params.c_out);
  }
  return packed;
}

int64_t ConvScratch::capacity_bytes() const {
  return static_cast<int64_t>((cols.capacity() + y.capacity()) * sizeof(float) + matmul.act_bytes.capacity() +
                              matmul.row_f32.capacity() * sizeof(float) + tile_b.capacity() * sizeof(uint16_t));
}

int64_t conv_out_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad_begin, int64_t pad_end) {
  const int64_t padded = in + pad_begin + pad_end;
  if (padded < kernel) return 0;
  return (padded - kernel) / stride + 1;
}

void conv3d_frames(const ConvFrame* frames, int64_t n_frames, int64_t height, int64_t width, const Conv3dParams& params,
                   const TensorView& weight, const float* bias, float* out, ThreadPool& pool, ConvScratch& scratch,
                   const ConvTileWeights* tiles) {
  const Conv3dParams& p = params;
  CHECK(p.c_in > 0 && p.c_out > 0 && p.kernel_t > 0 && p.kernel_h > 0 && p.kernel_w > 0, "conv3d: empty geometry");
  CHECK(p.stride_t > 0 && p.stride_h > 0 && p.stride_w > 0 && p.upsample > 0, "conv3d: strides must be positive");
  CHECK(weight.dtype == DType::kF32 && weight.packed == nullptr, "conv3d: weights must be unpacked f32");
  CHECK(weight.ne[0] == p.k() && weight.num_rows() == p.c_out, "conv3d: weight is not [c_out, c_in * kt * kh * kw]");
  OutGeometry og;
  og.t = conv_out_size(n_frames, p.kernel_t, p.stride_t, 0, 0);
  og.h = conv_out_size(height * p.upsample, p.kernel_h, p.stride_h, p.pad_top, p.pad_bottom);
  og.w = conv_out_size(width * p.upsample, p.kernel_w, p.stride_w, p.pad_left, p.pad_right);
  CHECK(og.t > 0 && og.h > 0 && og.w > 0, "conv3d: input smaller than the kernel");

  const ConvTileMode mode = tiles != nullptr && !tiles->empty() ? conv_tile_mode_in_effect() : ConvTileMode::kOff;
  if (mode != ConvTileMode::kOff && (mode != ConvTileMode::kX3 || tiles->planes() == 2)) {
    CHECK(tiles->c_out() == p.c_out && tiles->k_pad() == bf16_tile_k_pad(p.k()), "conv3d: tile weight shape");
    conv3d_tiles(frames, height, width, p, og, *tiles, mode, bias, out, pool, scratch);
    return;
  }

  const int64_t k = p.k();
  const int64_t total = og.pixels();
  const int64_t min_band = kMinBandRowsPerThread * pool.num_threads();
  const int64_t band = std::min(total, std::max(min_band, kColsBudgetBytes / (k * static_cast<int64_t>(sizeof(float)))));
  scratch.cols.resize(static_cast<size_t>(band * k));
  scratch.y.resize(static_cast<size_t>(band * p.c_out));
  const auto* w = static_cast<const float*>(weight.data);
  for (int64_t p_begin = 0; p_begin < total; p_begin += band) {
    const int64_t n = std::min(band, total - p_begin);
    gather_band(frames, height, width, p, og, p_begin, n, scratch.cols.data(), pool);
    TensorView cols;
    cols.dtype = DType::kF32;
    cols.n_dims = 2;
    cols.ne = {k, n, 1, 1};
    cols.data = scratch.cols.data();
    // y[co, j] = sum_i cols[j, i] * w[co, i]: the band is the matrix, the weight rows the tokens.
    matmul(cols, w, p.c_out, scratch.y.data(), pool, scratch.matmul);
    scatter_band(scratch.y.data(), bias, p.c_out, n, total, p_begin, out, pool);
  }
}

void conv3d(const float* x, int64_t frames, int64_t height, int64_t width, int64_t pad_front, int64_t pad_back,
            const Conv3dParams& params, const TensorView& weight, const float* bias, float* out, ThreadPool& pool,
            ConvScratch& scratch, const ConvTileWeights* tiles) {
  CHECK(frames >= 0 && pad_front >= 0 && pad_back >= 0, "conv3d: negative frame count or padding");
  const int64_t plane = height * width;
  std::vector<ConvFrame> list(static_cast<size_t>(pad_front + frames + pad_back));  // null = zero frame
  for (int64_t t = 0; t < frames; ++t) {
    list[static_cast<size_t>(pad_front + t)] = ConvFrame{x + t * plane, frames * plane};
  }
  conv3d_frames(list.data(), static_cast<int64_t>(list.size()), height, width, params, weight, bias, out, pool,
                scratch, tiles);
}

}  // namespace frugal

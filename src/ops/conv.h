// 3D convolution over channel-first f32 frames (ops layer): PyTorch Conv3d arithmetic with explicit,
// possibly asymmetric spatial padding. 2D convolutions are kernel_t = 1, a 1x1x1 convolution is a
// plain channel mix. Time padding is not a parameter: the caller lists the input frames one by one
// (ConvFrame), so causal front padding (null frames) and frames cached from a previous chunk are
// supplied without copying the activations into one padded buffer.
//
// Central idea: im2col + ops::matmul. A band of output pixels is gathered into rows
// cols[pixel, c_in * kt * kh * kw] (the K order of a PyTorch weight [c_out, c_in, kt, kh, kw]), and
// y[c_out, pixel] = sum_k cols[pixel, k] * weight[c_out, k] is ONE ops::matmul call in which the
// band plays the matrix and the weight rows play the tokens. The matmul splits its matrix rows
// (the pixels) across the threads, so every convolution parallelizes over its output pixels even
// when c_out is 3, and y comes out channel-first, ready to copy into [C_out, T, H, W]. The band is
// sized by a byte budget, so scratch does not grow with the frame count or the frame size.
// Where the CPU grants AMX-BF16 tiles the same band runs as a bf16-split tile GEMM instead: the
// weight packed once as the A operand (ConvTileWeights below), the band gathered 16 pixels at a time
// k-major and split into B strips, the output channels x pixels tiles stored straight into out.
// Backend-neutral: sees only TensorView, the thread pool, ops::matmul and the kernel table.
#pragma once

#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "ops/matmul.h"
#include "tensor/tensor_view.h"

namespace frugal {

// Geometry of one convolution. Output size per axis: (in * upsample + pad_begin + pad_end - kernel) / stride + 1
// (time: (n_frames - kernel_t) / stride_t + 1, the frames already include any padding).
struct Conv3dParams {
  int64_t c_in = 0;
  int64_t c_out = 0;
  int64_t kernel_t = 1, kernel_h = 1, kernel_w = 1;
  int64_t stride_t = 1, stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_bottom = 0;  // zero rows added above / below each frame
  int64_t pad_left = 0, pad_right = 0;  // zero columns added left / right of each frame
  // Nearest-neighbour upsampling of each input frame before the convolution (1: none): a stored
  // [C, H, W] frame is read as [C, H * upsample, W * upsample] without materializing it (the Wan
  // decoder's Upsample(x2) + Conv2d, whose upsampled input would be 4x the activation).
  int64_t upsample = 1;

  int64_t kernel_volume() const { return kernel_t * kernel_h * kernel_w; }
  int64_t k() const { return c_in * kernel_volume(); }  // weight row length
};

// One input frame [C_in, H, W]: element (c, h, w) is data[c * channel_stride + h * W + w].
// data == nullptr is an all-zero frame (causal padding). A frame t of a [C, T, H, W] tensor x is
// {x + t * H * W, T * H * W}; a standalone cached frame [C, H, W] is {cache, H * W}.
struct ConvFrame {
  const float* data = nullptr;
  int64_t channel_stride = 0;
};

// The convolutions' arithmetic where the CPU grants AMX-BF16 tiles (KernelTable::bf16_tile_gemm;
// kernels/bf16_tile_gemm.h): the im2col rows and the weight rows split into bf16 hi + lo and
//   kX3: Ah·Wh + Ah·Wl + Al·Wh   (three tile products; ~2^-16 relative per product, the default)
//   kX2: Ah·Wh + Al·Wh           (two; the weights rounded to bf16)
//   kX1: Ah·Wh                   (one; both operands rounded to bf16)
// kOff: im2col + ops::matmul in f32, bit for bit what the convolution computes without tiles (also
// what every mode falls back to where the table has no tiles or no packed weight is passed).
// FRUGAL_AMX_VAE=off|x1|x2|x3 sets the mode at start; set_conv_tile_mode changes it (tests, benchmarks).
enum class ConvTileMode { kOff, kX1, kX2, kX3 };
ConvTileMode conv_tile_mode();
void set_conv_tile_mode(ConvTileMode mode);
// conv_tile_mode(), or kOff where the kernel table in use has no bf16 tiles.
ConvTileMode conv_tile_mode_in_effect();
const char* conv_tile_mode_name(ConvTileMode mode);

// A convolution weight re-laid out for the tile path: the A planes of kernels/bf16_tile_gemm.h
// (output channels as rows, padded to 16; the hi plane, and the lo plane for kX3), 64-byte aligned.
// Movable; empty = no tile path.
class ConvTileWeights {
 public:
  bool empty() const { return storage_.empty(); }
  int planes() const { return planes_; }
  int64_t k_pad() const { return k_pad_; }
  int64_t c_out() const { return c_out_; }
  const uint16_t* hi() const { return storage_.data() + offset_; }
  const uint16_t* lo() const { return planes_ == 2 ? hi() + plane_elems_ : nullptr; }
  int64_t bytes() const { return static_cast<int64_t>(storage_.size() * sizeof(uint16_t)); }

 private:
  friend ConvTileWeights pack_conv_tiles(const TensorView&, const Conv3dParams&, ConvTileMode, ThreadPool*);
  std::vector<uint16_t> storage_;
  size_t offset_ = 0;  // elements to the first 64-byte boundary
  int planes_ = 0;
  int64_t k_pad_ = 0, c_out_ = 0, plane_elems_ = 0;
};

// weight [c_out, k] f32 packed for `mode` (empty for kOff or where the table has no tiles); the
// strips are split across `pool`'s threads when given.
ConvTileWeights pack_conv_tiles(const TensorView& weight, const Conv3dParams& params, ConvTileMode mode,
                                ThreadPool* pool = nullptr);
// What pack_conv_tiles holds for this geometry under `mode` (0 for kOff), for memory planning.
int64_t conv_tile_weight_bytes(const Conv3dParams& params, ConvTileMode mode);

// Reusable buffers of the convolutions run on one compute thread. Sizes are bounded by the band
// budget (conv.cc), independent of frame count and frame size.
struct ConvScratch {
  std::vector<float> cols;   // [band_pixels, k]
  std::vector<float> y;      // [c_out, band_pixels]
  MatmulScratch matmul;
  std::vector<uint16_t> tile_b;  // tile path: the band's im2col columns as bf16 B strips (hi, lo)
  // Tile path: bytes of B strips per band (the band is at least 2 strips per thread whatever this
  // says; tests lower it to run several bands).
  int64_t tile_band_budget_bytes = int64_t{16} << 20;
  int64_t capacity_bytes() const;
};

// Output extent along one axis: (in + pad_begin + pad_end - kernel) / stride + 1, or 0 when the
// padded input is shorter than the kernel.
int64_t conv_out_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad_begin, int64_t pad_end);

// out[co, t, ho, wo] = bias[co] + sum_{ci, dt, dh, dw} weight[co, ci, dt, dh, dw]
//                      * up(t * stride_t + dt)[ci, ho * stride_h - pad_top + dh, wo * stride_w - pad_left + dw]
// where up(f)[c, i, j] = frame f[c, i / upsample, j / upsample] (zero outside the upsampled frame).
//   frames: n_frames inputs, each stored as [c_in, height, width]; T_out = (n_frames - kernel_t) / stride_t + 1 >= 1
//   weight: [c_out, c_in * kt * kh * kw] f32 (ne = {k, c_out}), not packed: a MatrixWeight loaded as kF32
//   bias:   [c_out] or null
//   out:    [c_out, T_out, H_out, W_out] contiguous (sizes from height * upsample, width * upsample);
//           must not alias any input frame
//   tiles:  the same weight from pack_conv_tiles, or null: with it, the convolution runs on bf16
//           tiles when conv_tile_mode_in_effect() != kOff (kX3 needs a weight packed for kX3)
void conv3d_frames(const ConvFrame* frames, int64_t n_frames, int64_t height, int64_t width, const Conv3dParams& params,
                   const TensorView& weight, const float* bias, float* out, ThreadPool& pool, ConvScratch& scratch,
                   const ConvTileWeights* tiles = nullptr);

// The same over a contiguous x [c_in, T, height, width] with pad_front / pad_back zero frames.
void conv3d(const float* x, int64_t frames, int64_t height, int64_t width, int64_t pad_front, int64_t pad_back,
            const Conv3dParams& params, const TensorView& weight, const float* bias, float* out, ThreadPool& pool,
            ConvScratch& scratch, const ConvTileWeights* tiles = nullptr);

}  // namespace frugal

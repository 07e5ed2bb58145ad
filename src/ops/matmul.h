// Matrix multiplication of a weight matrix with a batch of activation rows (ops layer).
// Backend-neutral: sees only TensorView, DType and the kernel table.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/thread_pool.h"
#include "tensor/tensor_view.h"

namespace frugal {

// Which arithmetic a matmul uses.
enum class MatmulPath {
  kFast,       // activations converted to the weight type's activation format, ISA kernels (llama.cpp's numerics)
  kReference,  // weights dequantized to f32, f32 activations, plain scalar loop with double accumulation
};

// Reusable scratch for quantized activations; one per compute thread context.
struct MatmulScratch {
  std::vector<uint8_t> act_bytes;      // [n_tokens, act_row_bytes] of the first activation format
  std::vector<uint8_t> act_bytes_alt;  // matmul_multi: a second activation format (e.g. Q8_0 and Q8_K)
  std::vector<float> row_f32;  // reference path: one dequantized weight row per thread
  std::vector<int32_t> act_block_sums;  // packed weights: per token and block (Q8_0) or group (Q8_K), sum of levels
  std::vector<float> act_block_scales;  // ... and d as f32
  std::vector<int32_t> act_block_sums_alt;  // the same for act_bytes_alt
  std::vector<float> act_block_scales_alt;
  std::vector<uint16_t> act_bf16;  // packed F16 on AMX-BF16: bf16 hi then lo planes (kernel_table.h)
  // Set by callers that do not need batch-invariant outputs (the video DiT): packed F16 prefill
  // may then run on AMX-BF16 tiles where granted (AmxF16Mode::kAuto; kernels/kernel_table.h).
  bool tile_f16 = false;
  std::vector<int8_t> act_i8;        // tile-Q8 weights: int8 A tiles (KernelTable::tile_q8_quantize)
  std::vector<float> act_i8_scales;  // ... and their per-group, per-token scales
};

// Owns the re-laid-out copies made by pack_for_kernels (64-byte aligned buffers).
class PackedWeights {
 public:
  uint8_t* allocate(int64_t bytes);

 private:
  struct Free {
    void operator()(uint8_t* p) const;
  };
  std::vector<std::unique_ptr<uint8_t, Free>> buffers_;
};

// When the kernel table in use has a faster packed layout for w's dtype, re-lays out w's rows into
// `storage` and sets w.packed (matmuls then read only the packed copy). Otherwise leaves w as is.
// Results: the kernels' arithmetic on packed weights is the same for every batch size.
// tiles: the caller accepts re-quantized Q8_0 weights (the video DiT): where the table runs tile-Q8
// (AMX-INT8) and amx_q8_group() is not kAmxQ8Off, a Q8_0 matrix is packed in the tile-Q8 layout
// instead (w.packed_tile_group set; kernels/tile_q8_layout.h), which every later matmul of it uses.
// Returns the bytes the packed copy holds (0: not packed).
int64_t pack_for_kernels(TensorView& w, PackedWeights& storage, bool tiles = false);

// y[t, r] = sum_i w[r, i] * x[t, i]
//   w: [n_out, k] (ne = {k, n_out}), any supported dtype
//   x: [n_tokens, k] f32, row-major
//   y: [n_tokens, n_out] f32, row-major
void matmul(const TensorView& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool,
            MatmulScratch& scratch, MatmulPath path = MatmulPath::kFast);

// One weight of a matmul_multi call: y = w · x.
struct MatmulTarget {
  const TensorView* w = nullptr;  // [n_out, k]
  float* y = nullptr;             // [n_tokens, n_out]
};

// Several weights sharing one input (Q/K/V; gate/up): y_i[t, r] = sum_j w_i[r, j] * x[t, j].
// The activations are converted once per activation format, and the rows of ALL weights are split
// across the threads in one parallel region, balanced by weight bytes. Every output equals what
// matmul() computes for that weight alone (bitwise). All weights must share k = x's row length.
//   x: [n_tokens, k] f32, row-major
void matmul_multi(const MatmulTarget* targets, int n_targets, const float* x, int64_t n_tokens, ThreadPool& pool,
                  MatmulScratch& scratch, MatmulPath path = MatmulPath::kFast);

// Dequantizes rows `ids` of an embedding table [n_rows, k] into out [ids.size(), k] (exact, f32).
void get_rows(const TensorView& table, const int32_t* ids, int64_t n_ids, float* out);

}  // namespace frugal

// KernelTable: the only dispatch surface between ops and per-ISA kernels (kernels layer).
// One table of plain function pointers per ISA; each ISA directory fills its table in a TU
// compiled with that ISA's flags. An entry an ISA does not implement falls back to ref/.
// Numerics follow llama.cpp's CPU backend: a weight row of type W is dotted with activations
// quantized to activation_dtype(W) (Q8_0 for Q4_0/Q5_0/Q8_0, Q8_K for K-quants, F16 for F16,
// BF16 for BF16, F32 for F32).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "kernels/bf16_tile_gemm.h"
#include "kernels/fma_probe.h"
#include "tensor/dtype.h"

namespace frugal {

enum class Isa { kRef, kAvx2, kAvx512, kAmx };
std::string_view isa_name(Isa isa);

// y[token, row] = dot(W[row, :], X[token, :]) for row in [row_begin, row_end), token in [0, n_tokens).
struct MulMatArgs {
  int64_t k = 0;                 // contraction length (elements per row)
  const void* weights = nullptr; // W: [n_rows, k] in weight dtype, rows contiguous
  int64_t weight_row_bytes = 0;
  int64_t row_begin = 0;
  int64_t row_end = 0;
  const void* acts = nullptr;    // X: [n_tokens, k] in activation_dtype(weight dtype)
  int64_t act_row_bytes = 0;
  int64_t n_tokens = 0;
  float* out = nullptr;          // Y: [n_tokens, out_row_stride] f32
  int64_t out_row_stride = 0;    // floats between consecutive tokens' outputs
  // mul_mat_packed only, block-major (a block's n_tokens values adjacent):
  //   Q8_0 activations: per 32-element block and token, the sum of the int8 levels and d as f32,
  //                     [k / 32, n_tokens] each (q8_0_block_sums);
  //   Q8_K activations: per 16-element group the sum of the levels, [k / 16, n_tokens], and per
  //                     256-element block d, [k / 256, n_tokens] (q8_k_block_sums).
  const int32_t* act_block_sums = nullptr;
  const float* act_block_scales = nullptr;
  // mul_mat_packed for F16 weights on a table with split_bf16 only: when act_bf16_hi is set, the
  // activations are these bf16 planes (split_bf16's tile order, n_tokens rounded up to 16 with zero
  // padding rows, k % 32 == 0) instead of `acts`, and the product runs on AMX-BF16 tiles: bf16x3 with act_bf16_lo,
  // bf16x1 without (ref/ref_bf16_split.h).
  const uint16_t* act_bf16_hi = nullptr;
  const uint16_t* act_bf16_lo = nullptr;
  // KernelTable::tile_q8_mul_mat only (kernels/tile_q8_layout.h): weights in the tile-Q8 layout with
  // tile_group elements per scale group; activations as tile_q8_quantize's int8 A tiles (n_tokens
  // rounded up to 16 with zero padding tokens) and scales [n_groups][n_tokens rounded up to 16].
  int64_t tile_group = 0;
  const int8_t* act_i8 = nullptr;
  const float* act_i8_scales = nullptr;
};

// Arguments of a one-row, one-token mul_mat: how ISA tables express vec_dot through their tiles.
inline MulMatArgs single_dot_args(int64_t k, const void* w_row, const void* act_row, float* out) {
  MulMatArgs args;
  args.k = k;
  args.weights = w_row;
  args.row_end = 1;
  args.acts = act_row;
  args.n_tokens = 1;
  args.out = out;
  args.out_row_stride = 1;
  return args;
}

struct KernelTable {
  using QuantizeRowFn = void (*)(const float* x, void* y, int64_t k);     // x[k] -> y (k % block == 0)
  using DequantizeRowFn = void (*)(const void* x, float* y, int64_t k);   // x -> y[k]
  using VecDotFn = float (*)(int64_t k, const void* w_row, const void* act_row);
  using MulMatFn = void (*)(DType weight_dtype, const MulMatArgs& args);
  // Attention over one tile of n f32 K/V rows of dim floats each, row i at base + offsets[i], for
  // n_q queries q_j = q + j * dim sharing the rows (f32_vec.h):
  //   dot_rows:  scores[j * scores_stride + i] = scale * (q_j . row i)
  //   axpy_rows: acc[j * dim + :] += sum_{i < n_rows[j]} w[j * w_stride + i] * row i
  using DotRowsF32Fn = void (*)(const float* q, int64_t n_q, const float* base, const int64_t* offsets, int64_t n,
                                int64_t dim, float scale, float* scores, int64_t scores_stride);
  using AxpyRowsF32Fn = void (*)(const float* w, int64_t w_stride, const int64_t* n_rows, int64_t n_q,
                                 const float* base, const int64_t* offsets, int64_t dim, float* acc);
  // Tokens [t_begin, t_end) of x [n, k] f32 (k % 32 == 0) -> bf16 hi = bf16(x), lo = bf16(x - hi)
  // (nearest even; lo may be null) in tile order (ref::split_bf16_tiles: 16 tokens x 32 elements
  // per 1 KiB tile).
  using SplitBf16Fn = void (*)(const float* x, int64_t k, int64_t t_begin, int64_t t_end, uint16_t* hi, uint16_t* lo);
  // Softmax numerators: x[i] = exp(x[i] - shift) for i < n; returns their sum.
  using ExpShiftedFn = float (*)(float* x, int64_t n, float shift);
  // max_i x[i] over i < n (n >= 1; no NaN).
  using MaxF32Fn = float (*)(const float* x, int64_t n);
  // SwiGLU: gate[i] = silu(gate[i]) * up[i] = gate[i] / (1 + exp(-gate[i])) * up[i] for i < n.
  using SiluMulFn = void (*)(float* gate, const float* up, int64_t n);

  // Optional load-time weight re-layout: an ISA that has a faster kernel over its own layout for a
  // weight dtype sets packed_size / pack_rows for it; mul_mat_packed then takes args.weights =
  // the packed matrix (row_begin a multiple of kPackedRowGroup) and the act_block_* arrays.
  using PackedSizeFn = int64_t (*)(int64_t n_rows, int64_t k);                        // bytes
  using PackRowsFn = void (*)(const void* rows, int64_t n_rows, int64_t k, void* out);  // rows: [n_rows, k]

  Isa isa = Isa::kRef;
  std::array<QuantizeRowFn, kDTypeTableSize> quantize_row{};      // indexed by target dtype
  std::array<DequantizeRowFn, kDTypeTableSize> dequantize_row{};  // indexed by source dtype
  std::array<VecDotFn, kDTypeTableSize> vec_dot{};                // indexed by weight dtype
  MulMatFn mul_mat = nullptr;                                     // all weight dtypes
  std::array<PackedSizeFn, kDTypeTableSize> packed_size{};  // indexed by weight dtype; null: not packed
  std::array<PackRowsFn, kDTypeTableSize> pack_rows{};
  MulMatFn mul_mat_packed = nullptr;
  DotRowsF32Fn dot_rows_f32 = nullptr;    // attention scores: q . K rows of the f32 KV cache
  AxpyRowsF32Fn axpy_rows_f32 = nullptr;  // attention output: acc += weights . V rows
  // Element-wise exp users. ref: std::exp per element; x86: a vector exp within 2 ulp of it, with
  // the same arithmetic for every element wherever it sits in the array (batch invariance).
  ExpShiftedFn exp_shifted_f32 = nullptr;
  MaxF32Fn max_f32 = nullptr;  // the softmax shift (exact in any order)
  SiluMulFn silu_mul_f32 = nullptr;
  // Set only where the CPU grants AMX-BF16 tiles: packed F16 matmuls of kAmxF16MinTokens or more
  // tokens may then pass bf16 activation planes (MulMatArgs::act_bf16_*). Null: the FMA kernels.
  SplitBf16Fn split_bf16 = nullptr;
  // With split_bf16: a register-only AMX-BF16 loop of `iters` x 4 tile products; returns its FLOPs
  // (the bench times it for the tiles' peak).
  using TileProbeFn = int64_t (*)(int64_t iters);
  TileProbeFn amx_bf16_probe = nullptr;
  // Set only where the CPU grants AMX-BF16: f32 GEMMs through bf16 hi/lo splits on tiles (the VAE's
  // convolutions; kernels/bf16_tile_gemm.h). Null: the FMA kernels.
  const Bf16TileGemm* bf16_tile_gemm = nullptr;
  // Set only where the CPU grants AMX-INT8: Q8_0 matrices packed in the tile-Q8 layout (re-quantized
  // per row and scale group at load; kernels/tile_q8_layout.h) run on TDPBSSD tiles. The quantizer
  // writes tokens [t_begin, t_end) of x [n, k] as int8 A tiles + scales (tile_q8::quantize_acts,
  // bit for bit); the probe is a register-only TDPBSSD loop returning its int8 ops.
  using TileQ8QuantizeFn = void (*)(const float* x, int64_t k, int64_t group, int64_t t_begin, int64_t t_end,
                                    int8_t* q, float* scales, int64_t scale_stride);
  using TileQ8MulMatFn = void (*)(const MulMatArgs& args);
  TileQ8QuantizeFn tile_q8_quantize = nullptr;
  TileQ8MulMatFn tile_q8_mul_mat = nullptr;
  TileProbeFn amx_int8_probe = nullptr;
  FmaProbe fma_probe;  // peak-f32 FLOP/s probe loop at this ISA's vector width (engine/flops_probe)
};

// Packed matrices are cut into groups of this many rows (work splits respect it).
constexpr int64_t kPackedRowGroup = 16;

// Packed F16 prefill on AMX-BF16 tiles (tables with split_bf16), from kAmxF16MinTokens tokens and
// k % 32 == 0 (otherwise the FMA kernel runs). kX3: three bf16 products per element (error ~ F16
// rounding); kX1: one (bf16 rounding of weights and activations); kOff: never. kAuto (default):
// kX3 for callers that accept batch-dependent results (MatmulScratch::tile_f16: the video DiT),
// kOff for the rest (LLM serving promises batch-invariant outputs; the tiles sum in another order
// than the per-token FMA kernel). FRUGAL_AMX_F16=off|x1|x3 forces a mode for every caller;
// set_amx_f16_mode changes it (tests, benchmarks).
enum class AmxF16Mode { kAuto, kOff, kX1, kX3 };
constexpr int64_t kAmxF16MinTokens = 64;
AmxF16Mode amx_f16_mode();
void set_amx_f16_mode(AmxF16Mode mode);

// Tile-Q8 (AMX-INT8) prefill for Q8_0 weights (tables with tile_q8_mul_mat), for callers that ask
// for it at load (pack_for_kernels(..., tiles = true): the video DiT): the weights are re-quantized
// to one int8 scale per row and group of amx_q8_group() elements (kAmxQ8PerRow: the whole row), not
// llama.cpp's Q8_0 numerics, so LLM weights never take it. kAmxQ8Off: the packed VNNI kernel.
// FRUGAL_AMX_Q8=off|row|<group> (a multiple of 64) sets it for matrices loaded after start-up;
// set_amx_q8_group changes it for matrices packed later (tests, benchmarks).
constexpr int64_t kAmxQ8Off = -1;
constexpr int64_t kAmxQ8PerRow = 0;
int64_t amx_q8_group();
void set_amx_q8_group(int64_t group);

// The activation format a weight dtype's vec_dot consumes.
DType activation_dtype(DType weight_dtype);

// The table in use: FRUGAL_ISA=ref|avx2|avx512|amx if set (and supported by this CPU), else the
// best vector table the CPU supports (amx, AVX-512 plus AMX int8 tiles for packed Q4_K prefill,
// only when asked for). Chosen once, on first call.
const KernelTable& kernels();
// A specific ISA's table, or nullptr when it is not compiled in or this CPU lacks it (tests).
const KernelTable* kernels_for(Isa isa);
// Every ISA usable on this machine, ref first.
std::vector<Isa> available_isas();

}  // namespace frugal

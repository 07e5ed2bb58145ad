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
  using DotF32Fn = float (*)(const float* a, const float* b, int64_t n);        // sum a[i] * b[i]
  using AxpyF32Fn = void (*)(float alpha, const float* x, float* y, int64_t n);  // y += alpha * x

  Isa isa = Isa::kRef;
  std::array<QuantizeRowFn, kDTypeTableSize> quantize_row{};      // indexed by target dtype
  std::array<DequantizeRowFn, kDTypeTableSize> dequantize_row{};  // indexed by source dtype
  std::array<VecDotFn, kDTypeTableSize> vec_dot{};                // indexed by weight dtype
  MulMatFn mul_mat = nullptr;                                     // all weight dtypes
  DotF32Fn dot_f32 = nullptr;    // attention: q . k over the f32 KV cache
  AxpyF32Fn axpy_f32 = nullptr;  // attention: acc += w * v
  FmaProbe fma_probe;  // peak-f32 FLOP/s probe loop at this ISA's vector width (engine/flops_probe)
};

// The activation format a weight dtype's vec_dot consumes.
DType activation_dtype(DType weight_dtype);

// The table in use: FRUGAL_ISA=ref|avx2|avx512|amx if set (and supported by this CPU), else the
// best the CPU supports. Chosen once, on first call.
const KernelTable& kernels();
// A specific ISA's table, or nullptr when it is not compiled in or this CPU lacks it (tests).
const KernelTable* kernels_for(Isa isa);
// Every ISA usable on this machine, ref first.
std::vector<Isa> available_isas();

}  // namespace frugal

// Builds an x86 kernel table from the shared tile templates (kernels layer). Each ISA TU calls
// make_x86_table with its register-blocking shape; entries left null fall back to ref.
#pragma once

#include "core/check.h"
#include "kernels/kernel_table.h"
#include "kernels/x86_common/x86_exp.h"
#include "kernels/x86_common/x86_quantize.h"
#include "kernels/x86_common/x86_tiles.h"

namespace frugal::x86 {
namespace {

// kRows x kTokens output tile per inner step: kRows weight rows are unpacked once per block and
// reused for kTokens activation rows (the prefill win); decode (1 token) runs kRows x 1 tiles.
template <int kRows, int kTokens>
struct X86Kernels {
  template <typename U> struct Type0 {
    template <int R, int T> using Tile = Type0Tile<U, R, T>;
  };
  template <typename U> struct K {
    template <int R, int T> using Tile = KTile<U, R, T>;
  };
  template <typename L> struct Float {
    template <int R, int T> using Tile = FloatTile<L, R, T>;
  };

  static void mul_mat(DType weight_dtype, const MulMatArgs& args) {
    switch (weight_dtype) {
      case DType::kQ4_0: return blocked_mul_mat<Type0<Q4_0Simd>::template Tile, kRows, kTokens>(args);
      case DType::kQ5_0: return blocked_mul_mat<Type0<Q5_0Simd>::template Tile, kRows, kTokens>(args);
      case DType::kQ8_0: return blocked_mul_mat<Type0<Q8_0Simd>::template Tile, kRows, kTokens>(args);
      case DType::kQ4_K: return blocked_mul_mat<K<Q4_KSimd>::template Tile, kRows, kTokens>(args);
      case DType::kQ5_K: return blocked_mul_mat<K<Q5_KSimd>::template Tile, kRows, kTokens>(args);
      case DType::kQ6_K: return blocked_mul_mat<K<Q6_KSimd>::template Tile, kRows, kTokens>(args);
      case DType::kF32: return blocked_mul_mat<Float<F32Simd>::template Tile, kRows, kTokens>(args);
      case DType::kF16: return blocked_mul_mat<Float<F16Simd>::template Tile, kRows, kTokens>(args);
      case DType::kBF16: return blocked_mul_mat<Float<BF16Simd>::template Tile, kRows, kTokens>(args);
      default: CHECK(false, "mul_mat: unsupported weight dtype");
    }
  }

  static KernelTable make(Isa isa) {
    KernelTable t;
    t.isa = isa;
    auto slot = [](DType d) { return static_cast<size_t>(d); };
    t.quantize_row[slot(DType::kQ8_0)] = quantize_row_q8_0;
    t.quantize_row[slot(DType::kQ8_K)] = quantize_row_q8_k;
    t.quantize_row[slot(DType::kF16)] = quantize_row_f16;
    t.vec_dot[slot(DType::kQ4_0)] = tile_vec_dot<Type0<Q4_0Simd>::template Tile>;
    t.vec_dot[slot(DType::kQ5_0)] = tile_vec_dot<Type0<Q5_0Simd>::template Tile>;
    t.vec_dot[slot(DType::kQ8_0)] = tile_vec_dot<Type0<Q8_0Simd>::template Tile>;
    t.vec_dot[slot(DType::kQ4_K)] = tile_vec_dot<K<Q4_KSimd>::template Tile>;
    t.vec_dot[slot(DType::kQ5_K)] = tile_vec_dot<K<Q5_KSimd>::template Tile>;
    t.vec_dot[slot(DType::kQ6_K)] = tile_vec_dot<K<Q6_KSimd>::template Tile>;
    t.vec_dot[slot(DType::kF32)] = tile_vec_dot<Float<F32Simd>::template Tile>;
    t.vec_dot[slot(DType::kF16)] = tile_vec_dot<Float<F16Simd>::template Tile>;
    t.vec_dot[slot(DType::kBF16)] = tile_vec_dot<Float<BF16Simd>::template Tile>;
    t.mul_mat = mul_mat;
    t.exp_shifted_f32 = exp_shifted_x86;
    t.max_f32 = max_x86;
    t.silu_mul_f32 = silu_mul_x86;
    return t;
  }
};

}  // namespace
}  // namespace frugal::x86

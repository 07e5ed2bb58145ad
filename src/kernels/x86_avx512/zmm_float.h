// 512-bit F16 x F16 matmul (kernels layer): 16 halves per vcvtph2ps, f32 FMA. Ragged k is a
// masked (zero-filled) final step, so there is no scalar tail. Weights are prefetched two strips
// (2R rows) ahead, as in Type0Zmm. Included only by x86_avx512/ TUs.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/x86_avx512/zmm_common.h"

namespace frugal::x86 {
namespace {

// 16 f16 at p -> f32; kTail: only `n` (< 16) are readable, the rest read as 0.
template <bool kTail>
inline __m512 load_f16x16(const uint8_t* p, int64_t n) {
  if constexpr (kTail) return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(static_cast<__mmask16>((1u << n) - 1), p));
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

template <int R, int T, bool kTail>
inline void f16_step(const ZmmOperands& ops, int64_t row0, int64_t token0, int64_t i, int64_t n, __m512 (&acc)[R][T]) {
  __m512 w[R];
  for (int r = 0; r < R; ++r) {
    const uint8_t* p = ops.weight_row(row0 + r) + 2 * i;
    if constexpr (!kTail) _mm_prefetch(reinterpret_cast<const char*>(p + 2 * R * ops.args.weight_row_bytes), _MM_HINT_T0);
    w[r] = load_f16x16<kTail>(p, n);
  }
  for (int t = 0; t < T; ++t) {
    const __m512 x = load_f16x16<kTail>(ops.act_row(token0 + t) + 2 * i, n);
    for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(w[r], x, acc[r][t]);
  }
}

struct F16Zmm {
  template <int R, int T>
  struct Tile {
    static void run(const ZmmOperands& ops, int64_t row0, int64_t token0) {
      __m512 acc[R][T];
      for (int r = 0; r < R; ++r)
        for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
      const int64_t k = ops.args.k, k_main = k / 16 * 16;
      for (int64_t i = 0; i < k_main; i += 16) f16_step<R, T, false>(ops, row0, token0, i, 16, acc);
      if (k_main < k) f16_step<R, T, true>(ops, row0, token0, k_main, k - k_main, acc);
      for (int r = 0; r < R; ++r)
        for (int t = 0; t < T; ++t) ops.out(token0 + t, row0 + r) = _mm512_reduce_add_ps(acc[r][t]);
    }
  };

  static void mul_mat(const MulMatArgs& args) { mul_mat_tiles<Tile, 4, 4>(args); }
};

}  // namespace
}  // namespace frugal::x86

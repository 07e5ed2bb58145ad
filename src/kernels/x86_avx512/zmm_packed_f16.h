// 512-bit F16 matmul over row-interleaved ("packed") F16 weights (kernels layer).
//
// Packed layout (made once at load time by pack_rows_f16): rows are taken 16 at a time (a
// "strip"; the last strip is padded with zero rows). A strip stores, for each element i of the row
// in order, the 16 rows' halves w[r][i] (32 bytes): one vcvtph2ps gives 16 rows' weights for one
// element. Bytes per strip equal 16 original rows, so decode reads no more.
//
// Arithmetic (the same for every tile shape, so a token's result never depends on its batch):
// per (row r, token t) one f32 lane, acc = fma(w[r][i], a[t][i], acc) for i = 0 .. k-1 in order,
// where a[t][i] is the F16 activation converted exactly to f32. No horizontal reduction: lane r of
// accumulator t is the output. Every product is exact in f32 (11-bit x 11-bit mantissas).
// Tiles: S strips x T tokens (S*T <= 16 accumulators); per element the S weight vectors are
// converted once and used by T tokens (broadcast from an f32 copy of the activations). Decode
// (T = 1) runs 8 strips at once: 8 independent FMA chains and 8 sequential weight streams.
// Included only by the AVX-512 TU (anonymous namespace: see x86_common/x86_simd.h).
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/kernel_table.h"

namespace frugal::x86 {
namespace {

constexpr int64_t kF16StripRows = kPackedRowGroup;     // the table's row group
constexpr int64_t kF16ElemBytes = 2 * kF16StripRows;   // one element of 16 rows: 32 bytes
constexpr int64_t kF16PrefetchElems = 32;              // 1 KiB ahead in each strip
constexpr int64_t kF16TokenGroup = 8;                  // tokens whose f32 activations are live at once

inline int64_t packed_f16_size(int64_t n_rows, int64_t k) {
  return (n_rows + kF16StripRows - 1) / kF16StripRows * k * kF16ElemBytes;
}

// rows: [n_rows, k] f16 -> out: packed_f16_size(n_rows, k) bytes (byte access: rows need not be
// aligned).
inline void pack_rows_f16(const void* rows, int64_t n_rows, int64_t k, void* out) {
  const auto* src = static_cast<const uint8_t*>(rows);
  auto* dst = static_cast<uint8_t*>(out);
  for (int64_t s = 0; s * kF16StripRows < n_rows; ++s) {
    uint8_t* strip = dst + s * k * kF16ElemBytes;
    for (int64_t r = 0; r < kF16StripRows; ++r) {
      const int64_t row = s * kF16StripRows + r;
      for (int64_t i = 0; i < k; ++i) {
        uint8_t* slot = strip + i * kF16ElemBytes + 2 * r;
        if (row < n_rows) {
          std::memcpy(slot, src + (row * k + i) * 2, 2);
        } else {
          slot[0] = slot[1] = 0;
        }
      }
    }
  }
}

// S strips starting at row0 x T tokens: act[t] is token t's f32 activations [k].
template <int S, int T>
void packed_f16_tile(const MulMatArgs& args, const uint8_t* strips, int64_t strip_bytes, const float* act,
                     int64_t act_stride, int64_t row0, int64_t token0) {
  const int64_t k = args.k;
  __m512 acc[S][T];
  for (int s = 0; s < S; ++s)
    for (int t = 0; t < T; ++t) acc[s][t] = _mm512_setzero_ps();
  for (int64_t i = 0; i < k; ++i) {
    __m512 w[S];
#pragma GCC unroll 8
    for (int s = 0; s < S; ++s) {
      const uint8_t* p = strips + s * strip_bytes + i * kF16ElemBytes;
      if ((i & 1) == 0) _mm_prefetch(reinterpret_cast<const char*>(p + kF16PrefetchElems * kF16ElemBytes), _MM_HINT_T0);
      w[s] = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    }
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m512 a = _mm512_set1_ps(act[t * act_stride + i]);
#pragma GCC unroll 8
      for (int s = 0; s < S; ++s) acc[s][t] = _mm512_fmadd_ps(w[s], a, acc[s][t]);
    }
  }
  for (int s = 0; s < S; ++s) {
    const int64_t r0 = row0 + s * kF16StripRows;
    const int64_t rows = std::min<int64_t>(kF16StripRows, args.row_end - r0);
    const __mmask16 mask = static_cast<__mmask16>((1u << rows) - 1u);
    for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(args.out + (token0 + t) * args.out_row_stride + r0, mask, acc[s][t]);
  }
}

// Strips from row to row_end for T tokens: kS strips at a time, then the rest with kS / 2 (the
// remainder is below kS, so each halving runs at most once).
template <int T, int kS>
void packed_f16_strips(const MulMatArgs& args, int64_t row, int64_t strip_bytes, const float* act,
                       int64_t act_stride, int64_t token0) {
  const auto* base = static_cast<const uint8_t*>(args.weights);
  for (; row + (kS - 1) * kF16StripRows < args.row_end; row += kS * kF16StripRows) {
    packed_f16_tile<kS, T>(args, base + row / kF16StripRows * strip_bytes, strip_bytes, act, act_stride, row, token0);
  }
  if constexpr (kS > 1) packed_f16_strips<T, kS / 2>(args, row, strip_bytes, act, act_stride, token0);
}

// args.weights: the packed matrix; rows [row_begin, row_end) with row_begin a multiple of 16;
// args.acts: [n_tokens] F16 rows of k. Tokens are taken 8 at a time: their activations are
// converted to f32 once per call (k floats each, L1/L2-resident), then every strip of the call
// streams past them in one tile per strip group.
inline void packed_f16_mul_mat(const MulMatArgs& args) {
  const int64_t k = args.k;
  const int64_t strip_bytes = k * kF16ElemBytes;
  thread_local std::vector<float> act;  // grows only: no refill when calls alternate between k
  const auto needed = static_cast<size_t>(std::min(kF16TokenGroup, args.n_tokens) * k);
  if (act.size() < needed) act.resize(needed);
  for (int64_t t0 = 0; t0 < args.n_tokens; t0 += kF16TokenGroup) {
    const int64_t n = std::min(kF16TokenGroup, args.n_tokens - t0);
    for (int64_t t = 0; t < n; ++t) {
      const auto* src = static_cast<const uint8_t*>(args.acts) + (t0 + t) * args.act_row_bytes;
      float* dst = act.data() + t * k;
      int64_t i = 0;
      for (; i + 16 <= k; i += 16) {
        _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 2 * i))));
      }
      if (i < k) {
        const auto m = static_cast<__mmask16>((1u << (k - i)) - 1u);
        _mm512_mask_storeu_ps(dst + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, src + 2 * i)));
      }
    }
    switch (n) {
      case 1: packed_f16_strips<1, 8>(args, args.row_begin, strip_bytes, act.data(), k, t0); break;
      case 2: packed_f16_strips<2, 8>(args, args.row_begin, strip_bytes, act.data(), k, t0); break;
      case 3: packed_f16_strips<3, 4>(args, args.row_begin, strip_bytes, act.data(), k, t0); break;
      case 4: packed_f16_strips<4, 4>(args, args.row_begin, strip_bytes, act.data(), k, t0); break;
      case 5: packed_f16_strips<5, 2>(args, args.row_begin, strip_bytes, act.data(), k, t0); break;
      case 6: packed_f16_strips<6, 2>(args, args.row_begin, strip_bytes, act.data(), k, t0); break;
      case 7: packed_f16_strips<7, 2>(args, args.row_begin, strip_bytes, act.data(), k, t0); break;
      default: packed_f16_strips<8, 2>(args, args.row_begin, strip_bytes, act.data(), k, t0); break;
    }
  }
}

}  // namespace
}  // namespace frugal::x86

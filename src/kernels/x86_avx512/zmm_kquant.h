// 512-bit K-quant (Q4_K, Q6_K) x Q8_K matmul (kernels layer).
// Central idea: a 256-element super-block is four zmm of unsigned levels, unpacked in registers
// (never stored to L1). maddubs multiplies levels by the signed activations into int16 pairs and
// VNNI dpwssd multiplies those by the int16 group scales, accumulating in int32: the integer sum
// Σ_g scale_g Σ_i q_i a_i is exact, as in the reference. Mins use the activation block sums. Each
// format only says how to unpack its levels/scales and in which element order the activation
// vectors must be loaded. Included only by x86_avx512/ TUs (see x86_common/x86_simd.h).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/x86_avx512/zmm_common.h"
#include "quant/q4_k.h"
#include "quant/q6_k.h"
#include "quant/q8_k.h"

namespace frugal::x86 {
namespace {

// One super-block of one weight row, in registers.
struct KZmmWeights {
  __m512i q[4];      // unsigned levels, 64 per vector, in the order of the format's activation loads
  __m512i scale[4];  // int16 scale per maddubs word of q[i]
  __m256i min16;     // int16 min per 16-element group (multiplies the activation bsums)
  float d = 0.0f, dmin = 0.0f;
};

inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Scale word w of vector i = group_word(i, w) of a 16-word table.
template <typename F>
constexpr WordIndex table_index(F group_word) {
  WordIndex idx{};
  for (int w = 0; w < 32; ++w) idx[w] = static_cast<int16_t>(group_word(w));
  return idx;
}

// Q4_K: qs byte l of 32-byte chunk c holds elements 64c + l (low nibble) and 64c + 32 + l (high).
// One 64-byte load covers chunks 2h, 2h+1: its low nibbles are sub-blocks 4h and 4h+2, its high
// nibbles 4h+1 and 4h+3; the activations are loaded in that order.
struct Q4_KZmm {
  using Format = Q4_K;
  static constexpr bool kMinSharesScale = false;

  static void weights(const uint8_t* block, KZmmWeights& w) {
    w.d = load_f16(block + offsetof(BlockQ4_K, d));
    w.dmin = load_f16(block + offsetof(BlockQ4_K, dmin));
    // 6-bit scales/mins of quant/k_scales.h, four sub-blocks per 32-bit word.
    const uint8_t* packed = block + offsetof(BlockQ4_K, scales);
    const uint32_t a = load_u32(packed), b = load_u32(packed + 4), c = load_u32(packed + 8);
    const uint32_t sc_lo = a & 0x3f3f3f3fu, mn_lo = b & 0x3f3f3f3fu;
    const uint32_t sc_hi = (c & 0x0f0f0f0fu) | (((a >> 6) & 0x03030303u) << 4);
    const uint32_t mn_hi = ((c >> 4) & 0x0f0f0f0fu) | (((b >> 6) & 0x03030303u) << 4);
    // words 0-7: scale of sub-block j; words 8-15: min of sub-block j.
    const __m256i table = _mm256_cvtepu8_epi16(_mm_setr_epi32(static_cast<int>(sc_lo), static_cast<int>(sc_hi),
                                                              static_cast<int>(mn_lo), static_cast<int>(mn_hi)));
    static constexpr WordIndex kScale[4] = {
        table_index([](int wd) { return 0 + 2 * (wd / 16); }), table_index([](int wd) { return 1 + 2 * (wd / 16); }),
        table_index([](int wd) { return 4 + 2 * (wd / 16); }), table_index([](int wd) { return 5 + 2 * (wd / 16); })};
    static constexpr WordIndex kMin = table_index([](int g) { return 8 + (g % 16) / 2; });
    const __m512i table512 = _mm512_castsi256_si512(table);  // indices stay below 16
    for (int i = 0; i < 4; ++i) w.scale[i] = _mm512_permutexvar_epi16(load_index(kScale[i]), table512);
    w.min16 = _mm256_permutexvar_epi16(_mm512_castsi512_si256(load_index(kMin)), table);
    const uint8_t* qs = block + offsetof(BlockQ4_K, qs);
    const __m512i mask = _mm512_set1_epi8(0x0f);
    for (int h = 0; h < 2; ++h) {
      const __m512i x = _mm512_loadu_si512(qs + 64 * h);
      w.q[2 * h] = _mm512_and_si512(x, mask);
      w.q[2 * h + 1] = _mm512_and_si512(_mm512_srli_epi16(x, 4), mask);
    }
  }

  // a[2h + p] = elements [128h + 32p, +32) and [128h + 64 + 32p, +32).
  static void acts(const int8_t* aq, __m512i (&a)[4]) {
    for (int h = 0; h < 2; ++h) {
      for (int p = 0; p < 2; ++p) {
        const __m256i first = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(aq + 128 * h + 32 * p));
        const __m256i second = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(aq + 128 * h + 64 + 32 * p));
        a[2 * h + p] = _mm512_inserti64x4(_mm512_castsi256_si512(first), second, 1);
      }
    }
  }
};

// Q6_K (layout in quant/q6_k.h): one 64-byte ql load per half n gives, with the qh bits, elements
// [128n, +64) from its low nibbles and [128n + 64, +64) from its high nibbles: natural order.
// Levels stay unsigned (0..63); the -32 offset is 32 * scale_g per group, subtracted in int32.
struct Q6_KZmm {
  using Format = Q6_K;
  static constexpr bool kMinSharesScale = true;

  static void weights(const uint8_t* block, KZmmWeights& w) {
    w.d = load_f16(block + offsetof(BlockQ6_K, d));
    w.dmin = w.d;
    const __m256i sc16 = _mm256_cvtepi8_epi16(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + offsetof(BlockQ6_K, scales))));
    static constexpr WordIndex kScale[4] = {
        table_index([](int wd) { return 0 + wd / 8; }), table_index([](int wd) { return 4 + wd / 8; }),
        table_index([](int wd) { return 8 + wd / 8; }), table_index([](int wd) { return 12 + wd / 8; })};
    const __m512i sc512 = _mm512_castsi256_si512(sc16);  // indices stay below 16
    for (int i = 0; i < 4; ++i) w.scale[i] = _mm512_permutexvar_epi16(load_index(kScale[i]), sc512);
    w.min16 = _mm256_slli_epi16(sc16, 5);  // 32 * scale_g, |.| <= 4096
    const __m512i mask4 = _mm512_set1_epi8(0x0f), high_bits = _mm512_set1_epi8(0x30);
    // qh bits (0-1, 2-3) move to bits 4-5 for the low parts; (4-5, 6-7) for the high parts.
    const __m512i shl_lo = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
    const __m512i shr_hi = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    for (int n = 0; n < 2; ++n) {
      const __m512i ql = _mm512_loadu_si512(block + offsetof(BlockQ6_K, ql) + 64 * n);
      const __m512i qh = _mm512_broadcast_i64x4(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + offsetof(BlockQ6_K, qh) + 32 * n)));
      const __m512i h_lo = _mm512_and_si512(_mm512_sllv_epi16(qh, shl_lo), high_bits);
      const __m512i h_hi = _mm512_and_si512(_mm512_srlv_epi16(qh, shr_hi), high_bits);
      w.q[2 * n] = _mm512_or_si512(_mm512_and_si512(ql, mask4), h_lo);
      w.q[2 * n + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), mask4), h_hi);
    }
  }

  static void acts(const int8_t* aq, __m512i (&a)[4]) {
    for (int i = 0; i < 4; ++i) a[i] = _mm512_loadu_si512(aq + 64 * i);
  }
};

template <typename Unpack>
inline __m512 k_zmm_dot(const KZmmWeights& w, const __m512i (&a)[4], __m256i bsums, float ad, __m512 acc) {
  __m512i isum = _mm512_setzero_si512();
  for (int i = 0; i < 4; ++i) isum = _mm512_dpwssd_epi32(isum, _mm512_maddubs_epi16(w.q[i], a[i]), w.scale[i]);
  const __m512i mins = _mm512_zextsi256_si512(_mm256_madd_epi16(w.min16, bsums));
  if constexpr (Unpack::kMinSharesScale) {
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(isum, mins)), _mm512_set1_ps(w.d * ad), acc);
  } else {
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(w.d * ad), acc);
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(mins), _mm512_set1_ps(-w.dmin * ad), acc);
  }
}

template <typename Unpack>
struct KZmm {
  template <int R, int T>
  struct Tile {
    static void run(const ZmmOperands& ops, int64_t row0, int64_t token0) {
      using Block = typename Unpack::Format::Block;
      const int64_t n_blocks = ops.args.k / 256;
      __m512 acc[R][T];
      for (int r = 0; r < R; ++r)
        for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
      // Prefetch the same block two strips (2R rows) ahead; see Type0Zmm.
      const int64_t prefetch_offset = 2 * R * ops.args.weight_row_bytes;
      for (int64_t b = 0; b < n_blocks; ++b) {
        for (int r = 0; r < R; ++r) {
          const char* ahead = reinterpret_cast<const char*>(ops.weight_row(row0 + r) + b * sizeof(Block) + prefetch_offset);
          for (size_t line = 0; line < sizeof(Block); line += 64) _mm_prefetch(ahead + line, _MM_HINT_T0);
        }
        KZmmWeights w[R];
        for (int r = 0; r < R; ++r) Unpack::weights(ops.weight_row(row0 + r) + b * sizeof(Block), w[r]);
        for (int t = 0; t < T; ++t) {
          const uint8_t* act = ops.act_row(token0 + t) + b * sizeof(BlockQ8_K);
          __m512i a[4];
          Unpack::acts(reinterpret_cast<const int8_t*>(act + offsetof(BlockQ8_K, qs)), a);
          const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(act + offsetof(BlockQ8_K, bsums)));
          float ad;
          std::memcpy(&ad, act + offsetof(BlockQ8_K, d), sizeof(ad));
          for (int r = 0; r < R; ++r) acc[r][t] = k_zmm_dot<Unpack>(w[r], a, bsums, ad, acc[r][t]);
        }
      }
      for (int r = 0; r < R; ++r)
        for (int t = 0; t < T; ++t) ops.out(token0 + t, row0 + r) = _mm512_reduce_add_ps(acc[r][t]);
    }
  };

  // Prefill: 2 rows x 4 tokens keeps the unpacked rows (8 zmm each) and 8 accumulators in the 32
  // registers.
  static void mul_mat(const MulMatArgs& args) { mul_mat_tiles<Tile, 2, 4>(args); }
};

}  // namespace
}  // namespace frugal::x86

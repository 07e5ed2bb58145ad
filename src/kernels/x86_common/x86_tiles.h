// Register-blocked x86 matmul tiles for the three dot families (type-0 x Q8_0, K-quant x Q8_K,
// float x float) and the blocked mul_mat driver (kernels layer). One template body per family;
// the per-format part is the *Simd unpack from x86_simd.h. Included only by ISA TUs (see
// x86_simd.h for why everything is in an anonymous namespace).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/kernel_table.h"
#include "kernels/x86_common/tile_operands.h"
#include "kernels/x86_common/x86_simd.h"

namespace frugal::x86 {
namespace {


// ---- Type-0 weights x Q8_0 activations: R rows x T tokens, each weight block unpacked once and
// reused for T tokens; one f32 accumulator vector per (row, token). ----
template <typename Unpack, int R, int T>
struct Type0Tile {
  static void run(const MulMatArgs& args, int64_t row0, int64_t token0) {
    using Block = typename Unpack::Format::Block;
    const TileOperands ops{args};
    const int64_t n_blocks = args.k / 32;
    __m256 acc[R][T];
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < n_blocks; ++b) {
      __m256i wq[R];
      float wd[R];
      for (int r = 0; r < R; ++r) {
        const uint8_t* block = ops.weight_row(row0 + r) + b * sizeof(Block);
        wq[r] = Unpack::unpack(block);
        wd[r] = load_f16(block);  // every type-0 block starts with its f16 d
      }
      for (int t = 0; t < T; ++t) {
        const uint8_t* act = ops.act_row(token0 + t) + b * sizeof(BlockQ8_0);
        const __m256i aq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(act + offsetof(BlockQ8_0, qs)));
        const float ad = load_f16(act);
        for (int r = 0; r < R; ++r) {
          const __m256 isum = _mm256_cvtepi32_ps(dot_i8(wq[r], aq));
          acc[r][t] = _mm256_fmadd_ps(isum, _mm256_set1_ps(wd[r] * ad), acc[r][t]);
        }
      }
    }
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) ops.out(token0 + t, row0 + r) = hsum(acc[r][t]);
  }
};

// ---- K-quant weights x Q8_K activations: R super-blocks unpacked to L1 once, then streamed
// against T tokens' activation blocks. ----
template <typename Unpack>
inline __m256 k_block_dot(const KBlockSimd& u, const uint8_t* act, __m256 acc) {
  __m256i isum = _mm256_setzero_si256();
  const uint8_t* aq = act + offsetof(BlockQ8_K, qs);
  for (int c = 0; c < 8; ++c) {
    const __m256i w = _mm256_load_si256(reinterpret_cast<const __m256i*>(u.q + 32 * c));
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(aq + 32 * c));
    // Unsigned levels <= 63 times |a| <= 127: maddubs pair sums stay below 2 * 63 * 127.
    const __m256i p16 = _mm256_maddubs_epi16(w, a);
    const __m256i scale = _mm256_load_si256(reinterpret_cast<const __m256i*>(u.chunk_scale[c]));
    isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p16, scale));
  }
  const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(act + offsetof(BlockQ8_K, bsums)));
  const __m256i mins = _mm256_madd_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(u.min)), bsums);
  float ad;
  std::memcpy(&ad, act + offsetof(BlockQ8_K, d), sizeof(ad));
  if constexpr (Unpack::kMinSharesScale) {
    isum = _mm256_sub_epi32(isum, mins);
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(u.d * ad), acc);
  } else {
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(u.d * ad), acc);
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(mins), _mm256_set1_ps(-u.dmin * ad), acc);
  }
}

template <typename Unpack, int R, int T>
struct KTile {
  static void run(const MulMatArgs& args, int64_t row0, int64_t token0) {
    using Block = typename Unpack::Format::Block;
    const TileOperands ops{args};
    const int64_t n_blocks = args.k / 256;
    __m256 acc[R][T];
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
    KBlockSimd unpacked[R];
    for (int64_t b = 0; b < n_blocks; ++b) {
      for (int r = 0; r < R; ++r) Unpack::unpack(ops.weight_row(row0 + r) + b * sizeof(Block), unpacked[r]);
      for (int t = 0; t < T; ++t) {
        const uint8_t* act = ops.act_row(token0 + t) + b * sizeof(BlockQ8_K);
        for (int r = 0; r < R; ++r) acc[r][t] = k_block_dot<Unpack>(unpacked[r], act, acc[r][t]);
      }
    }
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) ops.out(token0 + t, row0 + r) = hsum(acc[r][t]);
  }
};

// ---- Float weights x activations of the same element format. ----
struct F32Simd {
  using Elem = float;
  static __m256 load8(const uint8_t* p) { return _mm256_loadu_ps(reinterpret_cast<const float*>(p)); }
  static float load1(const uint8_t* p) { float f; std::memcpy(&f, p, 4); return f; }
};
struct F16Simd {
  using Elem = uint16_t;
  static __m256 load8(const uint8_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static float load1(const uint8_t* p) { return load_f16(p); }
};
struct BF16Simd {
  using Elem = uint16_t;
  static __m256 load8(const uint8_t* p) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
  static float load1(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    const uint32_t bits = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
};

template <typename Load, int R, int T>
struct FloatTile {
  static void run(const MulMatArgs& args, int64_t row0, int64_t token0) {
    constexpr int64_t kElemBytes = sizeof(typename Load::Elem);
    const TileOperands ops{args};
    __m256 acc[R][T];
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
    const int64_t k_main = args.k / 8 * 8;
    for (int64_t i = 0; i < k_main; i += 8) {
      __m256 w[R];
      for (int r = 0; r < R; ++r) w[r] = Load::load8(ops.weight_row(row0 + r) + i * kElemBytes);
      for (int t = 0; t < T; ++t) {
        const __m256 x = Load::load8(ops.act_row(token0 + t) + i * kElemBytes);
        for (int r = 0; r < R; ++r) acc[r][t] = _mm256_fmadd_ps(w[r], x, acc[r][t]);
      }
    }
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t) {
        float tail = 0.0f;
        for (int64_t i = k_main; i < args.k; ++i) {
          tail += Load::load1(ops.weight_row(row0 + r) + i * kElemBytes) *
                  Load::load1(ops.act_row(token0 + t) + i * kElemBytes);
        }
        ops.out(token0 + t, row0 + r) = hsum(acc[r][t]) + tail;
      }
    }
  }
};

// ---- Driver: full R x T tiles, then the ragged edges with 1-wide tiles. ----
template <template <int, int> class Tile, int R, int T>
void blocked_mul_mat(const MulMatArgs& args) {
  int64_t row = args.row_begin;
  for (; row + R <= args.row_end; row += R) {
    int64_t token = 0;
    for (; token + T <= args.n_tokens; token += T) Tile<R, T>::run(args, row, token);
    for (; token < args.n_tokens; ++token) Tile<R, 1>::run(args, row, token);
  }
  for (; row < args.row_end; ++row) {
    int64_t token = 0;
    for (; token + T <= args.n_tokens; token += T) Tile<1, T>::run(args, row, token);
    for (; token < args.n_tokens; ++token) Tile<1, 1>::run(args, row, token);
  }
}

// vec_dot as a 1 x 1 tile.
template <template <int, int> class Tile>
float tile_vec_dot(int64_t k, const void* w_row, const void* act_row) {
  float out = 0.0f;
  const MulMatArgs args = single_dot_args(k, w_row, act_row, &out);
  Tile<1, 1>::run(args, 0, 0);
  return out;
}

}  // namespace
}  // namespace frugal::x86

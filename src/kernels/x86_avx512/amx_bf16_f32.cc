// AMX-BF16 GEMM of f32 operands (see amx_bf16_f32.h). Compiled with the AVX-512 flags (CMake glob
// of x86_avx512/*.cc); the tile functions carry their own target attribute.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/x86_avx512/amx_bf16_f32.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/x86_avx512/amx_bf16_f16.h"  // amx_configure_bf16, bf16_rne_f32bits, FRUGAL_AMX_BF16_TARGET

namespace frugal::x86 {
namespace {

constexpr int64_t kAmxF32Kc = 256 / 32;  // k tiles per chunk
constexpr int64_t kAmxF32Tb = 16;        // row tiles per block
constexpr int64_t kAmxF32Cb = 32;        // column strips per block

// f32 lanes -> 16 bf16 bit patterns (the f32 patterns' upper halves).
inline __m256i bf16_halves(__m512i f32bits) { return _mm512_cvtepi32_epi16(_mm512_srli_epi32(f32bits, 16)); }

void split_row(const float* x, int64_t k, int64_t k_pad, int64_t r, uint16_t* hi, uint16_t* lo) {
  for (int64_t i = 0; i < k_pad; i += 16) {
    const int64_t at = bf16_tile_a_index(k_pad, r, i);  // 16 consecutive elements stay adjacent
    const auto mask = static_cast<__mmask16>(i + 16 <= k ? 0xffffu : i < k ? (1u << (k - i)) - 1u : 0u);
    const __m512 v = _mm512_maskz_loadu_ps(mask, x + i);
    const __m512i h = bf16_rne_f32bits(_mm512_castps_si512(v));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(hi + at), bf16_halves(h));
    if (lo != nullptr) {
      const __m512i l = bf16_rne_f32bits(_mm512_castps_si512(_mm512_sub_ps(v, _mm512_castsi512_ps(h))));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(lo + at), bf16_halves(l));
    }
  }
}

// Staged columns x [k][16] -> one B strip: per k pair, the 16 columns' (even, odd) elements as bf16
// pairs (64 bytes), hi plane then lo plane. VCVTNE2PS2BF16 rounds to nearest even like
// bf16_rne_f32bits (it flushes denormal inputs, which the tile products treat as zero anyway; the
// VAE's activations are never that small); a word permute interleaves the two rows into pairs.
void split_strip(const float* x, int64_t k, int64_t k_pad, uint16_t* hi, uint16_t* lo) {
  const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7,
                                              22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  for (int64_t i = 0; i < k_pad; i += 2) {
    const __m512 e0 = i < k ? _mm512_loadu_ps(x + i * 16) : _mm512_setzero_ps();
    const __m512 e1 = i + 1 < k ? _mm512_loadu_ps(x + (i + 1) * 16) : _mm512_setzero_ps();
    const __m512i h = (__m512i)_mm512_cvtne2ps_pbh(e1, e0);  // words 0..15: e0, 16..31: e1
    const int64_t at = (i / 32) * 512 + ((i % 32) / 2) * 32;
    _mm512_storeu_si512(hi + at, _mm512_permutexvar_epi16(interleave, h));
    if (lo != nullptr) {
      const __m512 h0 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(h)), 16));
      const __m512 h1 =
          _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(h, 1)), 16));
      const __m512i l = (__m512i)_mm512_cvtne2ps_pbh(_mm512_sub_ps(e1, h1), _mm512_sub_ps(e0, h0));
      _mm512_storeu_si512(lo + at, _mm512_permutexvar_epi16(interleave, l));
    }
  }
}

// The operands of one 2 x 2 tile step over n_kt k tiles.
struct TileStep {
  const uint16_t* a_hi[2];
  const uint16_t* a_lo[2];
  const uint16_t* b[2];  // hi plane of the chunk; lo at + b_plane
  int64_t b_plane;
  int64_t n_kt;
};

// The 2 x 2 C tiles at c (CTileBlock; c_stride tiles from one tile row to the next) (+)= the step.
template <int kProducts>
FRUGAL_AMX_BF16_TARGET inline void tile_step(float* c, int64_t c_stride, bool first, const TileStep& s) {
  const CTileBlock<float> block(c, c_stride);
  block.load_or_zero(first);
  for (int64_t kt = 0; kt < s.n_kt; ++kt) {
    const int64_t at = kt * 512;
    _tile_loadd(4, s.a_hi[0] + at, 64);
    _tile_loadd(5, s.a_hi[1] + at, 64);
    _tile_loadd(6, s.b[0] + at, 64);
    _tile_loadd(7, s.b[1] + at, 64);
    _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7); _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
    if constexpr (kProducts == 3) {  // Al x Bh while B hi is loaded
      _tile_loadd(4, s.a_lo[0] + at, 64);
      _tile_loadd(5, s.a_lo[1] + at, 64);
      _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7); _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
      _tile_loadd(4, s.a_hi[0] + at, 64);
      _tile_loadd(5, s.a_hi[1] + at, 64);
    }
    if constexpr (kProducts >= 2) {  // Ah x Bl
      _tile_loadd(6, s.b[0] + s.b_plane + at, 64);
      _tile_loadd(7, s.b[1] + s.b_plane + at, 64);
      _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7); _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
    }
  }
  block.store();
}

// C tile (16 rows x 16 columns, row-major f32) -> out[r * stride + c] + bias[r] for the rows / columns that exist.
inline void store_rows(const float* tile, int64_t rows, int64_t cols, const float* bias, float* out, int64_t stride) {
  const auto mask = static_cast<__mmask16>((1u << cols) - 1u);
  for (int64_t r = 0; r < rows; ++r) {
    __m512 v = _mm512_load_ps(tile + 16 * r);
    if (bias != nullptr) v = _mm512_add_ps(v, _mm512_set1_ps(bias[r]));
    _mm512_mask_storeu_ps(out + r * stride, mask, v);
  }
}

template <int kProducts>
FRUGAL_AMX_BF16_TARGET void gemm_products(const Bf16TileGemmArgs& a) {
  const int64_t kt_total = a.k_pad / 32;
  const int64_t b_plane = a.k_pad * 16;
  const int64_t strip_elems = a.b_planes * b_plane;
  thread_local std::vector<float> c_buffer;
  c_buffer.resize(static_cast<size_t>(kAmxF32Tb * kAmxF32Cb * 256 + 16));
  float* c = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(c_buffer.data()) + 63) & ~uintptr_t{63});
  amx_configure_bf16();
  for (int64_t cs0 = a.col_strip_begin; cs0 < a.col_strip_end; cs0 += kAmxF32Cb) {
    const int64_t n_cs = std::min(kAmxF32Cb, a.col_strip_end - cs0);
    const int64_t n_cs2 = (n_cs + 1) / 2 * 2;  // an odd last strip is paired with itself (results not stored)
    for (int64_t rt0 = a.row_tile_begin; rt0 < a.row_tile_end; rt0 += kAmxF32Tb) {
      const int64_t n_rt = std::min(kAmxF32Tb, a.row_tile_end - rt0);
      const int64_t n_rt2 = (n_rt + 1) / 2 * 2;
      for (int64_t k0 = 0; k0 < kt_total; k0 += kAmxF32Kc) {
        TileStep step{};
        step.b_plane = b_plane;
        step.n_kt = std::min(kAmxF32Kc, kt_total - k0);
        for (int64_t s = 0; s < n_cs2; s += 2) {
          const int64_t s1 = s + 1 < n_cs ? s + 1 : s;
          step.b[0] = a.b + (cs0 + s) * strip_elems + k0 * 512;
          step.b[1] = a.b + (cs0 + s1) * strip_elems + k0 * 512;
          for (int64_t t = 0; t < n_rt2; t += 2) {
            const int64_t tile[2] = {rt0 + t, t + 1 < n_rt ? rt0 + t + 1 : rt0 + t};
            for (int j = 0; j < 2; ++j) {
              const int64_t at = (tile[j] * kt_total + k0) * 512;
              step.a_hi[j] = a.a_hi + at;
              step.a_lo[j] = kProducts == 3 ? a.a_lo + at : nullptr;
            }
            // C tile (row tile t, strip s) at (t * n_cs2 + s) * 256: the 2 x 2 step's are adjacent in s.
            tile_step<kProducts>(c + (t * n_cs2 + s) * 256, n_cs2, k0 == 0, step);
          }
        }
      }
      for (int64_t t = 0; t < n_rt; ++t) {
        const int64_t r0 = (rt0 + t) * 16;
        const int64_t rows = std::min<int64_t>(16, a.n_rows - r0);
        if (rows <= 0) break;
        for (int64_t s = 0; s < n_cs; ++s) {
          const int64_t c0 = (cs0 + s) * 16;
          const int64_t cols = std::min<int64_t>(16, a.n_cols - c0);
          if (cols <= 0) break;
          store_rows(c + (t * n_cs2 + s) * 256, rows, cols, a.bias != nullptr ? a.bias + r0 : nullptr,
                     a.out + r0 * a.out_row_stride + c0, a.out_row_stride);
        }
      }
    }
  }
  _tile_release();
}

void gemm(const Bf16TileGemmArgs& args) {
  switch (args.products) {
    case Bf16Products::kX1: return gemm_products<1>(args);
    case Bf16Products::kX2: return gemm_products<2>(args);
    case Bf16Products::kX3: return gemm_products<3>(args);
  }
}

}  // namespace

const Bf16TileGemm& amx_bf16_f32_kernels() {
  static const Bf16TileGemm kernels{split_row, split_strip, gemm};
  return kernels;
}

}  // namespace frugal::x86

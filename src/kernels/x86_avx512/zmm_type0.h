// 512-bit type-0 (Q4_0, Q8_0) x Q8_0 matmul (kernels layer), VNNI dpbusd.
// Central idea: four 32-element blocks fill one zmm. The weights are made unsigned (Q4_0 levels
// 0..15, Q8_0 + 128), multiplied by the signed activations with dpbusd, and the offset is removed
// exactly in int32 by starting each accumulation at -offset * sum(a) (precomputed per activation
// lane group). Each int32 lane then holds a partial sum of one block, identical to the reference's
// integer sum; it is scaled by d_w * d_a in f32. The activations are repacked once per call into
// ZmmType0Group (lane order matching the weight unpack), shared by every row of the call.
// Included only by x86_avx512/ TUs (anonymous namespace: see x86_common/x86_simd.h).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/x86_avx512/zmm_common.h"
#include "quant/q4_0.h"
#include "quant/q8_0.h"

namespace frugal::x86 {
namespace {

constexpr int64_t kType0GroupBlocks = 4;   // 4 x 32 int8 = one zmm
constexpr int64_t kType0GroupElems = 128;

// Four consecutive Q8_0 activation blocks b = 0..3, in the lane order of the weight unpack.
struct alignas(64) ZmmType0Group {
  int8_t lo[64];          // bytes 16b..16b+15: a_b[0..15]
  int8_t hi[64];          // bytes 16b..16b+15: a_b[16..31]
  int32_t neg_corr[16];   // lane 4b+j: -offset * (a_b[4j..4j+3] + a_b[16+4j..16+4j+3])
  float scale[16];        // lane 4b+j: d_b
};

// One Q8_0 activation row [n_blocks] -> ceil(n_blocks / 4) groups, zero-padded.
inline void repack_type0_acts(const uint8_t* row, int64_t n_blocks, int32_t offset, ZmmType0Group* out) {
  const int64_t n_groups = (n_blocks + kType0GroupBlocks - 1) / kType0GroupBlocks;
  std::memset(static_cast<void*>(out), 0, static_cast<size_t>(n_groups) * sizeof(ZmmType0Group));
  for (int64_t b = 0; b < n_blocks; ++b) {
    ZmmType0Group& g = out[b / kType0GroupBlocks];
    const int bi = static_cast<int>(b % kType0GroupBlocks);
    const uint8_t* block = row + b * sizeof(BlockQ8_0);
    const int8_t* qs = reinterpret_cast<const int8_t*>(block + offsetof(BlockQ8_0, qs));
    std::memcpy(g.lo + 16 * bi, qs, 16);
    std::memcpy(g.hi + 16 * bi, qs + 16, 16);
    const float d = load_f16(block);
    for (int j = 0; j < 4; ++j) {
      int32_t sum = 0;
      for (int i = 0; i < 4; ++i) sum += qs[4 * j + i] + qs[16 + 4 * j + i];
      g.neg_corr[4 * bi + j] = -offset * sum;
      g.scale[4 * bi + j] = d;
    }
  }
}

// Index of absolute word `word` of a group in a permutex2var over two 64-byte windows starting at
// words `win0` and `win1` of the group (the first window is preferred).
constexpr int16_t window_index(int word, int win0, int win1) {
  return static_cast<int16_t>(word - win0 < 32 && word >= win0 ? word - win0 : 32 + word - win1);
}
// Word i of the f16 scale vector = d of block i / 4 (blocks `stride_words` apart, d first).
constexpr WordIndex scale_index(int stride_words, int win0, int win1) {
  WordIndex idx{};
  for (int i = 0; i < 16; ++i) idx[i] = window_index(stride_words * (i / 4), win0, win1);
  return idx;
}
// Word w = 8b + j of the quant vector = word j of block b's 16 quant bytes at `first_word`.
constexpr WordIndex quant_index(int stride_words, int first_word, int win0, int win1) {
  WordIndex idx{};
  for (int w = 0; w < 32; ++w) idx[w] = window_index(stride_words * (w / 8) + first_word + w % 8, win0, win1);
  return idx;
}

// A group of 4 weight blocks unpacked: unsigned bytes (lane order of ZmmType0Group) + f32 d per lane.
struct ZmmType0Weights {
  __m512i lo, hi;
  __m512 d;
};

// Q4_0: 18-byte blocks (f16 d, 16 nibble bytes); level = nibble, offset 8. 72 bytes per group,
// read as [0, 64) and [8, 72).
struct Q4_0Zmm {
  using Format = Q4_0;
  static constexpr int32_t kOffset = 8;
  template <bool kTail>
  static ZmmType0Weights unpack(const uint8_t* p, int64_t valid_bytes) {
    static constexpr WordIndex kQuant = quant_index(9, 1, 0, 4);
    static constexpr WordIndex kScale = scale_index(9, 0, 4);
    const __m512i x = load_at<kTail>(p, 0, valid_bytes);
    const __m512i q = _mm512_permutex2var_epi16(x, load_index(kQuant), load_at<kTail>(p, 8, valid_bytes));
    const __m512i mask = _mm512_set1_epi8(0x0f);
    ZmmType0Weights w;
    w.lo = _mm512_and_si512(q, mask);
    w.hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), mask);
    w.d = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(load_index(kScale), x)));
    return w;
  }
};

// Q8_0: 34-byte blocks (f16 d, 32 int8); level = q + 128, offset 128. 136 bytes per group, read
// as the windows [0, 128) (scales, first halves) and [8, 136) (second halves).
struct Q8_0Zmm {
  using Format = Q8_0;
  static constexpr int32_t kOffset = 128;
  template <bool kTail>
  static ZmmType0Weights unpack(const uint8_t* p, int64_t valid_bytes) {
    static constexpr WordIndex kLo = quant_index(17, 1, 0, 32);
    static constexpr WordIndex kHi = quant_index(17, 9, 4, 36);
    static constexpr WordIndex kScale = scale_index(17, 0, 32);
    const __m512i x0 = load_at<kTail>(p, 0, valid_bytes), x1 = load_at<kTail>(p, 64, valid_bytes);
    const __m512i y0 = load_at<kTail>(p, 8, valid_bytes), y1 = load_at<kTail>(p, 72, valid_bytes);
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    ZmmType0Weights w;
    w.lo = _mm512_xor_si512(_mm512_permutex2var_epi16(x0, load_index(kLo), x1), flip);
    w.hi = _mm512_xor_si512(_mm512_permutex2var_epi16(y0, load_index(kHi), y1), flip);
    w.d = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutex2var_epi16(x0, load_index(kScale), x1)));
    return w;
  }
};

// Repacked activations of a token chunk, shared read-only by the tiles of one mul_mat call.
struct ZmmType0Ctx {
  ZmmOperands ops;
  const ZmmType0Group* acts;  // [n_chunk_tokens, n_groups]
  int64_t token_base;         // token index of acts[0]
  int64_t n_groups;
  int64_t n_full_groups;      // groups with 4 real blocks
  int64_t group_bytes;        // weight bytes per full group
  int64_t tail_bytes;         // weight bytes in the last, partial group (0 if none)
};

template <typename Unpack, int R, int T, bool kTail>
inline void type0_group_step(const ZmmType0Ctx& ctx, const uint8_t* const* w_group,
                             const ZmmType0Group* const* a_group, int64_t valid, __m512 (&acc)[R][T]) {
  ZmmType0Weights w[R];
  for (int r = 0; r < R; ++r) w[r] = Unpack::template unpack<kTail>(w_group[r], valid);
  for (int t = 0; t < T; ++t) {
    const ZmmType0Group& a = *a_group[t];
    const __m512i a_lo = _mm512_load_si512(a.lo), a_hi = _mm512_load_si512(a.hi);
    const __m512i corr = _mm512_load_si512(a.neg_corr);
    const __m512 a_d = _mm512_load_ps(a.scale);
    for (int r = 0; r < R; ++r) {
      const __m512i isum = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(corr, w[r].lo, a_lo), w[r].hi, a_hi);
      acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(w[r].d, a_d), acc[r][t]);
    }
  }
}

template <typename Unpack>
struct Type0Zmm {
  template <int R, int T>
  struct Tile {
    static void run(const ZmmType0Ctx& ctx, int64_t row0, int64_t token0) {
      __m512 acc[R][T];
      for (int r = 0; r < R; ++r)
        for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
      const uint8_t* w_group[R];
      const ZmmType0Group* a_group[T];
      for (int r = 0; r < R; ++r) w_group[r] = ctx.ops.weight_row(row0 + r);
      for (int t = 0; t < T; ++t) a_group[t] = ctx.acts + (token0 + t - ctx.token_base) * ctx.n_groups;
      // Software prefetch of the next strip's rows (R rows further on), one line per group step:
      // the hardware prefetcher alone leaves decode latency-bound on short rows.
      const int64_t prefetch_offset = 2 * R * ctx.ops.args.weight_row_bytes;
      for (int64_t g = 0; g < ctx.n_full_groups; ++g) {
        for (int r = 0; r < R; ++r) _mm_prefetch(reinterpret_cast<const char*>(w_group[r] + prefetch_offset), _MM_HINT_T0);
        type0_group_step<Unpack, R, T, false>(ctx, w_group, a_group, ctx.group_bytes, acc);
        for (int r = 0; r < R; ++r) w_group[r] += ctx.group_bytes;
        for (int t = 0; t < T; ++t) ++a_group[t];
      }
      if (ctx.tail_bytes > 0) type0_group_step<Unpack, R, T, true>(ctx, w_group, a_group, ctx.tail_bytes, acc);
      for (int r = 0; r < R; ++r)
        for (int t = 0; t < T; ++t) ctx.ops.out(token0 + t, row0 + r) = _mm512_reduce_add_ps(acc[r][t]);
    }
  };

  // Tokens are repacked in chunks so the buffer stays in L2 during prefill; weights are re-read
  // once per chunk, which is cheap next to the chunk's arithmetic.
  static constexpr int64_t kTokenChunk = 64;

  template <int kRows, int kTokens>
  static void mul_mat(const MulMatArgs& args) {
    const int64_t n_blocks = args.k / 32;
    ZmmType0Ctx ctx{ZmmOperands{args}, nullptr, 0, 0, 0, 0, 0};
    ctx.n_groups = (n_blocks + kType0GroupBlocks - 1) / kType0GroupBlocks;
    ctx.n_full_groups = n_blocks / kType0GroupBlocks;
    ctx.group_bytes = kType0GroupBlocks * static_cast<int64_t>(sizeof(typename Unpack::Format::Block));
    ctx.tail_bytes = (n_blocks % kType0GroupBlocks) * static_cast<int64_t>(sizeof(typename Unpack::Format::Block));
    thread_local std::vector<ZmmType0Group> buffer;  // per thread: no allocation after warm-up
    for (int64_t t0 = 0; t0 < args.n_tokens; t0 += kTokenChunk) {
      const int64_t t1 = std::min(args.n_tokens, t0 + kTokenChunk);
      const size_t need = static_cast<size_t>((t1 - t0) * ctx.n_groups);
      if (buffer.size() < need) buffer.resize(need);
      for (int64_t t = t0; t < t1; ++t) {
        repack_type0_acts(ctx.ops.act_row(t), n_blocks, Unpack::kOffset, buffer.data() + (t - t0) * ctx.n_groups);
      }
      ctx.acts = buffer.data();
      ctx.token_base = t0;
      drive_tiles<Tile, kRows, kTokens>(ctx, args.row_begin, args.row_end, t0, t1);
    }
  }
};

}  // namespace
}  // namespace frugal::x86

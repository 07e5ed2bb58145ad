// Packed ("strip") layouts of the K-quant weights Q4_K and Q6_K (kernels layer): the bytes the
// load-time re-layout writes, shared by the scalar reference (ref/ref_packed_k.h) and the AVX-512
// VNNI kernels (x86_avx512/zmm_packed_k.h). No intrinsics here: packing is plain byte moves.
//
// Rows are taken kPackedRowGroup = 16 at a time (a strip; the last strip is padded with zero rows).
// Within a strip each 256-element super-block is stored in exactly the bytes of 16 original blocks
// (decode reads no more), as vectors of 64 bytes whose 4-byte lane r belongs to row r:
//
// Q4_K, 2,304 bytes per super-block (16 x 144):
//   8 sub-blocks (32 elements) x 256 bytes: vector c (0..3), lane r, byte i = the levels of
//     elements 32j + 4c + i (low nibble) and 32j + 16 + 4c + i (high nibble) of row r;
//   192 bytes: the 12 packed 6-bit scale/min bytes of quant/k_scales.h, as three vectors whose
//     lane r holds row r's bytes 4v .. 4v + 3 (so every lane unpacks them the same way);
//   32 bytes: the 16 rows' f16 d;  32 bytes: the 16 rows' f16 dmin.
//
// Q6_K, 3,360 bytes per super-block (16 x 210):
//   16 groups (16 elements) x 192 bytes: three vectors, lane r holding row r's 4 elements of each
//     4-element chunk c (elements 16g + 4c .. +3) as unsigned levels (0..63):
//       L0: low nibbles of chunk 0 | chunk 1 << 4      L1: low nibbles of chunk 2 | chunk 3 << 4
//       H:  the 2 high bits of chunks 0, 1, 2, 3 at bits 0-1, 2-3, 4-5, 6-7
//   256 bytes: the int8 group scales, group-major (16 rows per group);
//   32 bytes: the 16 rows' f16 d.
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/kernel_table.h"
#include "quant/q4_k.h"
#include "quant/q6_k.h"

namespace frugal::packed_k {

constexpr int64_t kRows = kPackedRowGroup;

// Q4_K
constexpr int64_t kQ4SubBytes = 4 * 64;                       // one 32-element sub-block of 16 rows
constexpr int64_t kQ4QuantBytes = 8 * kQ4SubBytes;            // 2,048
constexpr int64_t kQ4ScaleBytes = 3 * 64;                     // 192
constexpr int64_t kQ4DOffset = kQ4QuantBytes + kQ4ScaleBytes;  // 2,240: f16 d, then f16 dmin
constexpr int64_t kQ4SuperBytes = kQ4DOffset + 4 * kRows;     // 2,304
static_assert(kQ4SuperBytes == kRows * static_cast<int64_t>(sizeof(BlockQ4_K)), "decode reads no more");

// Q6_K
constexpr int64_t kQ6GroupBytes = 3 * 64;                                   // L0, L1, H
constexpr int64_t kQ6QuantBytes = 16 * kQ6GroupBytes;                        // 3,072
constexpr int64_t kQ6ScaleBytes = 16 * kRows;                                // 256
constexpr int64_t kQ6SuperBytes = kQ6QuantBytes + kQ6ScaleBytes + 2 * kRows;  // 3,360
static_assert(kQ6SuperBytes == kRows * static_cast<int64_t>(sizeof(BlockQ6_K)), "decode reads no more");

inline int64_t q4k_size(int64_t n_rows, int64_t k) { return (n_rows + kRows - 1) / kRows * (k / 256) * kQ4SuperBytes; }
inline int64_t q6k_size(int64_t n_rows, int64_t k) { return (n_rows + kRows - 1) / kRows * (k / 256) * kQ6SuperBytes; }

// Reads block b of `row` of a matrix of row_bytes-byte rows (byte access: rows need not be aligned).
template <typename Block>
Block source_block(const void* rows, int64_t row, int64_t row_bytes, int64_t b) {
  Block blk;
  std::memcpy(&blk, static_cast<const uint8_t*>(rows) + row * row_bytes + b * static_cast<int64_t>(sizeof(Block)),
              sizeof(blk));
  return blk;
}

// rows: [n_rows] rows of k / 256 Q4_K blocks -> out: q4k_size(n_rows, k) bytes.
inline void pack_rows_q4k(const void* rows, int64_t n_rows, int64_t k, void* out) {
  const int64_t n_sb = k / 256;
  const int64_t row_bytes = n_sb * static_cast<int64_t>(sizeof(BlockQ4_K));
  auto* dst = static_cast<uint8_t*>(out);
  for (int64_t s = 0; s * kRows < n_rows; ++s) {
    for (int64_t b = 0; b < n_sb; ++b, dst += kQ4SuperBytes) {
      std::memset(dst, 0, kQ4SuperBytes);
      for (int64_t r = 0; r < kRows; ++r) {
        const int64_t row = s * kRows + r;
        if (row >= n_rows) continue;  // padding row: levels, scales, d and dmin stay 0
        const auto blk = source_block<BlockQ4_K>(rows, row, row_bytes, b);
        uint8_t level[256];  // element e: qs[32 (e / 64) + e % 32], low nibble if e % 64 < 32
        for (int e = 0; e < 256; ++e) {
          const uint8_t q = blk.qs[32 * (e / 64) + e % 32];
          level[e] = static_cast<uint8_t>(e % 64 < 32 ? q & 0x0f : q >> 4);
        }
        for (int j = 0; j < 8; ++j) {
          for (int c = 0; c < 4; ++c) {
            for (int i = 0; i < 4; ++i) {
              dst[j * kQ4SubBytes + 64 * c + 4 * r + i] =
                  static_cast<uint8_t>(level[32 * j + 4 * c + i] | level[32 * j + 16 + 4 * c + i] << 4);
            }
          }
        }
        for (int v = 0; v < 3; ++v) std::memcpy(dst + kQ4QuantBytes + 64 * v + 4 * r, blk.scales + 4 * v, 4);
        std::memcpy(dst + kQ4DOffset + 2 * r, &blk.d, 2);
        std::memcpy(dst + kQ4DOffset + 2 * kRows + 2 * r, &blk.dmin, 2);
      }
    }
  }
}

// rows: [n_rows] rows of k / 256 Q6_K blocks -> out: q6k_size(n_rows, k) bytes.
inline void pack_rows_q6k(const void* rows, int64_t n_rows, int64_t k, void* out) {
  const int64_t n_sb = k / 256;
  const int64_t row_bytes = n_sb * static_cast<int64_t>(sizeof(BlockQ6_K));
  auto* dst = static_cast<uint8_t*>(out);
  for (int64_t s = 0; s * kRows < n_rows; ++s) {
    for (int64_t b = 0; b < n_sb; ++b, dst += kQ6SuperBytes) {
      std::memset(dst, 0, kQ6SuperBytes);
      for (int64_t r = 0; r < kRows; ++r) {
        const int64_t row = s * kRows + r;
        if (row >= n_rows) continue;  // padding row: levels, scales and d stay 0
        const auto blk = source_block<BlockQ6_K>(rows, row, row_bytes, b);
        uint8_t level[256];
        for (int half = 0; half < 2; ++half)
          for (int part = 0; part < 4; ++part)
            for (int l = 0; l < 32; ++l) level[128 * half + 32 * part + l] = static_cast<uint8_t>(Q6_K::level(blk, half, part, l));
        for (int g = 0; g < 16; ++g) {
          uint8_t* group = dst + g * kQ6GroupBytes;
          const uint8_t* lv = level + 16 * g;  // chunk c, element i: lv[4c + i]
          for (int i = 0; i < 4; ++i) {
            group[4 * r + i] = static_cast<uint8_t>((lv[i] & 0x0f) | (lv[4 + i] & 0x0f) << 4);
            group[64 + 4 * r + i] = static_cast<uint8_t>((lv[8 + i] & 0x0f) | (lv[12 + i] & 0x0f) << 4);
            group[128 + 4 * r + i] =
                static_cast<uint8_t>(lv[i] >> 4 | (lv[4 + i] >> 4) << 2 | (lv[8 + i] >> 4) << 4 | (lv[12 + i] >> 4) << 6);
          }
          dst[kQ6QuantBytes + g * kRows + r] = static_cast<uint8_t>(blk.scales[g]);
        }
        std::memcpy(dst + kQ6QuantBytes + kQ6ScaleBytes + 2 * r, &blk.d, 2);
      }
    }
  }
}

}  // namespace frugal::packed_k

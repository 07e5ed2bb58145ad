// Scalar reference mul_mat over packed Q4_K / Q6_K strips (kernels layer); see ref_packed_k.h.
#include "kernels/ref/ref_packed_k.h"

#include <cstring>

#include "core/check.h"
#include "core/fp16.h"
#include "kernels/packed_k_layout.h"
#include "quant/k_scales.h"
#include "quant/q8_k.h"
#include "quant/unpacked.h"

namespace frugal::ref {
namespace {

using namespace packed_k;

float load_f16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return f16_to_f32(h);
}

// Super-block `sb` (kQ4SuperBytes bytes of a strip), row r -> u (UnpackedK's 16-element groups).
void unpack_q4k(const uint8_t* sb, int64_t r, UnpackedK& u) {
  for (int j = 0; j < 8; ++j) {
    for (int c = 0; c < 4; ++c) {
      for (int i = 0; i < 4; ++i) {
        const uint8_t byte = sb[j * kQ4SubBytes + 64 * c + 4 * r + i];
        u.q[32 * j + 4 * c + i] = static_cast<int8_t>(byte & 0x0f);
        u.q[32 * j + 16 + 4 * c + i] = static_cast<int8_t>(byte >> 4);
      }
    }
  }
  uint8_t packed[kKScaleBytes], sc[kKSubBlocks], mn[kKSubBlocks];
  for (int v = 0; v < 3; ++v) std::memcpy(packed + 4 * v, sb + kQ4QuantBytes + 64 * v + 4 * r, 4);
  unpack_k_scales(packed, sc, mn);
  for (int g = 0; g < UnpackedK::kGroups; ++g) {
    u.scale[g] = sc[g / 2];
    u.min[g] = mn[g / 2];
  }
  u.d = load_f16(sb + kQ4DOffset + 2 * r);
  u.dmin = load_f16(sb + kQ4DOffset + 2 * kRows + 2 * r);
}

void unpack_q6k(const uint8_t* sb, int64_t r, UnpackedK& u) {
  for (int g = 0; g < 16; ++g) {
    const uint8_t* group = sb + g * kQ6GroupBytes;
    for (int c = 0; c < 4; ++c) {
      for (int i = 0; i < 4; ++i) {
        const uint8_t low_byte = group[64 * (c / 2) + 4 * r + i];
        const int low = (c % 2 == 0 ? low_byte : low_byte >> 4) & 0x0f;
        const int high = (group[128 + 4 * r + i] >> (2 * c)) & 3;
        u.q[16 * g + 4 * c + i] = static_cast<int8_t>((low | high << 4) - 32);
      }
    }
    u.scale[g] = static_cast<int8_t>(sb[kQ6QuantBytes + g * kRows + r]);
    u.min[g] = 0;
  }
  u.d = load_f16(sb + kQ6QuantBytes + kQ6ScaleBytes + 2 * r);
  u.dmin = 0.0f;
}

}  // namespace

void packed_k_mul_mat(DType weight_dtype, const MulMatArgs& args) {
  CHECK(weight_dtype == DType::kQ4_K || weight_dtype == DType::kQ6_K, "packed_k_mul_mat: Q4_K or Q6_K only");
  CHECK(args.row_begin % kRows == 0, "packed rows start at a strip");
  const bool q4 = weight_dtype == DType::kQ4_K;
  const int64_t n_sb = args.k / 256;
  const int64_t super_bytes = q4 ? kQ4SuperBytes : kQ6SuperBytes;
  UnpackedK u;
  for (int64_t row = args.row_begin; row < args.row_end; ++row) {
    const uint8_t* strip = static_cast<const uint8_t*>(args.weights) + row / kRows * n_sb * super_bytes;
    for (int64_t t = 0; t < args.n_tokens; ++t) {
      const auto* a = static_cast<const uint8_t*>(args.acts) + t * args.act_row_bytes;
      float sum = 0.0f;  // as vec_dot_k: per super-block, exact integers scaled in f32
      for (int64_t b = 0; b < n_sb; ++b) {
        if (q4) {
          unpack_q4k(strip + b * super_bytes, row % kRows, u);
        } else {
          unpack_q6k(strip + b * super_bytes, row % kRows, u);
        }
        const auto act = load_block<BlockQ8_K>(a + b * static_cast<int64_t>(sizeof(BlockQ8_K)));
        int32_t isum = 0, min_sum = 0;
        for (int g = 0; g < UnpackedK::kGroups; ++g) {
          int32_t group_sum = 0;
          for (int i = g * UnpackedK::kGroupElems; i < (g + 1) * UnpackedK::kGroupElems; ++i) group_sum += u.q[i] * act.qs[i];
          isum += u.scale[g] * group_sum;
          min_sum += u.min[g] * act.bsums[g];
        }
        sum += act.d * (u.d * static_cast<float>(isum)) - act.d * (u.dmin * static_cast<float>(min_sum));
      }
      args.out[t * args.out_row_stride + row] = sum;
    }
  }
}

}  // namespace frugal::ref

// Every ISA's quantize_row / dequantize_row against the ref table: activation and weight formats
// must be byte-identical (same rounding rules), at every length and misalignment.
#include <gtest/gtest.h>

#include <cstring>

#include "kernel_test_util.h"
#include "kernels/kernel_table.h"

namespace frugal {
namespace {

using testing::OffsetBuffer;
using testing::slot;

const std::vector<DType>& quantized_dtypes() {
  static const std::vector<DType> kAll = {DType::kF32,  DType::kF16,  DType::kBF16, DType::kQ4_0,
                                          DType::kQ5_0, DType::kQ8_0, DType::kQ4_K, DType::kQ5_K,
                                          DType::kQ6_K, DType::kQ8_K};
  return kAll;
}

// Inputs with exact rounding ties (multiples of 1/2 after scaling) mixed into Gaussian data, and
// an all-zero block, to exercise every rounding branch.
std::vector<float> quantize_inputs(int64_t k, uint32_t seed) {
  std::vector<float> x = testing::random_floats(k, seed);
  for (int64_t i = 0; i < k; i += 5) x[i] = static_cast<float>(static_cast<int>(x[i] * 8)) * 0.5f;
  if (k >= 512) std::fill(x.begin() + 256, x.begin() + 512, 0.0f);
  return x;
}

TEST(IsaQuantize, QuantizeRowMatchesRefBytes) {
  const KernelTable& ref = *kernels_for(Isa::kRef);
  for (Isa isa : available_isas()) {
    const KernelTable& t = *kernels_for(isa);
    for (DType dtype : quantized_dtypes()) {
      for (int64_t k : testing::test_lengths(dtype)) {
        for (int64_t in_offset : {0, 4, 8}) {
          for (int64_t out_offset : {0, 1, 3}) {
            const std::vector<float> x = quantize_inputs(k, static_cast<uint32_t>(k * 7 + in_offset));
            OffsetBuffer in(k * 4, in_offset);
            std::memcpy(in.data(), x.data(), static_cast<size_t>(k) * 4);
            const int64_t bytes = dtype_row_bytes(dtype, k);
            OffsetBuffer want(bytes, out_offset), got(bytes, out_offset);
            ref.quantize_row[slot(dtype)](reinterpret_cast<const float*>(in.data()), want.data(), k);
            t.quantize_row[slot(dtype)](reinterpret_cast<const float*>(in.data()), got.data(), k);
            ASSERT_EQ(std::memcmp(want.data(), got.data(), static_cast<size_t>(bytes)), 0)
                << isa_name(isa) << " " << dtype_name(dtype) << " k=" << k << " offsets "
                << in_offset << "/" << out_offset;
          }
        }
      }
    }
  }
}

// Rows whose scaled values land exactly on .5: Q8_0 blocks with amax 127 (id = 1) and Q8_K blocks
// with max -63.5 (iscale = 2), so ties-away (Q8_0) and ties-to-even (Q8_K) rounding both matter.
TEST(IsaQuantize, ActivationTiesMatchRef) {
  const KernelTable& ref = *kernels_for(Isa::kRef);
  const int64_t k = 512;
  std::vector<float> q8_0_input(k), q8_k_input(k);
  for (int64_t i = 0; i < k; ++i) {
    q8_0_input[i] = (i % 32 == 3) ? 127.0f : static_cast<float>(i % 51 - 25) + 0.5f;
    q8_k_input[i] = (i % 256 == 7) ? -63.5f : static_cast<float>(i % 61 - 30) * 0.25f;
  }
  for (Isa isa : available_isas()) {
    const KernelTable& t = *kernels_for(isa);
    for (auto [dtype, input] : {std::pair{DType::kQ8_0, &q8_0_input}, std::pair{DType::kQ8_K, &q8_k_input}}) {
      const int64_t bytes = dtype_row_bytes(dtype, k);
      std::vector<uint8_t> want(static_cast<size_t>(bytes)), got(static_cast<size_t>(bytes));
      ref.quantize_row[slot(dtype)](input->data(), want.data(), k);
      t.quantize_row[slot(dtype)](input->data(), got.data(), k);
      EXPECT_EQ(want, got) << isa_name(isa) << " " << dtype_name(dtype);
    }
  }
}

TEST(IsaQuantize, DequantizeRowMatchesRefExactly) {
  const KernelTable& ref = *kernels_for(Isa::kRef);
  for (Isa isa : available_isas()) {
    const KernelTable& t = *kernels_for(isa);
    for (DType dtype : quantized_dtypes()) {
      for (int64_t k : testing::test_lengths(dtype)) {
        for (int64_t offset : {0, 1, 2, 3}) {
          int64_t row_bytes = 0;
          const auto x = testing::random_floats(k, static_cast<uint32_t>(k + offset));
          const OffsetBuffer q = testing::make_rows(dtype, x, 1, k, offset, row_bytes);
          std::vector<float> want(static_cast<size_t>(k)), got(static_cast<size_t>(k));
          ref.dequantize_row[slot(dtype)](q.data(), want.data(), k);
          t.dequantize_row[slot(dtype)](q.data(), got.data(), k);
          ASSERT_EQ(std::memcmp(want.data(), got.data(), static_cast<size_t>(k) * 4), 0)
              << isa_name(isa) << " " << dtype_name(dtype) << " k=" << k;
        }
      }
    }
  }
}

}  // namespace
}  // namespace frugal

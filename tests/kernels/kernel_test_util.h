// Helpers for kernel tests: deterministic random data, byte buffers at chosen misalignments,
// and quantized rows produced by the ref table (tests/kernels).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/kernel_table.h"
#include "tensor/dtype.h"

namespace frugal::testing {

// Gaussian values, fixed seed per call site.
inline std::vector<float> random_floats(int64_t n, uint32_t seed, float stddev = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, stddev);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(rng);
  return v;
}

// A byte buffer whose data() starts `offset_bytes` past a 64-byte boundary.
class OffsetBuffer {
 public:
  OffsetBuffer(int64_t size_bytes, int64_t offset_bytes)
      : storage_(static_cast<size_t>(size_bytes + offset_bytes + 128), 0xcd) {
    const auto base = reinterpret_cast<uintptr_t>(storage_.data());
    const uintptr_t aligned = (base + 63) & ~uintptr_t{63};
    data_ = storage_.data() + (aligned - base) + offset_bytes;
  }
  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }

 private:
  std::vector<uint8_t> storage_;
  uint8_t* data_ = nullptr;
};

// [n_rows, k] f32 -> n_rows rows of dtype, quantized by the ref table, at `offset_bytes`.
inline OffsetBuffer make_rows(DType dtype, const std::vector<float>& values, int64_t n_rows,
                              int64_t k, int64_t offset_bytes, int64_t& row_bytes) {
  row_bytes = dtype_row_bytes(dtype, k);
  OffsetBuffer buf(row_bytes * n_rows, offset_bytes);
  const KernelTable& ref = *kernels_for(Isa::kRef);
  for (int64_t r = 0; r < n_rows; ++r) {
    ref.quantize_row[static_cast<size_t>(dtype)](values.data() + r * k, buf.data() + r * row_bytes, k);
  }
  return buf;
}

// Sum of |w_i * a_i| over the dequantized rows: the scale for dot-product tolerances.
inline double abs_dot(DType w_dtype, const void* w, DType a_dtype, const void* a, int64_t k) {
  const KernelTable& ref = *kernels_for(Isa::kRef);
  std::vector<float> wf(static_cast<size_t>(k)), af(static_cast<size_t>(k));
  ref.dequantize_row[static_cast<size_t>(w_dtype)](w, wf.data(), k);
  ref.dequantize_row[static_cast<size_t>(a_dtype)](a, af.data(), k);
  double s = 0.0;
  for (int64_t i = 0; i < k; ++i) s += std::fabs(static_cast<double>(wf[i]) * af[i]);
  return s;
}

inline const std::vector<DType>& weight_dtypes() {
  static const std::vector<DType> kAll = {DType::kF32,  DType::kF16,  DType::kBF16,
                                          DType::kQ4_0, DType::kQ5_0, DType::kQ8_0,
                                          DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};
  return kAll;
}

// k values to test: multiples of the block for quantized types (1..8 blocks and a large one),
// odd lengths around the SIMD widths for float types.
inline std::vector<int64_t> test_lengths(DType dtype) {
  const int64_t block = dtype_traits(dtype).block_elems;
  if (block == 1) return {1, 3, 7, 8, 15, 16, 17, 31, 33, 63, 65, 100, 257, 4096};
  std::vector<int64_t> ks;
  for (int64_t n = 1; n <= 8; ++n) ks.push_back(n * block);
  ks.push_back(4096);
  return ks;
}

inline size_t slot(DType dtype) { return static_cast<size_t>(dtype); }

// mul_mat arguments over all n_rows rows of a weight matrix and n_tokens activation rows; the
// output is [n_tokens, n_rows].
inline MulMatArgs full_mul_mat_args(int64_t k, const void* weights, int64_t weight_row_bytes, int64_t n_rows,
                                    const void* acts, int64_t act_row_bytes, int64_t n_tokens, float* out) {
  MulMatArgs args;
  args.k = k;
  args.weights = weights;
  args.weight_row_bytes = weight_row_bytes;
  args.row_begin = 0;
  args.row_end = n_rows;
  args.acts = acts;
  args.act_row_bytes = act_row_bytes;
  args.n_tokens = n_tokens;
  args.out = out;
  args.out_row_stride = n_rows;
  return args;
}

}  // namespace frugal::testing

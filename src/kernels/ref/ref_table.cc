// The complete scalar reference kernel table (kernels layer): every supported dtype's
// quantize_row, dequantize_row and vec_dot, and mul_mat as a loop over vec_dot.
#include <cmath>

#include "core/check.h"
#include "kernels/f32_vec.h"
#include "kernels/fma_probe.h"
#include "kernels/isa_tables.h"
#include "kernels/mul_mat_loop.h"
#include "kernels/ref/ref_dot.h"
#include "quant/float_formats.h"
#include "quant/q4_0.h"
#include "quant/q4_k.h"
#include "quant/q5_0.h"
#include "quant/q5_k.h"
#include "quant/q6_k.h"
#include "quant/q8_0.h"
#include "quant/q8_k.h"
#include "quant/row_codec.h"

namespace frugal {
namespace {

size_t slot(DType dtype) { return static_cast<size_t>(dtype); }

template <typename Format>
void add_float_format(KernelTable& t) {
  t.quantize_row[slot(Format::kDType)] = quantize_row_floats<Format>;
  t.dequantize_row[slot(Format::kDType)] = dequantize_row_floats<Format>;
  t.vec_dot[slot(Format::kDType)] = ref::vec_dot_float<Format>;
}

template <typename Format, typename DotFamily>
void add_block_format(KernelTable& t, DotFamily vec_dot) {
  t.quantize_row[slot(Format::kDType)] = quantize_row_blocks<Format>;
  t.dequantize_row[slot(Format::kDType)] = dequantize_row_blocks<Format>;
  t.vec_dot[slot(Format::kDType)] = vec_dot;
}

// The references for the vector exp kernels: std::exp per element, the sum in double.
float ref_exp_shifted(float* x, int64_t n, float shift) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - shift);
    sum += x[i];
  }
  return static_cast<float>(sum);
}

float ref_max(const float* x, int64_t n) {
  float m = x[0];
  for (int64_t i = 1; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

void ref_silu_mul(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void ref_mul_mat(DType weight_dtype, const MulMatArgs& args) {
  const KernelTable::VecDotFn vec_dot = ref_kernel_table().vec_dot[slot(weight_dtype)];
  CHECK(vec_dot != nullptr, "mul_mat: unsupported weight dtype");
  mul_mat_by_vec_dot(vec_dot, args);
}

KernelTable make_ref_table() {
  KernelTable t;
  t.isa = Isa::kRef;
  add_float_format<F32Format>(t);
  add_float_format<F16Format>(t);
  add_float_format<BF16Format>(t);
  add_block_format<Q4_0>(t, ref::vec_dot_type0<Q4_0>);
  add_block_format<Q5_0>(t, ref::vec_dot_type0<Q5_0>);
  add_block_format<Q8_0>(t, ref::vec_dot_type0<Q8_0>);
  add_block_format<Q4_K>(t, ref::vec_dot_k<Q4_K>);
  add_block_format<Q5_K>(t, ref::vec_dot_k<Q5_K>);
  add_block_format<Q6_K>(t, ref::vec_dot_k<Q6_K>);
  t.quantize_row[slot(DType::kQ8_K)] = quantize_row_blocks<Q8_K>;
  t.dequantize_row[slot(DType::kQ8_K)] = dequantize_row_q8_k;
  t.mul_mat = ref_mul_mat;
  t.dot_rows_f32 = dot_rows_f32_lanes<1>;
  t.axpy_rows_f32 = axpy_rows_f32_loop;
  t.exp_shifted_f32 = ref_exp_shifted;
  t.max_f32 = ref_max;
  t.silu_mul_f32 = ref_silu_mul;
  t.fma_probe = make_fma_probe<4, 8>("portable");  // SSE2: 4 lanes; separate multiply and add
  return t;
}

}  // namespace

const KernelTable& ref_kernel_table() {
  static const KernelTable table = make_ref_table();
  return table;
}

}  // namespace frugal

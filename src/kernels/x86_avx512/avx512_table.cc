// The AVX-512 (F/BW/VL/DQ/VNNI) kernel table (kernels layer). Q4_0, Q8_0, Q4_K, Q6_K and F16
// weights use the 512-bit bodies of zmm_*.h; the other formats use the shared x86 tile bodies
// (x86_common/), built here with AVX-512 flags (VNNI dpbusd in the type-0 int8 dot).

// GCC 12 flags the _mm512_undefined_*() placeholders inside its own intrinsics as uninitialized
// (false positive, GCC bug 105593); silenced for this ISA TU only.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/fma_probe.h"
#include "kernels/isa_tables.h"
#include "kernels/x86_avx512/zmm_f32_vec.h"
#include "kernels/x86_avx512/zmm_float.h"
#include "kernels/x86_avx512/zmm_kquant.h"
#include "kernels/x86_avx512/zmm_type0.h"
#include "kernels/x86_common/x86_table.h"

namespace frugal {
namespace {

// 32 registers: a 4-row x 4-token tile keeps 16 accumulators + 4 unpacked weight vectors live.
using SharedKernels = x86::X86Kernels<4, 4>;

void avx512_mul_mat(DType weight_dtype, const MulMatArgs& args) {
  switch (weight_dtype) {
    // Type-0: decode streams 4 rows at once; prefill 4 rows x 4 tokens (16 accumulators,
    // 12 unpacked weight vectors).
    case DType::kQ4_0: return x86::Type0Zmm<x86::Q4_0Zmm>::mul_mat<4, 4>(args);
    case DType::kQ8_0: return x86::Type0Zmm<x86::Q8_0Zmm>::mul_mat<4, 4>(args);
    case DType::kQ4_K: return x86::KZmm<x86::Q4_KZmm>::mul_mat(args);
    case DType::kQ6_K: return x86::KZmm<x86::Q6_KZmm>::mul_mat(args);
    case DType::kF16: return x86::F16Zmm::mul_mat(args);
    default: return SharedKernels::mul_mat(weight_dtype, args);
  }
}

// vec_dot as a one-row, one-token mul_mat of the 512-bit bodies.
template <DType kWeight>
float avx512_vec_dot(int64_t k, const void* w_row, const void* act_row) {
  float out = 0.0f;
  const MulMatArgs args = single_dot_args(k, w_row, act_row, &out);
  avx512_mul_mat(kWeight, args);
  return out;
}

}  // namespace

const KernelTable& avx512_kernel_table() {
  static const KernelTable table = [] {
    KernelTable t = SharedKernels::make(Isa::kAvx512);
    t.mul_mat = avx512_mul_mat;
    t.vec_dot[static_cast<size_t>(DType::kQ4_0)] = avx512_vec_dot<DType::kQ4_0>;
    t.vec_dot[static_cast<size_t>(DType::kQ8_0)] = avx512_vec_dot<DType::kQ8_0>;
    t.vec_dot[static_cast<size_t>(DType::kQ4_K)] = avx512_vec_dot<DType::kQ4_K>;
    t.vec_dot[static_cast<size_t>(DType::kQ6_K)] = avx512_vec_dot<DType::kQ6_K>;
    t.vec_dot[static_cast<size_t>(DType::kF16)] = avx512_vec_dot<DType::kF16>;
    t.fma_probe = make_fma_probe<16, 8>("avx512");  // FMA latency 4 cycles x 2 ports
    t.dot_f32 = x86::zmm_dot_f32;
    t.axpy_f32 = x86::zmm_axpy_f32;
    return t;
  }();
  return table;
}

}  // namespace frugal

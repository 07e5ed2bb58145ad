// The AVX-512 (F/BW/VL/DQ/VNNI) kernel table (kernels layer). Q4_0, Q8_0, Q4_K, Q6_K and F16
// weights use the 512-bit bodies of zmm_*.h; the other formats use the shared x86 tile bodies
// (x86_common/), built here with AVX-512 flags (VNNI dpbusd in the type-0 int8 dot).

// GCC 12 flags the _mm512_undefined_*() placeholders inside its own intrinsics as uninitialized
// (false positive, GCC bug 105593); silenced for this ISA TU only.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "core/check.h"
#include "kernels/fma_probe.h"
#include "kernels/isa_tables.h"
#include "kernels/cpu_features.h"
#include "kernels/x86_avx512/amx_bf16_f16.h"
#include "kernels/x86_avx512/amx_bf16_f32.h"
#include "kernels/x86_avx512/amx_int8_q8.h"
#include "kernels/x86_avx512/amx_packed_q4k.h"
#include "kernels/x86_avx512/zmm_f32_vec.h"
#include "kernels/x86_avx512/zmm_float.h"
#include "kernels/x86_avx512/zmm_kquant.h"
#include "kernels/x86_avx512/zmm_packed.h"
#include "kernels/x86_avx512/zmm_packed_f16.h"
#include "kernels/x86_avx512/zmm_packed_q4k.h"
#include "kernels/x86_avx512/zmm_packed_q6k.h"
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

void avx512_mul_mat_packed(DType weight_dtype, const MulMatArgs& args) {
  switch (weight_dtype) {
    case DType::kQ4_0: return x86::packed_mul_mat<x86::Q4_0Packed>(args);
    case DType::kQ8_0: return x86::packed_mul_mat<x86::Q8_0Packed>(args);
    case DType::kF16:
      if (args.act_bf16_hi != nullptr) return x86::amx_bf16_f16_mul_mat(args);  // only set where split_bf16 is
      return x86::packed_f16_mul_mat(args);
    case DType::kQ4_K: return x86::packed_q4k_mul_mat(args);
    case DType::kQ6_K: return x86::packed_q6k_mul_mat(args);
    default: CHECK(false, "mul_mat_packed: this weight type has no packed layout");
  }
}

// The AMX table's: Q4_K prefill on AMX int8 tiles (the same bits), everything else as AVX-512.
void amx_mul_mat_packed(DType weight_dtype, const MulMatArgs& args) {
  if (weight_dtype == DType::kQ4_K) return x86::amx_packed_q4k_mul_mat(args);
  avx512_mul_mat_packed(weight_dtype, args);
}

template <typename P>
void set_packed(KernelTable& t, DType dtype) {
  t.packed_size[static_cast<size_t>(dtype)] = x86::packed_size<P>;
  t.pack_rows[static_cast<size_t>(dtype)] = x86::pack_rows<P>;
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
    // Q4_0 / Q8_0 / F16 / Q4_K / Q6_K matrices are re-laid out at load time (16-row strips): one
    // arithmetic for decode and prefill, 8 tokens per weight unpack (F16: no horizontal sums, 8
    // strips per decode pass; Q4_K / Q6_K: VNNI on 4- / 6-bit levels with exact integer scales,
    // bit-exact with ref::packed_k_mul_mat).
    set_packed<x86::Q4_0Packed>(t, DType::kQ4_0);
    set_packed<x86::Q8_0Packed>(t, DType::kQ8_0);
    t.packed_size[static_cast<size_t>(DType::kF16)] = x86::packed_f16_size;
    t.pack_rows[static_cast<size_t>(DType::kF16)] = x86::pack_rows_f16;
    t.packed_size[static_cast<size_t>(DType::kQ4_K)] = packed_k::q4k_size;
    t.pack_rows[static_cast<size_t>(DType::kQ4_K)] = packed_k::pack_rows_q4k;
    t.packed_size[static_cast<size_t>(DType::kQ6_K)] = packed_k::q6k_size;
    t.pack_rows[static_cast<size_t>(DType::kQ6_K)] = packed_k::pack_rows_q6k;
    t.mul_mat_packed = avx512_mul_mat_packed;
    // F16 prefill on AMX-BF16 tiles where the CPU and the OS grant them (the op passes bf16
    // activation planes only when split_bf16 is set; amx_f16_mode switches it off).
    if (cpu_features().supports_amx_bf16()) {
      t.split_bf16 = x86::split_bf16_zmm;
      t.amx_bf16_probe = x86::amx_bf16_probe;
      t.bf16_tile_gemm = &x86::amx_bf16_f32_kernels();  // f32 GEMMs (VAE convolutions) on the same tiles
    }
    // Tile-Q8 (Q8_0 re-quantized per row at load) on AMX-INT8 tiles where granted.
    if (cpu_features().supports_amx()) {
      t.tile_q8_quantize = x86::tile_q8_quantize_zmm;
      t.tile_q8_mul_mat = x86::amx_int8_q8_mul_mat;
      t.amx_int8_probe = x86::amx_int8_probe;
    }
    t.dot_rows_f32 = x86::zmm_dot_rows_f32;
    t.axpy_rows_f32 = x86::zmm_axpy_rows_f32;
    return t;
  }();
  return table;
}

const KernelTable& amx_kernel_table() {
  static const KernelTable table = [] {
    KernelTable t = avx512_kernel_table();
    t.isa = Isa::kAmx;
    t.mul_mat_packed = amx_mul_mat_packed;
    return t;
  }();
  return table;
}

}  // namespace frugal

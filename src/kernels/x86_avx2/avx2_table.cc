// The AVX2 + FMA + F16C kernel table (kernels layer). Compiled with -mavx2 -mfma -mf16c -mbmi2.
#include "kernels/f32_vec.h"
#include "kernels/x86_avx2/ymm_f32_vec.h"
#include "kernels/fma_probe.h"
#include "kernels/isa_tables.h"
#include "kernels/x86_common/x86_table.h"

namespace frugal {

// 16 ymm registers: a 4-row x 2-token tile keeps 8 accumulators + 4 unpacked weight vectors live.
const KernelTable& avx2_kernel_table() {
  static const KernelTable table = [] {
    KernelTable t = x86::X86Kernels<4, 2>::make(Isa::kAvx2);
    t.fma_probe = make_fma_probe<8, 10>("avx2");  // FMA latency 5 cycles x 2 ports
    t.dot_rows_f32 = x86::ymm_dot_rows_f32;
    t.axpy_rows_f32 = x86::ymm_axpy_rows_f32;
    return t;
  }();
  return table;
}

}  // namespace frugal

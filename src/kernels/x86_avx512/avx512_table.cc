// The AVX-512 (F/BW/VL/DQ/VNNI) kernel table (kernels layer). Same tile bodies as AVX2, built
// with AVX-512 flags: VNNI's dpbusd replaces maddubs+madd in the type-0 int8 dot, and 32 vector
// registers allow a wider tile.
#include "kernels/isa_tables.h"
#include "kernels/x86_common/x86_table.h"

namespace frugal {

// 32 registers: a 4-row x 4-token tile keeps 16 accumulators + 4 unpacked weight vectors live.
const KernelTable& avx512_kernel_table() {
  static const KernelTable table = x86::X86Kernels<4, 4>::make(Isa::kAvx512);
  return table;
}

}  // namespace frugal

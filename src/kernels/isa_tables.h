// Raw per-ISA kernel tables (kernels layer, internal): each may leave entries null; kernel_table.cc
// fills the gaps from the ref table. Only kernel_table.cc and tests' internals should need this.
#pragma once

#include "kernels/kernel_table.h"

namespace frugal {

// Complete scalar reference table (ref/ref_table.cc).
const KernelTable& ref_kernel_table();

#if defined(FRUGAL_HAVE_X86_KERNELS)
const KernelTable& avx2_kernel_table();    // x86_avx2/avx2_table.cc
const KernelTable& avx512_kernel_table();  // x86_avx512/avx512_table.cc
const KernelTable& amx_kernel_table();     // the AVX-512 table plus AMX int8 tiles (same TU)
#endif

}  // namespace frugal

// Scalar reference of the packed K-quant layouts (kernels layer): mul_mat over the strips of
// kernels/packed_k_layout.h, read back element by element. The integer sums are exact and the f32
// scaling is ref::vec_dot_k's, in its order, so every output equals the ref table's vec_dot on the
// original rows bit for bit -- the layout's specification that the ISA kernels are tested against.
#pragma once

#include "kernels/kernel_table.h"

namespace frugal::ref {

// weight_dtype Q4_K or Q6_K; args as KernelTable::mul_mat_packed (args.weights: the packed matrix,
// row_begin a multiple of kPackedRowGroup; the act_block_* arrays are not needed).
void packed_k_mul_mat(DType weight_dtype, const MulMatArgs& args);

}  // namespace frugal::ref

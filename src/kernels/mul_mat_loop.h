// mul_mat as a loop of vec_dot calls (kernels layer): the reference matmul and the fallback for
// weight dtypes an ISA has no blocked kernel for.
#pragma once

#include <cstdint>

#include "kernels/kernel_table.h"

namespace frugal {

// out[token * out_row_stride + row] = vec_dot(W[row], X[token]) for row in [row_begin, row_end).
inline void mul_mat_by_vec_dot(KernelTable::VecDotFn vec_dot, const MulMatArgs& args) {
  const auto* weights = static_cast<const uint8_t*>(args.weights);
  const auto* acts = static_cast<const uint8_t*>(args.acts);
  for (int64_t token = 0; token < args.n_tokens; ++token) {
    const uint8_t* act_row = acts + token * args.act_row_bytes;
    float* out_row = args.out + token * args.out_row_stride;
    for (int64_t row = args.row_begin; row < args.row_end; ++row) {
      out_row[row] = vec_dot(args.k, weights + row * args.weight_row_bytes, act_row);
    }
  }
}

}  // namespace frugal

// TensorView: a non-owning view of a tensor's bytes (tensor layer).
// Dimensions follow GGUF order: ne[0] is the innermost (contiguous) dimension, so a weight
// matrix W [n_out, n_in] in math notation has ne = {n_in, n_out}: each row holds n_in elements.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "tensor/dtype.h"

namespace frugal {

struct TensorView {
  DType dtype = DType::kF32;
  std::array<int64_t, 4> ne = {1, 1, 1, 1};  // elements per dimension, ne[0] innermost
  int n_dims = 0;
  const void* data = nullptr;                // contiguous, row-major over ne
  // The same matrix re-laid out for the kernels in use (ops/matmul.h pack_for_kernels), or null.
  // Matmuls read it; data stays valid for everything else (reference path, get_rows).
  const void* packed = nullptr;
  // > 0: `packed` holds the tile-Q8 layout (kernels/tile_q8_layout.h) with this many elements per
  // scale group, for the AMX-INT8 matmul; 0: the table's usual packed layout.
  int64_t packed_tile_group = 0;

  int64_t num_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  int64_t row_elems() const { return ne[0]; }
  int64_t num_rows() const { return ne[1] * ne[2] * ne[3]; }
  int64_t row_bytes() const { return dtype_row_bytes(dtype, ne[0]); }
  int64_t size_bytes() const { return row_bytes() * num_rows(); }
  const uint8_t* row(int64_t row_idx) const {
    return static_cast<const uint8_t*>(data) + row_idx * row_bytes();
  }
  bool valid() const { return data != nullptr; }
};

}  // namespace frugal

// MatmulObserver (model layer): sees the input rows of every weight-matrix product of the forward
// pass, for importance-matrix collection (engine/imatrix_collector.h). It is installed for the
// calling thread by a ScopedMatmulObserver, so the forward's signature and its callers stay as
// they are: the forward calls current_matmul_observer() before each product, on its own thread.
#pragma once

#include <cstdint>

#include "tensor/tensor_view.h"

namespace frugal {

class MatmulObserver {
 public:
  virtual ~MatmulObserver() = default;
  // w: the weight as bound from the file (w.data is its tensor's bytes in the mapping);
  // x: [n_rows, w.ne[0]] f32, the rows it multiplies.
  virtual void observe(const TensorView& w, const float* x, int64_t n_rows) = 0;
};

// The observer installed on this thread, or nullptr (the normal case: one thread-local load).
MatmulObserver* current_matmul_observer();

// Installs observer on this thread for its lifetime (nesting restores the outer one).
class ScopedMatmulObserver {
 public:
  explicit ScopedMatmulObserver(MatmulObserver* observer);
  ~ScopedMatmulObserver();
  ScopedMatmulObserver(const ScopedMatmulObserver&) = delete;
  ScopedMatmulObserver& operator=(const ScopedMatmulObserver&) = delete;

 private:
  MatmulObserver* previous_;
};

}  // namespace frugal

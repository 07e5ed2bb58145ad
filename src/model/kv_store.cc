#include "model/kv_store.h"

#include <algorithm>

namespace frugal {

KvStore::KvStore(const ModelConfig& config, int64_t n_rows)
    : n_rows_(n_rows),
      kv_dim_(config.kv_dim()),
      n_layer_(config.n_layer),
      keys_(static_cast<size_t>(config.n_layer * n_rows * config.kv_dim())),
      values_(static_cast<size_t>(config.n_layer * n_rows * config.kv_dim())) {}

void KvStore::copy_rows(int64_t src_row, int64_t dst_row, int64_t count) {
  for (int64_t layer_idx = 0; layer_idx < n_layer_; ++layer_idx) {
    std::copy_n(key_row(layer_idx, src_row), count * kv_dim_, key_row(layer_idx, dst_row));
    std::copy_n(value_row(layer_idx, src_row), count * kv_dim_, value_row(layer_idx, dst_row));
  }
}

}  // namespace frugal

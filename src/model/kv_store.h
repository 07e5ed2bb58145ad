// KvStore: the K/V rows of every layer (model layer). Row r holds one token's keys (or values)
// for all KV heads: [n_head_kv, head_dim] f32. Who owns which rows is decided above the model: a
// single sequence uses rows 0..n_ctx-1 in position order; the serving engine's paged cache hands
// out rows by block (row = block_id * block_size + offset).
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"

namespace frugal {

class KvStore {
 public:
  KvStore(const ModelConfig& config, int64_t n_rows);

  int64_t n_rows() const { return n_rows_; }
  int64_t kv_dim() const { return kv_dim_; }
  int64_t size_bytes() const { return static_cast<int64_t>((keys_.size() + values_.size()) * sizeof(float)); }
  static int64_t bytes_per_row(const ModelConfig& config) { return 2 * config.n_layer * config.kv_dim() * 4; }

  float* key_row(int64_t layer_idx, int64_t row) { return keys_.data() + (layer_idx * n_rows_ + row) * kv_dim_; }
  float* value_row(int64_t layer_idx, int64_t row) { return values_.data() + (layer_idx * n_rows_ + row) * kv_dim_; }
  const float* layer_keys(int64_t layer_idx) const { return keys_.data() + layer_idx * n_rows_ * kv_dim_; }
  const float* layer_values(int64_t layer_idx) const { return values_.data() + layer_idx * n_rows_ * kv_dim_; }
  // Copies rows [src, src + count) to [dst, dst + count) in every layer (copy-on-write of a block).
  void copy_rows(int64_t src_row, int64_t dst_row, int64_t count);

 private:
  int64_t n_rows_;
  int64_t kv_dim_;
  int64_t n_layer_;
  std::vector<float> keys_;    // [n_layer, n_rows, kv_dim]
  std::vector<float> values_;  // [n_layer, n_rows, kv_dim]
};

}  // namespace frugal

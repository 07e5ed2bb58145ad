// KvCache: one sequence's contiguous f32 key/value history for every layer (model layer).
// The serving engine's paged cache (issue "Serving") replaces this for batched requests.
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"

namespace frugal {

class KvCache {
 public:
  KvCache(const ModelConfig& config, int64_t n_ctx);

  int64_t n_ctx() const { return n_ctx_; }
  int64_t kv_dim() const { return kv_dim_; }
  int64_t size_bytes() const { return static_cast<int64_t>((keys_.size() + values_.size()) * sizeof(float)); }

  float* key_row(int64_t layer_idx, int64_t pos) { return keys_.data() + (layer_idx * n_ctx_ + pos) * kv_dim_; }
  float* value_row(int64_t layer_idx, int64_t pos) { return values_.data() + (layer_idx * n_ctx_ + pos) * kv_dim_; }
  const float* layer_keys(int64_t layer_idx) const { return keys_.data() + layer_idx * n_ctx_ * kv_dim_; }
  const float* layer_values(int64_t layer_idx) const { return values_.data() + layer_idx * n_ctx_ * kv_dim_; }

 private:
  int64_t n_ctx_;
  int64_t kv_dim_;
  std::vector<float> keys_;    // [n_layer, n_ctx, kv_dim]
  std::vector<float> values_;  // [n_layer, n_ctx, kv_dim]
};

}  // namespace frugal

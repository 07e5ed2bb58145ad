#include "model/kv_cache.h"

namespace frugal {

KvCache::KvCache(const ModelConfig& config, int64_t n_ctx)
    : n_ctx_(n_ctx),
      kv_dim_(config.kv_dim()),
      keys_(static_cast<size_t>(config.n_layer * n_ctx * config.kv_dim())),
      values_(static_cast<size_t>(config.n_layer * n_ctx * config.kv_dim())) {}

}  // namespace frugal

#include "cost/kv_budget.h"

#include <cmath>

namespace frugal {

KvBudget KvBudget::for_shape(const LlmShape& shape, double kv_bytes_per_element, int64_t block_tokens) {
  return KvBudget{shape.kv_bytes_per_token(kv_bytes_per_element), block_tokens};
}

int64_t KvBudget::blocks_for_context(int64_t context) const {
  if (context <= 0 || block_tokens <= 0) return 0;
  return (context + block_tokens - 1) / block_tokens;
}

double KvBudget::kv_mem_bytes_for(int64_t batch, int64_t context) const {
  if (batch <= 0) return 0;
  return static_cast<double>(batch) * static_cast<double>(blocks_for_context(context)) * bytes_per_block();
}

int64_t KvBudget::max_context_at(double kv_mem_bytes, int64_t batch) const {
  if (batch <= 0 || bytes_per_block() <= 0 || kv_mem_bytes <= 0) return 0;
  // The engine's integer division: whole blocks only.
  const double num_blocks = std::floor(kv_mem_bytes / bytes_per_block());
  const double blocks_per_sequence = std::floor(num_blocks / static_cast<double>(batch));
  return static_cast<int64_t>(blocks_per_sequence) * block_tokens;
}

}  // namespace frugal

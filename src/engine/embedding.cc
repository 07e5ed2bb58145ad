#include "engine/embedding.h"

#include <cmath>
#include <string>

#include "model/kv_store.h"

namespace frugal {

Expected<std::vector<float>> embed_tokens(const Model& model, const std::vector<int32_t>& tokens, ThreadPool& pool) {
  const ModelConfig& c = model.config();
  const int64_t n_tokens = static_cast<int64_t>(tokens.size());
  if (n_tokens == 0) return invalid_argument("embedding: the input has no tokens");
  if (n_tokens > c.n_ctx_train) {
    return invalid_argument("embedding: the input has " + std::to_string(n_tokens) +
                            " tokens, beyond this model's context of " + std::to_string(c.n_ctx_train) + " tokens");
  }
  KvStore kv(c, n_tokens);
  ForwardScratch scratch;
  ForwardOptions options;
  options.logits = LogitsMode::kAll;  // every row goes through output_norm into scratch.xn
  std::vector<float> logits;          // [n_tokens, n_vocab]: computed, unused
  Status ran = model.forward_sequence(tokens.data(), n_tokens, 0, kv, pool, scratch, options, logits);
  if (!ran.is_ok()) return ran;
  // scratch.xn: [n_tokens, n_embd], the normalised final hidden state of each token.
  std::vector<double> sum(static_cast<size_t>(c.n_embd), 0.0);
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* row = scratch.xn.data() + t * c.n_embd;
    for (int64_t e = 0; e < c.n_embd; ++e) sum[static_cast<size_t>(e)] += row[e];
  }
  double norm_sq = 0.0;
  for (double& v : sum) {
    v /= static_cast<double>(n_tokens);
    norm_sq += v * v;
  }
  const double inv_norm = norm_sq > 0.0 ? 1.0 / std::sqrt(norm_sq) : 0.0;
  std::vector<float> embedding(sum.size());
  for (size_t e = 0; e < sum.size(); ++e) embedding[e] = static_cast<float>(sum[e] * inv_norm);
  return embedding;
}

}  // namespace frugal

// Model: a loaded decoder-only transformer and its forward pass (model layer).
// The forward pass is shared by every registered architecture; an architecture only decides how
// its GGUF maps onto config and weights (model/arch/*.cc).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/expected.h"
#include "core/thread_pool.h"
#include "gguf/gguf_reader.h"
#include "model/config.h"
#include "model/kv_cache.h"
#include "model/weights.h"
#include "ops/matmul.h"

namespace frugal {

// Which positions produce logits.
enum class LogitsMode { kLast, kAll };

struct ForwardOptions {
  MatmulPath path = MatmulPath::kFast;
  LogitsMode logits = LogitsMode::kLast;
};

// Activation buffers reused across forward calls (grown on demand).
struct ForwardScratch {
  std::vector<float> x, xn, q, k, v, attn, proj, gate, up;  // [n_tokens, width]
  std::vector<int32_t> positions;
  MatmulScratch matmul;
};

class Model {
 public:
  // Opens and validates a GGUF model: architecture, hyper-parameters, every tensor.
  static Expected<std::unique_ptr<Model>> load(const std::string& path);
  static Expected<std::unique_ptr<Model>> from_file(GgufFile file);

  const ModelConfig& config() const { return config_; }
  const GgufFile& file() const { return file_; }
  const ModelWeights& weights() const { return weights_; }

  // Runs tokens[0..n) at positions pos0.. pos0+n-1, writing their K/V into `kv` and attending over
  // positions [0, pos0 + n). logits: [n_tokens or 1, n_vocab] per options.logits.
  // Errors: token id outside the vocabulary, positions beyond kv.n_ctx().
  Status forward(const int32_t* tokens, int64_t n_tokens, int64_t pos0, KvCache& kv, ThreadPool& pool,
                 ForwardScratch& scratch, const ForwardOptions& options, std::vector<float>& logits) const;

 private:
  Model(GgufFile file, ModelConfig config, ModelWeights weights);
  void run_layer(int64_t layer_idx, int64_t n_tokens, KvCache& kv, ThreadPool& pool, ForwardScratch& s,
                 MatmulPath path) const;

  GgufFile file_;
  ModelConfig config_;
  ModelWeights weights_;
  RopeTable rope_;
};

}  // namespace frugal

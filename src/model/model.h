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
#include "model/kv_store.h"
#include "model/moe_ffn.h"
#include "ops/attention.h"
#include "model/weights.h"
#include "ops/matmul.h"

namespace frugal {

// Which positions produce logits.
enum class LogitsMode { kLast, kAll };

struct ForwardOptions {
  MatmulPath path = MatmulPath::kFast;
  LogitsMode logits = LogitsMode::kLast;
};

// One continuous-batching step: tokens of one or more sequences. Token t belongs to sequence
// seqs[seq_of_token[t]], sits at positions[t] and writes its K/V into row slots[t]; it attends over
// its sequence's positions [0, positions[t]] through that sequence's slot table.
struct ForwardBatch {
  const int32_t* tokens = nullptr;        // [n_tokens]
  const int32_t* positions = nullptr;     // [n_tokens]
  const int32_t* slots = nullptr;         // [n_tokens]
  const int32_t* seq_of_token = nullptr;  // [n_tokens]
  int64_t n_tokens = 0;
  const AttentionSeq* seqs = nullptr;     // [n_seqs]; seqs[s].slots covers the positions written so far
  int64_t n_seqs = 0;
  const int32_t* logit_rows = nullptr;    // [n_logit_rows] token indices whose logits are wanted
  int64_t n_logit_rows = 0;
};

// Activation buffers reused across forward calls (grown on demand).
struct ForwardScratch {
  std::vector<float> x, xn, q, k, v, attn, proj, gate, up;  // [n_tokens, width]
  MoeScratch moe;  // mixture-of-experts layers
  std::vector<int32_t> seq_positions, seq_slots, seq_of_token, logit_rows;  // forward_sequence's batch
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

  // Runs one batch. logits: [n_logit_rows, n_vocab]. Errors: a token id outside the vocabulary, a
  // slot outside the store, a position outside its sequence's history.
  Status forward(const ForwardBatch& batch, KvStore& kv, ThreadPool& pool, ForwardScratch& scratch, MatmulPath path,
                 std::vector<float>& logits) const;
  // One sequence whose position p lives in row p: runs tokens[0..n) at positions pos0.. pos0+n-1.
  // logits: [n_tokens or 1, n_vocab] per options.logits.
  Status forward_sequence(const int32_t* tokens, int64_t n_tokens, int64_t pos0, KvStore& kv, ThreadPool& pool,
                          ForwardScratch& scratch, const ForwardOptions& options, std::vector<float>& logits) const;

 private:
  Model(GgufFile file, ModelConfig config, ModelWeights weights);
  Status validate(const ForwardBatch& batch, const KvStore& kv) const;
  void run_layer(int64_t layer_idx, const ForwardBatch& batch, KvStore& kv, ThreadPool& pool, ForwardScratch& s,
                 MatmulPath path) const;

  GgufFile file_;
  ModelConfig config_;
  ModelWeights weights_;
  RopeTable rope_;
};

}  // namespace frugal

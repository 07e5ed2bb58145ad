// Session: one sequence's inference state over a loaded model (engine layer): its KV cache, the
// thread pool and scratch, and the tokens evaluated so far. Single-threaded use (one owner).
#pragma once

#include <memory>
#include <vector>

#include "core/expected.h"
#include "core/thread_pool.h"
#include "model/model.h"

namespace frugal {

struct SessionOptions {
  int64_t n_ctx = 0;       // 0 = the model's training context
  int num_threads = 0;     // 0 = default_num_threads()
  MatmulPath path = MatmulPath::kFast;
  RoutingTrace* routing_trace = nullptr;  // MoE models: record or replay expert choices (model/moe_ffn.h)
};

class Session {
 public:
  Session(const Model& model, const SessionOptions& options);

  const Model& model() const { return model_; }
  int64_t n_ctx() const { return kv_.n_rows(); }
  int64_t n_past() const { return static_cast<int64_t>(history_.size()); }
  const std::vector<int32_t>& history() const { return history_; }
  ThreadPool& pool() { return pool_; }

  // Appends tokens and runs them. Returns the logits of the last token [n_vocab], or of every new
  // token [n_tokens, n_vocab] with LogitsMode::kAll. kResourceExhausted when the context is full.
  Expected<std::vector<float>> eval(const std::vector<int32_t>& tokens, LogitsMode mode = LogitsMode::kLast);
  // Forgets everything after the first n tokens (their K/V rows are simply overwritten later).
  void truncate(int64_t n);

 private:
  const Model& model_;
  ThreadPool pool_;
  KvStore kv_;
  ForwardScratch scratch_;
  MatmulPath path_;
  std::vector<int32_t> history_;
};

}  // namespace frugal

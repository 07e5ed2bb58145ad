// Token-level perplexity over fixed windows (engine layer), the method of llama.cpp's perplexity
// tool: the token stream is cut into non-overlapping windows of n_ctx tokens, the first token of
// each window is replaced by BOS (when the model has one), and by default only the second half of
// each window is scored, so every scored token sees at least n_ctx/2 tokens of context.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/expected.h"
#include "model/model.h"

namespace frugal {

struct PerplexityOptions {
  int64_t n_ctx = 0;        // window length in tokens (BOS included); 0 = the model's training context
  int64_t max_chunks = -1;  // < 0: every full window
  bool score_all = false;   // score every prediction of the window, not only its second half
  int num_threads = 0;      // 0 = default_num_threads()
  MatmulPath path = MatmulPath::kFast;
};

struct PerplexityChunk {
  int64_t chunk_idx = 0;
  int64_t n_scored = 0;      // predictions scored in this window
  double nll_sum = 0.0;      // sum of -log p(token) over them (natural log)
  double running_ppl = 0.0;  // perplexity over every window so far
};

struct PerplexityResult {
  double ppl = 0.0;          // exp(mean negative log-likelihood)
  double ppl_stderr = 0.0;   // standard error of ppl (delta method from the per-token NLL variance)
  double mean_nll = 0.0;     // nats per scored token
  int64_t n_scored = 0;      // scored tokens over all windows
  int64_t n_chunks = 0;
  int64_t n_ctx = 0;         // the window length used
};

using PerplexityCallback = std::function<void(const PerplexityChunk& chunk)>;

// tokens: the tokenized text (a leading BOS is allowed and treated like any other first token).
// bos_id: the token that replaces each window's first token; < 0 keeps the text's own token.
// Errors: n_ctx < 4, a token id outside the vocabulary, fewer tokens than one window.
Expected<PerplexityResult> compute_perplexity(const Model& model, const std::vector<int32_t>& tokens, int32_t bos_id,
                                              const PerplexityOptions& options,
                                              const PerplexityCallback& on_chunk = nullptr);

}  // namespace frugal

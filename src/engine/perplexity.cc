#include "engine/perplexity.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "engine/session.h"

namespace frugal {
namespace {

// -log softmax(logits)[target], in double so long windows do not lose digits.
double token_nll(const float* logits, int64_t n_vocab, int32_t target) {
  const float max_logit = *std::max_element(logits, logits + n_vocab);
  double sum = 0.0;
  for (int64_t v = 0; v < n_vocab; ++v) sum += std::exp(static_cast<double>(logits[v] - max_logit));
  return std::log(sum) - static_cast<double>(logits[target] - max_logit);
}

struct NllTotals {
  double sum = 0.0;
  double sum_sq = 0.0;
  int64_t count = 0;
};

// Evaluates one window from an empty context and adds the NLL of its scored predictions.
Expected<PerplexityChunk> score_window(Session& session, std::vector<int32_t> window, int32_t bos_id,
                                       int64_t first_scored, NllTotals& totals) {
  if (bos_id >= 0) window[0] = bos_id;
  session.truncate(0);
  auto logits = session.eval(window, LogitsMode::kAll);  // [n_ctx, n_vocab]
  if (!logits) return logits.error();
  const int64_t n_vocab = session.model().config().n_vocab;
  const int64_t n_ctx = static_cast<int64_t>(window.size());
  PerplexityChunk chunk;
  // The logits at position pos_idx predict the token at pos_idx + 1.
  for (int64_t pos_idx = first_scored; pos_idx + 1 < n_ctx; ++pos_idx) {
    const double nll = token_nll(logits->data() + pos_idx * n_vocab, n_vocab, window[static_cast<size_t>(pos_idx + 1)]);
    chunk.nll_sum += nll;
    totals.sum += nll;
    totals.sum_sq += nll * nll;
    ++chunk.n_scored;
    ++totals.count;
  }
  chunk.running_ppl = std::exp(totals.sum / static_cast<double>(totals.count));
  return chunk;
}

}  // namespace

Expected<PerplexityResult> compute_perplexity(const Model& model, const std::vector<int32_t>& tokens, int32_t bos_id,
                                              const PerplexityOptions& options, const PerplexityCallback& on_chunk) {
  const int64_t n_ctx = options.n_ctx > 0 ? options.n_ctx : model.config().n_ctx_train;
  const int64_t n_vocab = model.config().n_vocab;
  if (n_ctx < 4) return invalid_argument("perplexity: the window must be at least 4 tokens, got " + std::to_string(n_ctx));
  if (bos_id >= n_vocab) return invalid_argument("perplexity: BOS id outside the vocabulary");
  for (const int32_t id : tokens) {
    if (id < 0 || id >= n_vocab) return invalid_argument("perplexity: token id " + std::to_string(id) + " outside the vocabulary");
  }
  int64_t n_chunks = static_cast<int64_t>(tokens.size()) / n_ctx;
  if (options.max_chunks >= 0) n_chunks = std::min(n_chunks, options.max_chunks);
  if (n_chunks == 0) {
    return invalid_argument("perplexity: " + std::to_string(tokens.size()) + " tokens are fewer than one window of " +
                            std::to_string(n_ctx));
  }
  SessionOptions session_options;
  session_options.n_ctx = n_ctx;
  session_options.num_threads = options.num_threads;
  session_options.path = options.path;
  Session session(model, session_options);
  // llama.cpp's choice: score only the second half, so each prediction has >= n_ctx/2 context.
  const int64_t first_scored = options.score_all ? 0 : n_ctx / 2;
  NllTotals totals;
  for (int64_t chunk_idx = 0; chunk_idx < n_chunks; ++chunk_idx) {
    const auto begin = tokens.begin() + chunk_idx * n_ctx;
    auto chunk = score_window(session, std::vector<int32_t>(begin, begin + n_ctx), bos_id, first_scored, totals);
    if (!chunk) return chunk.error();
    chunk->chunk_idx = chunk_idx;
    if (on_chunk) on_chunk(*chunk);
  }
  PerplexityResult result;
  result.n_ctx = n_ctx;
  result.n_chunks = n_chunks;
  result.n_scored = totals.count;
  result.mean_nll = totals.sum / static_cast<double>(totals.count);
  result.ppl = std::exp(result.mean_nll);
  const double variance = std::max(0.0, totals.sum_sq / static_cast<double>(totals.count) - result.mean_nll * result.mean_nll);
  const double nll_stderr = totals.count > 1 ? std::sqrt(variance / static_cast<double>(totals.count - 1)) : 0.0;
  result.ppl_stderr = result.ppl * nll_stderr;  // d exp(m) = exp(m) dm
  return result;
}

}  // namespace frugal

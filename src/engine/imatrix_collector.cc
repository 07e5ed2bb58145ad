// Importance-matrix collection (engine layer): a MatmulObserver sums x^2 per input column.
#include "engine/imatrix_collector.h"

#include <cmath>
#include <unordered_map>

#include "engine/session.h"
#include "model/matmul_observer.h"

namespace frugal {
namespace {

class SquareSums : public MatmulObserver {
 public:
  SquareSums(const GgufFile& file, bool include_output) {
    for (const auto& info : file.tensors()) {
      const bool wanted = info.name.rfind("blk.", 0) == 0 || (include_output && info.name == "output.weight");
      if (wanted && info.n_dims == 2) names_[file.tensor_view(info).data] = info.name;
    }
  }

  void observe(const TensorView& w, const float* x, int64_t n_rows) override {
    const auto it = names_.find(w.data);
    if (it == names_.end()) return;  // not a blk.* matrix (the output matrix, token_embd)
    ImatrixEntry& e = entries_[it->second];
    const int64_t n_cols = w.ne[0];
    if (e.sums.empty()) {
      e.sums.assign(static_cast<size_t>(n_cols), 0.0f);
      acc_[it->second].assign(static_cast<size_t>(n_cols), 0.0);
      e.counts = {0};
    }
    std::vector<double>& acc = acc_[it->second];
    for (int64_t r = 0; r < n_rows; ++r) {
      const float* row = x + r * n_cols;
      for (int64_t j = 0; j < n_cols; ++j) acc[static_cast<size_t>(j)] += static_cast<double>(row[j]) * row[j];
    }
    e.counts[0] += n_rows;
  }

  // Sums (accumulated in double) into the entries; the first tensor with a non-finite sum, if any.
  Expected<std::map<std::string, ImatrixEntry>> take() {
    for (auto& [name, e] : entries_) {
      const std::vector<double>& acc = acc_[name];
      for (size_t j = 0; j < acc.size(); ++j) {
        if (!std::isfinite(acc[j])) return invalid_argument("imatrix: non-finite activations entering '" + name + "'");
        e.sums[j] = static_cast<float>(acc[j]);
      }
    }
    return std::move(entries_);
  }

 private:
  std::unordered_map<const void*, std::string> names_;  // weight bytes -> tensor name
  std::map<std::string, ImatrixEntry> entries_;
  std::unordered_map<std::string, std::vector<double>> acc_;
};

}  // namespace

Expected<Imatrix> collect_imatrix(const Model& model, const std::vector<int32_t>& tokens, int32_t bos_id,
                                  const ImatrixOptions& options, const ImatrixProgress& progress) {
  const int64_t n_ctx = options.n_ctx > 0 ? options.n_ctx : model.config().n_ctx_train;
  const int64_t n_vocab = model.config().n_vocab;
  if (n_ctx < 16) return invalid_argument("imatrix: the window must be at least 16 tokens, got " + std::to_string(n_ctx));
  if (bos_id >= n_vocab) return invalid_argument("imatrix: BOS id outside the vocabulary");
  for (const int32_t id : tokens) {
    if (id < 0 || id >= n_vocab) return invalid_argument("imatrix: token id " + std::to_string(id) + " outside the vocabulary");
  }
  int64_t n_chunks = static_cast<int64_t>(tokens.size()) / n_ctx;
  if (options.max_chunks >= 0) n_chunks = std::min(n_chunks, options.max_chunks);
  if (n_chunks == 0) {
    return invalid_argument("imatrix: " + std::to_string(tokens.size()) + " calibration tokens are fewer than one window of " +
                            std::to_string(n_ctx));
  }
  SessionOptions session_options;
  session_options.n_ctx = n_ctx;
  session_options.num_threads = options.num_threads;
  Session session(model, session_options);
  SquareSums sums(model.file(), options.include_output);
  const ScopedMatmulObserver scope(&sums);  // this thread runs the forward passes
  for (int64_t chunk = 0; chunk < n_chunks; ++chunk) {
    std::vector<int32_t> window(tokens.begin() + chunk * n_ctx, tokens.begin() + (chunk + 1) * n_ctx);
    if (bos_id >= 0) window[0] = bos_id;
    session.truncate(0);
    // All logits, as llama-imatrix computes them, so output.weight sees every row when included.
    auto logits = session.eval(window, options.include_output ? LogitsMode::kAll : LogitsMode::kLast);
    if (!logits) return logits.error();
    if (progress) progress(chunk + 1, n_chunks);
  }
  auto entries = sums.take();
  if (!entries) return entries.error();
  Imatrix m;
  m.entries = std::move(*entries);
  m.chunk_count = n_chunks;
  m.chunk_size = n_ctx;
  if (!options.dataset.empty()) m.datasets.push_back(options.dataset);
  return m;
}

}  // namespace frugal

#include "engine/session.h"

#include <algorithm>

namespace frugal {

Session::Session(const Model& model, const SessionOptions& options)
    : model_(model),
      pool_(options.num_threads > 0 ? options.num_threads : default_num_threads()),
      kv_(model.config(), options.n_ctx > 0 ? options.n_ctx : model.config().n_ctx_train),
      path_(options.path) {
  scratch_.moe.trace = options.routing_trace;
}

Expected<std::vector<float>> Session::eval(const std::vector<int32_t>& tokens, LogitsMode mode) {
  if (tokens.empty()) return invalid_argument("eval: no tokens");
  const int64_t n_new = static_cast<int64_t>(tokens.size());
  if (n_past() + n_new > n_ctx()) {
    return resource_exhausted("context full: " + std::to_string(n_past()) + " + " + std::to_string(n_new) +
                              " tokens exceed the context size " + std::to_string(n_ctx()));
  }
  ForwardOptions options;
  options.path = path_;
  options.logits = mode;
  std::vector<float> logits;
  Status st = model_.forward_sequence(tokens.data(), n_new, n_past(), kv_, pool_, scratch_, options, logits);
  if (!st.is_ok()) return st;
  history_.insert(history_.end(), tokens.begin(), tokens.end());
  return logits;
}

void Session::truncate(int64_t n) {
  history_.resize(static_cast<size_t>(std::clamp<int64_t>(n, 0, n_past())));
}

}  // namespace frugal

#include "engine/constrained_sampling.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"

namespace frugal {

std::shared_ptr<const TokenVocabulary> build_token_vocabulary(const Tokenizer& tokenizer) {
  const int32_t n_vocab = tokenizer.n_vocab();
  std::vector<std::string> pieces(static_cast<size_t>(n_vocab));
  std::vector<int32_t> end_ids;
  for (int32_t id = 0; id < n_vocab; ++id) {
    if (tokenizer.is_eog(id)) {
      end_ids.push_back(id);
      continue;
    }
    // The bytes the output gains (special = false, as OutputProcessor decodes): "" for control tokens.
    pieces[static_cast<size_t>(id)] = tokenizer.token_to_piece(id, /*special=*/false);
  }
  return std::make_shared<const TokenVocabulary>(pieces, std::move(end_ids));
}

void attach_constraint(Sequence& seq, std::shared_ptr<const TokenVocabulary> vocab, int64_t max_context) {
  CHECK(seq.request.grammar != nullptr, "attach_constraint without a grammar");
  int64_t budget = max_context - static_cast<int64_t>(seq.request.prompt.size());
  if (seq.request.max_tokens >= 0) budget = std::min(budget, seq.request.max_tokens);
  seq.constraint = std::make_unique<TokenConstraint>(seq.request.grammar, std::move(vocab), budget,
                                                     seq.request.grammar_trigger);
}

ConstrainedPick pick_constrained(Sequence& seq, const float* logits, int64_t n_vocab, std::vector<float>& masked) {
  masked.assign(logits, logits + n_vocab);
  // Bans take part in the mask, so that the grammar never steers into a token the request banned.
  for (const auto& [token, bias] : seq.request.sampling.logit_bias) {
    if (token < n_vocab && bias <= -kMaxLogitBias) masked[static_cast<size_t>(token)] = -INFINITY;
  }
  seq.constraint->apply(masked.data(), seq.num_generated());
  ConstrainedPick pick;
  const bool any = std::any_of(masked.begin(), masked.end(), [](float v) { return !std::isinf(v) || v > 0; });
  if (!any) {
    pick.none_allowed = true;
    pick.complete = seq.constraint->complete();
    return pick;
  }
  pick.token = seq.sampler.sample(masked.data());
  const bool accepted = seq.constraint->accept(pick.token);
  CHECK(accepted, "constrained sampling picked a masked token");
  pick.ends_document = seq.constraint->finished();
  return pick;
}

}  // namespace frugal

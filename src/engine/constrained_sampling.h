// Structured-output sampling (engine layer): builds the per-tokenizer TokenVocabulary, attaches a
// TokenConstraint to a sequence whose request carries a grammar, and picks each token from the
// grammar-masked logits. See docs/design/structured-output.md.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/sequence.h"
#include "grammar/token_constraint.h"
#include "tokenizer/tokenizer.h"

namespace frugal {

// Every token's output bytes as the OutputProcessor emits them (control tokens: "", never
// allowed by a grammar) and the end-of-generation ids. Costs one pass over the vocabulary.
std::shared_ptr<const TokenVocabulary> build_token_vocabulary(const Tokenizer& tokenizer);

// Attaches the constraint for seq.request.grammar. The budget is max_tokens, or what is left of
// the context when that is smaller (or max_tokens is unlimited).
void attach_constraint(Sequence& seq, std::shared_ptr<const TokenVocabulary> vocab, int64_t max_context);

struct ConstrainedPick {
  int32_t token = -1;
  bool ends_document = false;  // nothing may follow the token: generation stops with it
  bool none_allowed = false;   // no token may come next (all banned): token is unset
  bool complete = false;       // none_allowed and the document is complete as it stands
};

// Samples seq's next token from logits [n_vocab] with every disallowed token (grammar, budget,
// logit_bias bans) at -inf; `masked` receives those logits (for logprobs) and is scratch.
ConstrainedPick pick_constrained(Sequence& seq, const float* logits, int64_t n_vocab, std::vector<float>& masked);

}  // namespace frugal

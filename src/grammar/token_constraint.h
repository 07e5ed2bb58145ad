// Token-level grammar constraint (grammar layer): which of a model's tokens may come next so that
// the output stays in a Grammar's language and can still be finished within the token budget.
// TokenVocabulary is built once per tokenizer (a byte trie over every token's text); a
// TokenConstraint is one request's state. Masking walks the trie depth-first with one JsonMatcher
// per depth, so a shared prefix is matched once and a rejected byte prunes every token under it.
// Threading: TokenVocabulary is immutable and shared; a TokenConstraint belongs to one sequence.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "grammar/grammar.h"
#include "grammar/json_matcher.h"

namespace frugal {

class TokenVocabulary {
 public:
  // pieces[id]: the bytes token `id` appends to the output; "" marks a token a grammar never
  // allows (control tokens). end_ids: end-of-generation tokens, allowed once a document is complete.
  TokenVocabulary(const std::vector<std::string>& pieces, std::vector<int32_t> end_ids);

  int32_t n_vocab() const { return n_vocab_; }
  const std::string& piece(int32_t id) const { return pieces_[static_cast<size_t>(id)]; }
  const std::vector<int32_t>& end_ids() const { return end_ids_; }
  bool is_end(int32_t id) const;
  // Whether a one-byte token exists for `byte` (the budget guarantee finishes documents with those).
  bool has_single_byte(uint8_t byte) const { return single_byte_[byte]; }

  struct TrieNode {
    uint32_t first_child = 0;  // children are nodes [first_child, first_child + num_children)
    uint32_t num_children = 0;
    uint32_t first_token = 0;  // tokens ending here: token_ids_[first_token, first_token + num_tokens)
    uint32_t num_tokens = 0;
    uint8_t byte = 0;          // the byte leading here from the parent
  };
  const std::vector<TrieNode>& trie() const { return trie_; }
  const std::vector<int32_t>& trie_tokens() const { return token_ids_; }

 private:
  int32_t n_vocab_ = 0;
  std::vector<std::string> pieces_;
  std::vector<int32_t> end_ids_;  // sorted
  std::vector<TrieNode> trie_;    // node 0 is the root; breadth-first, children sorted by byte
  std::vector<int32_t> token_ids_;
  std::array<bool, 256> single_byte_{};
};

class TokenConstraint {
 public:
  // budget_tokens: how many tokens the request may still generate in all (< 0: unlimited).
  // trigger: "" constrains from the first token; otherwise the output is free text unless it
  // begins with `trigger`, which must itself be a prefix of the grammar's language (tool_choice
  // "auto": a tool call starts with "<tool_call>"); from there on the grammar holds.
  TokenConstraint(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const TokenVocabulary> vocab,
                  int64_t budget_tokens, std::string trigger = {});

  // Sets the logit of every token that may not come next to -inf. logits: [n_vocab]. `generated`:
  // tokens generated so far. Returns the number of tokens left allowed (0: nothing can follow).
  // Tokens that could not finish the document within the budget are masked too, unless that
  // leaves nothing: then the budget cannot be met at all and the document ends cut off ("length").
  int32_t apply(float* logits, int64_t generated);
  // Advances over the chosen token; false if it was not allowed (the state is then unchanged).
  bool accept(int32_t token);
  // The document is complete and nothing may follow: generation ends here ("stop").
  bool finished() const { return finished_; }
  // The output so far is a complete document (free text counts as complete).
  bool complete() const { return mode_ != Mode::kGrammar || matcher_.can_end(); }
  // The output is inside the grammar (always, without a trigger).
  bool constrained() const { return mode_ == Mode::kGrammar; }

 private:
  enum class Mode { kTrigger, kGrammar, kFree };
  int32_t apply_grammar(float* logits, int64_t budget_after);
  int32_t apply_trigger(float* logits);
  void update_finished();

  std::shared_ptr<const Grammar> grammar_;
  std::shared_ptr<const TokenVocabulary> vocab_;
  int64_t budget_tokens_;
  std::string trigger_;
  size_t trigger_matched_ = 0;  // bytes of the trigger the output has matched so far
  Mode mode_;
  JsonMatcher matcher_;
  bool finished_ = false;
  std::vector<JsonMatcher> depth_states_;  // DFS scratch: matcher after each trie depth
  std::vector<uint8_t> allowed_;           // [n_vocab] scratch
  std::vector<uint8_t> budget_ok_;         // [n_vocab] scratch
};

}  // namespace frugal

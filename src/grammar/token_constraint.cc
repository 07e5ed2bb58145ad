#include "grammar/token_constraint.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/check.h"

namespace frugal {

TokenVocabulary::TokenVocabulary(const std::vector<std::string>& pieces, std::vector<int32_t> end_ids)
    : n_vocab_(static_cast<int32_t>(pieces.size())), pieces_(pieces), end_ids_(std::move(end_ids)) {
  std::sort(end_ids_.begin(), end_ids_.end());
  std::vector<int32_t> order;
  for (int32_t id = 0; id < n_vocab_; ++id) {
    if (!pieces_[static_cast<size_t>(id)].empty() && !is_end(id)) order.push_back(id);
    if (pieces_[static_cast<size_t>(id)].size() == 1) single_byte_[static_cast<uint8_t>(pieces_[static_cast<size_t>(id)][0])] = true;
  }
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    const std::string& pa = pieces_[static_cast<size_t>(a)];
    const std::string& pb = pieces_[static_cast<size_t>(b)];
    return pa != pb ? pa < pb : a < b;
  });
  // Breadth-first over sorted ranges: the node for range [lo, hi) at depth d holds the tokens whose
  // piece has exactly d bytes (they sort first) and one child per distinct byte at position d.
  struct Pending {
    uint32_t node;
    size_t lo, hi, depth;
  };
  std::vector<Pending> queue{{0, 0, order.size(), 0}};
  trie_.push_back(TrieNode{});
  for (size_t q = 0; q < queue.size(); ++q) {
    const Pending p = queue[q];
    size_t i = p.lo;
    trie_[p.node].first_token = static_cast<uint32_t>(token_ids_.size());
    while (i < p.hi && pieces_[static_cast<size_t>(order[i])].size() == p.depth) token_ids_.push_back(order[i++]);
    trie_[p.node].num_tokens = static_cast<uint32_t>(token_ids_.size()) - trie_[p.node].first_token;
    trie_[p.node].first_child = static_cast<uint32_t>(trie_.size());
    while (i < p.hi) {
      const char byte = pieces_[static_cast<size_t>(order[i])][p.depth];
      size_t j = i;
      while (j < p.hi && pieces_[static_cast<size_t>(order[j])][p.depth] == byte) ++j;
      TrieNode child;
      child.byte = static_cast<uint8_t>(byte);
      queue.push_back({static_cast<uint32_t>(trie_.size()), i, j, p.depth + 1});
      trie_.push_back(child);
      ++trie_[p.node].num_children;
      i = j;
    }
  }
}

bool TokenVocabulary::is_end(int32_t id) const { return std::binary_search(end_ids_.begin(), end_ids_.end(), id); }

TokenConstraint::TokenConstraint(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const TokenVocabulary> vocab,
                                 int64_t budget_tokens, std::string trigger)
    : grammar_(std::move(grammar)),
      vocab_(std::move(vocab)),
      budget_tokens_(budget_tokens),
      trigger_(std::move(trigger)),
      mode_(trigger_.empty() ? Mode::kGrammar : Mode::kTrigger),
      matcher_(*grammar_) {
  CHECK(grammar_ != nullptr && vocab_ != nullptr, "TokenConstraint needs a grammar and a vocabulary");
  allowed_.resize(static_cast<size_t>(vocab_->n_vocab()));
  budget_ok_.resize(static_cast<size_t>(vocab_->n_vocab()));
}

int32_t TokenConstraint::apply(float* logits, int64_t generated) {
  if (mode_ == Mode::kFree) return vocab_->n_vocab();
  if (mode_ == Mode::kTrigger) return apply_trigger(logits);
  const int64_t budget_after = budget_tokens_ < 0 ? -1 : std::max<int64_t>(0, budget_tokens_ - generated - 1);
  return apply_grammar(logits, budget_after);
}

int32_t TokenConstraint::apply_grammar(float* logits, int64_t budget_after) {
  std::fill(allowed_.begin(), allowed_.end(), 0);
  std::fill(budget_ok_.begin(), budget_ok_.end(), 0);
  const auto& trie = vocab_->trie();
  const auto& tokens = vocab_->trie_tokens();
  if (depth_states_.empty()) depth_states_.assign(1, matcher_);
  depth_states_[0] = matcher_;
  // Iterative depth-first walk: stack of (node, next child offset); depth_states_[d] is the matcher
  // after the bytes leading to the node at depth d.
  struct Visit {
    uint32_t node;
    uint32_t next;
  };
  std::vector<Visit> stack{{0, 0}};
  while (!stack.empty()) {
    Visit& v = stack.back();
    const TokenVocabulary::TrieNode& node = trie[v.node];
    if (v.next == node.num_children) {
      stack.pop_back();
      continue;
    }
    const uint32_t child_index = node.first_child + v.next++;
    const TokenVocabulary::TrieNode& child = trie[child_index];
    const size_t depth = stack.size();
    if (depth_states_.size() <= depth) depth_states_.push_back(matcher_);
    depth_states_[depth] = depth_states_[depth - 1];
    if (!depth_states_[depth].feed(child.byte)) continue;
    if (child.num_tokens > 0) {
      const bool fits = budget_after < 0 || depth_states_[depth].min_remaining() <= budget_after;
      for (uint32_t t = child.first_token; t < child.first_token + child.num_tokens; ++t) {
        allowed_[static_cast<size_t>(tokens[t])] = 1;
        budget_ok_[static_cast<size_t>(tokens[t])] = fits ? 1 : 0;
      }
    }
    if (child.num_children > 0) stack.push_back({child_index, 0});
  }
  if (matcher_.can_end()) {
    for (int32_t id : vocab_->end_ids()) allowed_[static_cast<size_t>(id)] = budget_ok_[static_cast<size_t>(id)] = 1;
  }
  int32_t n_fit = 0, n_allowed = 0;
  for (size_t id = 0; id < allowed_.size(); ++id) {
    n_allowed += allowed_[id];
    n_fit += budget_ok_[id];
  }
  const std::vector<uint8_t>& keep = n_fit > 0 ? budget_ok_ : allowed_;
  for (size_t id = 0; id < keep.size(); ++id) {
    if (!keep[id]) logits[id] = -INFINITY;
  }
  return n_fit > 0 ? n_fit : n_allowed;
}

int32_t TokenConstraint::apply_trigger(float* logits) {
  const std::string_view rest = std::string_view(trigger_).substr(trigger_matched_);
  int32_t n_allowed = 0;
  JsonMatcher probe(*grammar_);
  for (int32_t id = 0; id < vocab_->n_vocab(); ++id) {
    const std::string& piece = vocab_->piece(id);
    const size_t common = std::min(piece.size(), rest.size());
    bool ok = true;
    // A token that completes the trigger and goes on must go on inside the grammar.
    if (piece.size() > rest.size() && piece.compare(0, common, rest.substr(0, common)) == 0) {
      probe = JsonMatcher(*grammar_);
      ok = probe.feed(std::string_view(trigger_)) && probe.feed(std::string_view(piece).substr(rest.size()));
    }
    if (ok) {
      ++n_allowed;
    } else {
      logits[id] = -INFINITY;
    }
  }
  return n_allowed;
}

bool TokenConstraint::accept(int32_t token) {
  if (token < 0 || token >= vocab_->n_vocab()) return false;
  const std::string& piece = vocab_->piece(token);
  if (mode_ == Mode::kFree) return true;
  if (mode_ == Mode::kTrigger) {
    const std::string_view rest = std::string_view(trigger_).substr(trigger_matched_);
    const size_t common = std::min(piece.size(), rest.size());
    if (piece.compare(0, common, rest.substr(0, common)) != 0) {
      mode_ = Mode::kFree;  // not a tool call: plain text from here on
      return true;
    }
    trigger_matched_ += common;
    if (trigger_matched_ < trigger_.size()) return true;
    JsonMatcher next(*grammar_);
    if (!next.feed(std::string_view(trigger_)) || !next.feed(std::string_view(piece).substr(common))) return false;
    matcher_ = next;
    mode_ = Mode::kGrammar;
    update_finished();
    return true;
  }
  if (vocab_->is_end(token)) {
    if (!matcher_.can_end()) return false;
    finished_ = true;
    return true;
  }
  if (piece.empty()) return false;
  JsonMatcher next = matcher_;
  if (!next.feed(std::string_view(piece))) return false;
  matcher_ = std::move(next);
  update_finished();
  return true;
}

void TokenConstraint::update_finished() { finished_ = matcher_.can_end() && !matcher_.can_continue(); }

}  // namespace frugal

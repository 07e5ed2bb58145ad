// Special-token partitioning (tokenizer layer).
#include "tokenizer/special_tokens.h"

#include <algorithm>

namespace frugal {

SpecialTokenMatcher SpecialTokenMatcher::create(const Vocab& vocab) {
  SpecialTokenMatcher matcher;
  for (int32_t id = 0; id < vocab.n_vocab(); ++id) {
    const TokenData& token = vocab.tokens[id];
    const bool special = token.type == TokenType::kControl || token.type == TokenType::kUserDefined ||
                         token.type == TokenType::kUnknown;
    if (special && !token.text.empty()) matcher.ids_.push_back(id);
  }
  std::stable_sort(matcher.ids_.begin(), matcher.ids_.end(), [&](int32_t a, int32_t b) {
    return vocab.tokens[a].text.size() > vocab.tokens[b].text.size();
  });
  return matcher;
}

std::vector<TextFragment> SpecialTokenMatcher::partition(const Vocab& vocab, std::string_view text,
                                                         bool parse_special,
                                                         const std::vector<TextSpan>& plain_spans) const {
  // May the special token `token` be matched at text[offset, offset + length)?
  auto matchable = [&](const TokenData& token, size_t offset, size_t length) {
    if (token.type == TokenType::kUserDefined) return true;
    for (const TextSpan& span : plain_spans) {
      if (span.overlaps(offset, offset + length)) return false;
    }
    return true;
  };
  std::vector<TextFragment> fragments;
  if (text.empty()) return fragments;
  fragments.push_back({-1, text});
  std::vector<TextFragment> next;
  for (const int32_t id : ids_) {
    const TokenData& token = vocab.tokens[id];
    if (!parse_special && token.type != TokenType::kUserDefined) continue;
    const std::string_view needle = token.text;
    bool found = false;
    for (const TextFragment& fragment : fragments) {
      if (fragment.token < 0 && fragment.text.find(needle) != std::string_view::npos) {
        found = true;
        break;
      }
    }
    if (!found) continue;
    next.clear();
    for (const TextFragment& fragment : fragments) {
      if (fragment.token >= 0) {
        next.push_back(fragment);
        continue;
      }
      std::string_view rest = fragment.text;
      size_t search_from = 0;
      for (size_t pos = rest.find(needle); pos != std::string_view::npos; pos = rest.find(needle, search_from)) {
        const size_t offset = static_cast<size_t>(rest.data() - text.data()) + pos;
        if (!matchable(token, offset, needle.size())) {
          search_from = pos + 1;  // plain text here: look further on
          continue;
        }
        if (pos > 0) next.push_back({-1, rest.substr(0, pos)});
        next.push_back({id, {}});
        rest.remove_prefix(pos + needle.size());
        search_from = 0;
      }
      if (!rest.empty()) next.push_back({-1, rest});
    }
    fragments.swap(next);
  }
  return fragments;
}

}  // namespace frugal

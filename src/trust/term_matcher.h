// Whole-word term matching over normalised text (trust layer): the leetspeak-, spacing- and
// repetition-tolerant half of prompt moderation. Pure: no I/O, no state after construction.
//
// NOTE (the rule): a term is one or more words (folded like the text, text_normalizer.h). A term
// word is a list of letter runs ("kill" = k×1 i×1 l×2); it matches a text word when the text
// word's glyphs can be read, in order, as each run's letter repeated AT LEAST the run's length and
// nothing else ("kiiilll", "k1ll", "ki11" match "kill"; "kil" does not, so "ass" never matches
// "as"). A term matches when its words match consecutive words of any view (plain, spaced,
// joined). Matching is by whole words: "skill", "killer" and "Scunthorpe" never match "kill" or
// "cunt"; the price is that inflections must be listed as terms ("kills", "killing").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/expected.h"
#include "trust/text_normalizer.h"

namespace frugal::trust {

// A term word's letters are NFA states held in one 64-bit mask: longer words are refused at load.
inline constexpr size_t kMaxTermWordLetters = 64;

struct LetterRun {
  char32_t letter = 0;
  int32_t count = 0;  // >= 1
};

using TermWord = std::vector<LetterRun>;

struct CompiledTerm {
  std::string text;              // as the policy wrote it
  std::vector<TermWord> words;   // [n_words]
  size_t category_idx = 0;       // the policy category it belongs to
};

// Folds and splits a term; kInvalidArgument when it holds no word characters.
Expected<CompiledTerm> compile_term(std::string_view text, size_t category_idx);

// True when `word` reads as `term_word` under the rule above.
bool word_matches(const TermWord& term_word, const GlyphWord& word);

class TermMatcher {
 public:
  explicit TermMatcher(std::vector<CompiledTerm> terms);
  // The first term (in policy order) that matches; nullptr when none does. `category_allowed(idx)`
  // filters categories (false skips a category's terms). Cost: per word of each view, only the
  // terms whose first letter that word's first glyph can be are tried.
  template <typename Filter>
  const CompiledTerm* find(const NormalizedText& text, Filter category_allowed) const {
    size_t best = terms_.size();
    for (const WordView& view : text.views) {
      for (size_t start = 0; start < view.size(); ++start) {
        for (char32_t letter : text.word(view, start).front().options) {
          if (letter == 0) continue;
          auto candidates = by_first_letter_.find(letter);
          if (candidates == by_first_letter_.end()) continue;
          for (size_t term_idx : candidates->second) {
            if (term_idx >= best) break;  // ascending: nothing earlier left
            if (category_allowed(terms_[term_idx].category_idx) && matches_at(terms_[term_idx], text, view, start)) best = term_idx;
          }
        }
      }
    }
    return best < terms_.size() ? &terms_[best] : nullptr;
  }
  size_t size() const { return terms_.size(); }

 private:
  static bool matches_at(const CompiledTerm& term, const NormalizedText& text, const WordView& view, size_t start);
  std::vector<CompiledTerm> terms_;
  std::unordered_map<char32_t, std::vector<size_t>> by_first_letter_;  // letter -> term indices, ascending
};

}  // namespace frugal::trust

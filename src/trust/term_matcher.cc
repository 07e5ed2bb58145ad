#include "trust/term_matcher.h"

#include <unicode/uchar.h>

namespace frugal::trust {

Expected<CompiledTerm> compile_term(std::string_view text, size_t category_idx) {
  auto folded = fold_text(text);
  if (!folded) return folded.error();
  CompiledTerm term;
  term.text = std::string(text);
  term.category_idx = category_idx;
  bool in_word = false;
  for (char32_t c : *folded) {
    if (!u_isalnum(static_cast<UChar32>(c))) {
      in_word = false;
      continue;
    }
    if (!in_word) term.words.emplace_back();
    in_word = true;
    TermWord& word = term.words.back();
    if (!word.empty() && word.back().letter == c) {
      ++word.back().count;
    } else {
      word.push_back(LetterRun{c, 1});
    }
  }
  if (term.words.empty()) return invalid_argument("the term '" + term.text + "' has no letters or digits");
  for (const TermWord& word : term.words) {
    size_t letters = 0;
    for (const LetterRun& run : word) letters += static_cast<size_t>(run.count);
    if (letters > kMaxTermWordLetters) {
      return invalid_argument("the term '" + term.text + "' has a word longer than " +
                              std::to_string(kMaxTermWordLetters) + " letters");
    }
  }
  return term;
}

// An NFA over (run, letters of the run seen so far, capped at its count), one bit per state: each
// glyph either extends the current run or, once the run is long enough, starts the next one.
bool word_matches(const TermWord& term_word, const GlyphWord& word) {
  if (term_word.empty() || word.empty() || !word[0].can_be(term_word[0].letter)) return false;
  size_t min_glyphs = 0;
  for (const LetterRun& run : term_word) min_glyphs += static_cast<size_t>(run.count);
  if (word.size() < min_glyphs || min_glyphs > kMaxTermWordLetters) return false;
  // bit offset[run_idx] + seen - 1 is the state (run_idx, seen)
  size_t offset[kMaxTermWordLetters + 1];
  offset[0] = 0;
  for (size_t run_idx = 0; run_idx < term_word.size(); ++run_idx) {
    offset[run_idx + 1] = offset[run_idx] + static_cast<size_t>(term_word[run_idx].count);
  }
  uint64_t current = 1;  // (0, 1)
  for (size_t glyph_idx = 1; glyph_idx < word.size() && current != 0; ++glyph_idx) {
    uint64_t next = 0;
    const Glyph& glyph = word[glyph_idx];
    for (size_t run_idx = 0; run_idx < term_word.size(); ++run_idx) {
      const int32_t count = term_word[run_idx].count;
      const bool extends = glyph.can_be(term_word[run_idx].letter);
      const bool starts_next = run_idx + 1 < term_word.size() && glyph.can_be(term_word[run_idx + 1].letter);
      for (int32_t seen = 1; seen <= count; ++seen) {
        if (!(current >> (offset[run_idx] + static_cast<size_t>(seen) - 1) & 1)) continue;
        if (extends) next |= uint64_t{1} << (offset[run_idx] + static_cast<size_t>(std::min(seen + 1, count)) - 1);
        if (seen == count && starts_next) next |= uint64_t{1} << offset[run_idx + 1];
      }
    }
    current = next;
  }
  return (current >> (offset[term_word.size()] - 1) & 1) != 0;
}

TermMatcher::TermMatcher(std::vector<CompiledTerm> terms) : terms_(std::move(terms)) {
  for (size_t term_idx = 0; term_idx < terms_.size(); ++term_idx) {
    by_first_letter_[terms_[term_idx].words.front().front().letter].push_back(term_idx);
  }
}

bool TermMatcher::matches_at(const CompiledTerm& term, const NormalizedText& text, const WordView& view, size_t start) {
  if (start + term.words.size() > view.size()) return false;
  for (size_t word_idx = 0; word_idx < term.words.size(); ++word_idx) {
    if (!word_matches(term.words[word_idx], text.word(view, start + word_idx))) return false;
  }
  return true;
}

}  // namespace frugal::trust

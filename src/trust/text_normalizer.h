// Prompt text -> the words a moderation policy matches against (trust layer, on ICU only).
//
// NOTE (the normalisation, in order; each step defeats one kind of evasion):
//   1. Unicode NFKC with case folding and default-ignorables removed (ICU's NFKC_Casefold):
//      "ＫＩＬＬ", "ｋｉｌｌ", "KiLL", "k\u200Bill" (zero-width space) all become "kill".
//   2. Diacritics dropped (NFD, nonspacing marks removed): "kíll" -> "kill".
//   3. Confusables: a non-ASCII letter whose ICU confusable skeleton (Unicode's confusables.txt,
//      shipped in Debian's libicu) is ASCII becomes that ASCII: Cyrillic "кіll", Greek "κιλλ"-style
//      look-alikes -> Latin. ASCII characters are never remapped (so "rn" stays "rn", not "m").
//   4. Words: maximal runs of letters, digits and the leetspeak symbols @ $ ! | + (the symbols
//      only where they touch a letter or digit on the following side, so "kill!" is "kill").
//      Each word is a list of glyphs; a glyph is the set of letters it may stand for (leetspeak:
//      0->o, 1->i|l, 3->e, 4->a, 5->s, 7->t, 8->b, 9->g, @->a, $->s, !->i, |->i|l, +->t, plus the
//      character itself).
//   5. Three views of the word list, any of which may match a term:
//        plain   - the words as split above;
//        spaced  - maximal runs of one-glyph words joined ("k i l l", "k.i.l.l", "k - i - l - l");
//        joined  - words separated by punctuation alone (no whitespace) joined ("ki-ll", "k.i.l.l").
// Repeated letters are handled by the matcher (term_matcher.h), not here.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"

namespace frugal::trust {

// The letters one input character may stand for: itself plus its leetspeak readings (at most 3).
struct Glyph {
  char32_t options[3] = {0, 0, 0};  // 0 = unused slot
  bool can_be(char32_t letter) const { return options[0] == letter || options[1] == letter || options[2] == letter; }
};

using GlyphWord = std::span<const Glyph>;

// One view: words as boundaries into the text's one glyph array (views only differ in where words
// end, so they share it; no allocation per word).
struct WordView {
  std::vector<uint32_t> word_begin;  // [n_words + 1]: word i is glyphs[word_begin[i], word_begin[i + 1])
  size_t size() const { return word_begin.empty() ? 0 : word_begin.size() - 1; }
};

struct NormalizedText {
  std::string folded_utf8;      // steps 1-3 over the whole text, as UTF-8 (patterns match this)
  std::vector<Glyph> glyphs;    // every word's glyphs, back to back
  std::vector<WordView> views;  // [plain, spaced, joined]
  GlyphWord word(const WordView& view, size_t word_idx) const {
    return GlyphWord(glyphs.data() + view.word_begin[word_idx], view.word_begin[word_idx + 1] - view.word_begin[word_idx]);
  }
};

// Steps 1-3 on a term or text: NFKC_Casefold, diacritics dropped, confusables mapped to ASCII.
// Errors: kInvalidArgument for invalid UTF-8 or an ICU failure.
Expected<std::u32string> fold_text(std::string_view utf8);

// All five steps.
Expected<NormalizedText> normalize_text(std::string_view utf8);

std::string to_utf8(const std::u32string& text);

}  // namespace frugal::trust

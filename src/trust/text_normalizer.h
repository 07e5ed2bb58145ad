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

using GlyphWord = std::vector<Glyph>;

struct NormalizedText {
  std::u32string folded;                    // steps 1-3 over the whole text (patterns match this, as UTF-8 below)
  std::string folded_utf8;
  std::vector<std::vector<GlyphWord>> views;  // [plain, spaced, joined]; each a sequence of words
};

// Steps 1-3 on a term or text: NFKC_Casefold, diacritics dropped, confusables mapped to ASCII.
// Errors: kInvalidArgument for invalid UTF-8 or an ICU failure.
Expected<std::u32string> fold_text(std::string_view utf8);

// All five steps.
Expected<NormalizedText> normalize_text(std::string_view utf8);

std::string to_utf8(const std::u32string& text);

}  // namespace frugal::trust

#include "trust/text_normalizer.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uspoof.h>
#include <unicode/utf16.h>

#include <memory>
#include <mutex>

namespace frugal::trust {
namespace {

// ICU's spoof checker, opened once: its skeleton function is const and thread-safe.
const USpoofChecker* spoof_checker() {
  static USpoofChecker* checker = [] {
    UErrorCode status = U_ZERO_ERROR;
    USpoofChecker* opened = uspoof_open(&status);
    return U_SUCCESS(status) ? opened : nullptr;
  }();
  return checker;
}

bool is_ascii(const icu::UnicodeString& text) {
  for (int32_t unit_idx = 0; unit_idx < text.length(); ++unit_idx) {
    if (text.charAt(unit_idx) >= 0x80) return false;
  }
  return true;
}

// Look-alikes whose ICU skeleton is not ASCII once case-folded (Cyrillic capitals К М Т Н В fold to
// lower-case forms that confusables.txt maps to other non-Latin letters): {from, to}.
constexpr char32_t kExtraConfusables[][2] = {
    {U'\u043A', U'k'}, {U'\u043C', U'm'}, {U'\u0442', U't'}, {U'\u043D', U'h'}, {U'\u0432', U'b'},  // к м т н в
    {U'\u03BA', U'k'}, {U'\u03C4', U't'}, {U'\u03B7', U'n'}, {U'\u03BD', U'v'}, {U'\u03C7', U'x'},  // κ τ η ν χ
    {U'\u03C9', U'w'}, {U'\u03BC', U'u'}, {U'\u03B2', U'b'},                                         // ω μ β
};

// Steps 2-3 for one non-ASCII code point of NFKC_Casefold output: its ASCII reading, or itself.
void fold_non_ascii(UChar32 c, const icu::Normalizer2& nfd, std::u32string& out) {
  for (const auto& [from, to] : kExtraConfusables) {
    if (static_cast<char32_t>(c) == from) {
      out.push_back(to);
      return;
    }
  }
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString decomposed = nfd.normalize(icu::UnicodeString(c), status);
  if (U_SUCCESS(status)) {
    icu::UnicodeString base;
    for (int32_t unit_idx = 0; unit_idx < decomposed.length();) {
      const UChar32 part = decomposed.char32At(unit_idx);
      if (u_charType(part) != U_NON_SPACING_MARK) base.append(part);
      unit_idx += U16_LENGTH(part);
    }
    if (!base.isEmpty() && is_ascii(base)) {
      for (int32_t unit_idx = 0; unit_idx < base.length(); ++unit_idx) out.push_back(base.charAt(unit_idx));
      return;
    }
  }
  if (const USpoofChecker* checker = spoof_checker(); checker != nullptr && u_isalpha(c)) {
    icu::UnicodeString skeleton;
    status = U_ZERO_ERROR;
    uspoof_getSkeletonUnicodeString(checker, 0, icu::UnicodeString(c), skeleton, &status);
    if (U_SUCCESS(status) && !skeleton.isEmpty() && is_ascii(skeleton)) {
      skeleton.foldCase();  // skeletons may be upper case ("Α" -> "A")
      for (int32_t unit_idx = 0; unit_idx < skeleton.length(); ++unit_idx) out.push_back(skeleton.charAt(unit_idx));
      return;
    }
  }
  out.push_back(static_cast<char32_t>(c));
}

bool is_word_core(char32_t c) { return u_isalnum(static_cast<UChar32>(c)) != 0; }
// Leet symbols that belong to a word when they touch it on either side ("a$$", "@ss").
bool is_sticky_symbol(char32_t c) { return c == U'@' || c == U'$'; }
// Leet symbols that belong to a word only when a word character follows ("k!ll", not "kill!").
bool is_leading_symbol(char32_t c) { return c == U'!' || c == U'|' || c == U'+'; }
bool is_symbol(char32_t c) { return is_sticky_symbol(c) || is_leading_symbol(c); }

Glyph glyph_for(char32_t c) {
  Glyph glyph;
  glyph.options[0] = c;
  switch (c) {
    case U'0': glyph.options[1] = U'o'; break;
    case U'1': glyph.options[1] = U'i'; glyph.options[2] = U'l'; break;
    case U'2': glyph.options[1] = U'z'; break;
    case U'3': glyph.options[1] = U'e'; break;
    case U'4': glyph.options[1] = U'a'; break;
    case U'5': glyph.options[1] = U's'; break;
    case U'6': glyph.options[1] = U'b'; glyph.options[2] = U'g'; break;
    case U'7': glyph.options[1] = U't'; break;
    case U'8': glyph.options[1] = U'b'; break;
    case U'9': glyph.options[1] = U'g'; break;
    case U'@': glyph.options[1] = U'a'; break;
    case U'$': glyph.options[1] = U's'; break;
    case U'!': glyph.options[1] = U'i'; break;
    case U'|': glyph.options[1] = U'i'; glyph.options[2] = U'l'; break;
    case U'+': glyph.options[1] = U't'; break;
    default: break;
  }
  return glyph;
}

// Which characters are part of a word (step 4's rule for symbols; a symbol standing alone, as in
// "k.1.l.|", is a one-glyph word). One pass: each symbol run is decided once.
std::vector<char> word_membership(const std::u32string& text) {
  std::vector<char> in_word(text.size(), 0);
  for (size_t idx = 0; idx < text.size();) {
    if (is_word_core(text[idx])) {
      in_word[idx++] = 1;
      continue;
    }
    if (!is_symbol(text[idx])) {
      ++idx;
      continue;
    }
    size_t end = idx;
    while (end < text.size() && is_symbol(text[end])) ++end;
    const bool word_follows = end < text.size() && is_word_core(text[end]);
    const bool word_precedes = idx > 0 && is_word_core(text[idx - 1]);
    const bool alone = !word_precedes && end - idx == 1;
    for (size_t run_idx = idx; run_idx < end; ++run_idx) {
      in_word[run_idx] = word_follows || alone || (is_sticky_symbol(text[run_idx]) && word_precedes);
    }
    idx = end;
  }
  return in_word;
}

// Step 4: the words, as glyphs appended to `glyphs`, with where each begins and whether whitespace
// came before it.
struct Split {
  std::vector<uint32_t> word_begin;  // [n_words + 1]
  std::vector<char> space_before;    // [n_words]; true for the first word
};

Split split_words(const std::u32string& text, std::vector<Glyph>& glyphs) {
  Split split;
  const std::vector<char> in_word = word_membership(text);
  bool in = false;
  bool saw_space = true;
  for (size_t idx = 0; idx < text.size(); ++idx) {
    if (in_word[idx]) {
      if (!in) {
        split.word_begin.push_back(static_cast<uint32_t>(glyphs.size()));
        split.space_before.push_back(saw_space);
      }
      glyphs.push_back(glyph_for(text[idx]));
      in = true;
      saw_space = false;
    } else {
      in = false;
      if (u_isUWhiteSpace(static_cast<UChar32>(text[idx]))) saw_space = true;
    }
  }
  split.word_begin.push_back(static_cast<uint32_t>(glyphs.size()));
  return split;
}

// A view that joins word i to word i-1 where `joinable(i)` holds.
template <typename Joinable>
WordView join_runs(const Split& split, Joinable joinable) {
  WordView view;
  const size_t n_words = split.space_before.size();
  for (size_t word_idx = 0; word_idx < n_words; ++word_idx) {
    if (word_idx == 0 || !joinable(word_idx)) view.word_begin.push_back(split.word_begin[word_idx]);
  }
  view.word_begin.push_back(split.word_begin[n_words]);
  return view;
}

}  // namespace

std::string to_utf8(const std::u32string& text) {
  std::string out;
  for (char32_t c : text) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

Expected<std::u32string> fold_text(std::string_view utf8) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* casefold = icu::Normalizer2::getNFKCCasefoldInstance(status);
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
  if (U_FAILURE(status)) return invalid_argument(std::string("ICU normaliser unavailable: ") + u_errorName(status));
  const icu::UnicodeString source = icu::UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  if (source.indexOf(static_cast<UChar>(0xFFFD)) >= 0 && utf8.find("\xEF\xBF\xBD") == std::string_view::npos) {
    return invalid_argument("the text is not valid UTF-8");
  }
  const icu::UnicodeString folded = casefold->normalize(source, status);
  if (U_FAILURE(status)) return invalid_argument(std::string("NFKC_Casefold failed: ") + u_errorName(status));
  std::u32string out;
  out.reserve(static_cast<size_t>(folded.length()));
  for (int32_t unit_idx = 0; unit_idx < folded.length();) {
    const UChar32 c = folded.char32At(unit_idx);
    unit_idx += U16_LENGTH(c);
    if (c < 0x80) {
      out.push_back(static_cast<char32_t>(c));
    } else {
      fold_non_ascii(c, *nfd, out);
    }
  }
  return out;
}

Expected<NormalizedText> normalize_text(std::string_view utf8) {
  auto folded = fold_text(utf8);
  if (!folded) return folded.error();
  NormalizedText out;
  out.folded_utf8 = to_utf8(*folded);
  const Split split = split_words(*folded, out.glyphs);
  const auto length = [&split](size_t word_idx) { return split.word_begin[word_idx + 1] - split.word_begin[word_idx]; };
  out.views.push_back(join_runs(split, [](size_t) { return false; }));
  out.views.push_back(join_runs(split, [&length](size_t word_idx) { return length(word_idx - 1) == 1 && length(word_idx) == 1; }));
  out.views.push_back(join_runs(split, [&split](size_t word_idx) { return !split.space_before[word_idx]; }));
  return out;
}

}  // namespace frugal::trust

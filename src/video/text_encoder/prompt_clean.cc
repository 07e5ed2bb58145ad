#include "video/text_encoder/prompt_clean.h"

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace frugal::video {
namespace {

constexpr char32_t kReplacementChar = 0xFFFD;

// Decodes the code point at s[pos]; false on malformed UTF-8 (overlong, surrogate, > U+10FFFF, truncated).
bool decode_utf8(std::string_view s, size_t pos, char32_t* cp, size_t* len) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  int n = 0;
  char32_t value = 0;
  if (b0 < 0x80) {
    *cp = b0;
    *len = 1;
    return true;
  } else if ((b0 & 0xE0) == 0xC0) {
    n = 2, value = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, value = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, value = b0 & 0x07;
  } else {
    return false;
  }
  if (pos + n > s.size()) return false;
  for (int i = 1; i < n; ++i) {
    const auto b = static_cast<unsigned char>(s[pos + i]);
    if ((b & 0xC0) != 0x80) return false;
    value = (value << 6) | (b & 0x3F);
  }
  static constexpr char32_t kMinOfLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (value < kMinOfLength[n] || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return false;
  *cp = value;
  *len = static_cast<size_t>(n);
  return true;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Calls fn(code_point, byte_offset, byte_length) for each code point of valid UTF-8.
template <typename Fn>
void for_each_code_point(std::string_view s, Fn&& fn) {
  size_t pos = 0;
  while (pos < s.size()) {
    char32_t cp = 0;
    size_t len = 1;
    if (!decode_utf8(s, pos, &cp, &len)) cp = kReplacementChar, len = 1;
    fn(cp, pos, len);
    pos += len;
  }
}

bool is_python_space(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

// ---- named character references ----

// HTML5 names of U+00A0..U+00FF, in code point order. All of them are "legacy" references that also
// match without the ';'.
constexpr std::array<const char*, 96> kLatin1Names = {
    "nbsp",   "iexcl",  "cent",   "pound",  "curren", "yen",    "brvbar", "sect",   "uml",    "copy",   "ordf",
    "laquo",  "not",    "shy",    "reg",    "macr",   "deg",    "plusmn", "sup2",   "sup3",   "acute",  "micro",
    "para",   "middot", "cedil",  "sup1",   "ordm",   "raquo",  "frac14", "frac12", "frac34", "iquest", "Agrave",
    "Aacute", "Acirc",  "Atilde", "Auml",   "Aring",  "AElig",  "Ccedil", "Egrave", "Eacute", "Ecirc",  "Euml",
    "Igrave", "Iacute", "Icirc",  "Iuml",   "ETH",    "Ntilde", "Ograve", "Oacute", "Ocirc",  "Otilde", "Ouml",
    "times",  "Oslash", "Ugrave", "Uacute", "Ucirc",  "Uuml",   "Yacute", "THORN",  "szlig",  "agrave", "aacute",
    "acirc",  "atilde", "auml",   "aring",  "aelig",  "ccedil", "egrave", "eacute", "ecirc",  "euml",   "igrave",
    "iacute", "icirc",  "iuml",   "eth",    "ntilde", "ograve", "oacute", "ocirc",  "otilde", "ouml",   "divide",
    "oslash", "ugrave", "uacute", "ucirc",  "uuml",   "yacute", "thorn",  "yuml"};

struct NamedEntity {
  const char* name;
  char32_t code_point;
  bool legacy;  // also matches without ';' (Python's html5 dict has "amp" beside "amp;")
};

constexpr NamedEntity kOtherEntities[] = {
    {"amp", '&', true},       {"lt", '<', true},        {"gt", '>', true},        {"quot", '"', true},
    {"AMP", '&', true},       {"LT", '<', true},        {"GT", '>', true},        {"QUOT", '"', true},
    {"COPY", 0xA9, true},     {"REG", 0xAE, true},      {"apos", '\'', false},    {"trade", 0x2122, false},
    {"hellip", 0x2026, false}, {"mdash", 0x2014, false}, {"ndash", 0x2013, false}, {"hyphen", 0x2010, false},
    {"lsquo", 0x2018, false}, {"rsquo", 0x2019, false}, {"sbquo", 0x201A, false}, {"ldquo", 0x201C, false},
    {"rdquo", 0x201D, false}, {"bdquo", 0x201E, false}, {"lsaquo", 0x2039, false}, {"rsaquo", 0x203A, false},
    {"bull", 0x2022, false},  {"euro", 0x20AC, false},  {"dagger", 0x2020, false}, {"Dagger", 0x2021, false},
    {"permil", 0x2030, false}, {"prime", 0x2032, false}, {"Prime", 0x2033, false}, {"larr", 0x2190, false},
    {"uarr", 0x2191, false},  {"rarr", 0x2192, false},  {"darr", 0x2193, false},  {"harr", 0x2194, false},
    {"spades", 0x2660, false}, {"clubs", 0x2663, false}, {"hearts", 0x2665, false}, {"diams", 0x2666, false},
    {"infin", 0x221E, false}, {"ne", 0x2260, false},    {"le", 0x2264, false},    {"ge", 0x2265, false},
    {"minus", 0x2212, false}, {"asymp", 0x2248, false}, {"equiv", 0x2261, false}, {"thinsp", 0x2009, false},
    {"ensp", 0x2002, false},  {"emsp", 0x2003, false},  {"zwnj", 0x200C, false},  {"zwj", 0x200D, false},
    {"lrm", 0x200E, false},   {"rlm", 0x200F, false},   {"star", 0x2606, false},  {"check", 0x2713, false},
};

// Keys as Python's html5 dict spells them: "amp;" always, "amp" for legacy names.
const std::unordered_map<std::string, char32_t>& entity_table() {
  static const auto* table = [] {
    auto* t = new std::unordered_map<std::string, char32_t>();
    for (size_t i = 0; i < kLatin1Names.size(); ++i) {
      const auto cp = static_cast<char32_t>(0xA0 + i);
      (*t)[std::string(kLatin1Names[i]) + ";"] = cp;
      (*t)[kLatin1Names[i]] = cp;
    }
    for (const NamedEntity& e : kOtherEntities) {
      (*t)[std::string(e.name) + ";"] = e.code_point;
      if (e.legacy) (*t)[e.name] = e.code_point;
    }
    return t;
  }();
  return *table;
}

// ---- numeric character references (html._replace_charref) ----

// &#128;..&#159; are read as Windows-1252; 0 is U+FFFD and 13 stays '\r'. 0 = "the C1 code point itself".
constexpr std::array<char32_t, 32> kCp1252High = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

bool is_invalid_code_point(uint64_t num) {
  return (num >= 0x1 && num <= 0x8) || num == 0xB || (num >= 0xE && num <= 0x1F) || (num >= 0x7F && num <= 0x9F) ||
         (num >= 0xFDD0 && num <= 0xFDEF) || (num & 0xFFFE) == 0xFFFE;
}

void append_char_ref(std::string& out, uint64_t num) {
  if (num == 0) return append_utf8(out, kReplacementChar);
  if (num == 0x0D) return append_utf8(out, '\r');
  if (num >= 0x80 && num <= 0x9F) {
    const char32_t mapped = kCp1252High[num - 0x80];
    return append_utf8(out, mapped != 0 ? mapped : static_cast<char32_t>(num));
  }
  if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) return append_utf8(out, kReplacementChar);
  if (is_invalid_code_point(num)) return;  // dropped
  append_utf8(out, static_cast<char32_t>(num));
}

bool is_digit(char c, bool hex) {
  return (c >= '0' && c <= '9') || (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
}

// At text[amp] == '&'. Appends the replacement and returns the bytes consumed, or 0 when nothing matches.
size_t unescape_numeric(std::string_view text, size_t amp, bool require_semicolon, std::string& out) {
  size_t pos = amp + 2;  // past "&#"
  const bool hex = pos < text.size() && (text[pos] == 'x' || text[pos] == 'X');
  if (hex) ++pos;
  const size_t digits_begin = pos;
  uint64_t num = 0;
  for (; pos < text.size() && is_digit(text[pos], hex); ++pos) {
    const char c = text[pos];
    const uint64_t digit = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    num = num > 0x10FFFF ? num : num * (hex ? 16 : 10) + digit;  // saturates above U+10FFFF
  }
  if (pos == digits_begin) return 0;
  const bool has_semicolon = pos < text.size() && text[pos] == ';';
  if (require_semicolon && !has_semicolon) return 0;
  append_char_ref(out, num);
  return pos + (has_semicolon ? 1 : 0) - amp;
}

size_t unescape_named(std::string_view text, size_t amp, bool require_semicolon, std::string& out) {
  // Python's pattern: [^\t\n\f <&#;]{1,32};?
  constexpr std::string_view kStop = "\t\n\f <&#;";
  constexpr size_t kMaxNameBytes = 32;
  size_t end = amp + 1;
  while (end < text.size() && end - amp - 1 < kMaxNameBytes && kStop.find(text[end]) == std::string_view::npos) ++end;
  if (end == amp + 1) return 0;
  const bool has_semicolon = end < text.size() && text[end] == ';';
  if (require_semicolon && !has_semicolon) return 0;
  const std::string ref(text.substr(amp + 1, end - amp - 1 + (has_semicolon ? 1 : 0)));  // name[;]
  const auto& table = entity_table();
  if (auto it = table.find(ref); it != table.end()) {
    append_utf8(out, it->second);
    return ref.size() + 1;
  }
  if (require_semicolon) return 0;
  // The longest legacy name that prefixes the reference; the rest stays as text.
  for (size_t len = ref.size() - 1; len >= 2; --len) {
    if (auto it = table.find(ref.substr(0, len)); it != table.end()) {
      append_utf8(out, it->second);
      return len + 1;
    }
  }
  return 0;
}

// ftfy's remove_terminal_escapes: "\x1b[" digits/';' then a letter.
size_t terminal_escape_length(std::string_view text, size_t pos) {
  if (text.compare(pos, 2, "\x1b[") != 0) return 0;
  size_t end = pos + 2;
  while (end < text.size() && ((text[end] >= '0' && text[end] <= '9') || text[end] == ';')) ++end;
  if (end < text.size() && ((text[end] | 0x20) >= 'a' && (text[end] | 0x20) <= 'z')) return end + 1 - pos;
  return 0;
}

bool is_ftfy_control_char(char32_t cp) {
  return cp <= 0x08 || cp == 0x0B || (cp >= 0x0E && cp <= 0x1F) || cp == 0x7F || (cp >= 0x206A && cp <= 0x206F) ||
         cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFC) || (cp >= 0x1D173 && cp <= 0x1D17A) ||
         (cp >= 0xE0000 && cp <= 0xE007F);
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp = 0;
    size_t len = 0;
    if (!decode_utf8(text, pos, &cp, &len)) return false;
    pos += len;
  }
  return true;
}

std::string html_unescape(std::string_view text, bool require_semicolon) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t amp = text.find('&', pos);
    if (amp == std::string_view::npos) break;
    out.append(text.substr(pos, amp - pos));
    size_t consumed = 0;
    if (amp + 1 < text.size()) {
      consumed = text[amp + 1] == '#' ? unescape_numeric(text, amp, require_semicolon, out)
                                      : unescape_named(text, amp, require_semicolon, out);
    }
    if (consumed == 0) {
      out += '&';
      consumed = 1;
    }
    pos = amp + consumed;
  }
  if (pos < text.size()) out.append(text.substr(pos));
  return out;
}

std::string collapse_whitespace(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for_each_code_point(text, [&](char32_t cp, size_t offset, size_t len) {
    if (is_python_space(cp)) {
      pending_space = !out.empty();  // leading whitespace is stripped
      return;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out.append(text.substr(offset, len));
  });
  return out;  // trailing whitespace never gets its pending space written
}

std::string ftfy_fix_text_subset(std::string_view text) {
  std::string unescaped;
  if (text.find('<') == std::string_view::npos) {  // unescape_html="auto": not in text that looks like HTML
    unescaped = html_unescape(text, /*require_semicolon=*/true);
    text = unescaped;
  }
  std::string out;
  out.reserve(text.size());
  size_t skip_until = 0;
  for_each_code_point(text, [&](char32_t cp, size_t offset, size_t len) {
    if (offset < skip_until) return;
    if (const size_t esc = terminal_escape_length(text, offset); esc != 0) {
      skip_until = offset + esc;
      return;
    }
    if (cp == 0x02BC || (cp >= 0x2018 && cp <= 0x201B)) {
      out += '\'';
    } else if (cp >= 0x201C && cp <= 0x201F) {
      out += '"';
    } else if (!is_ftfy_control_char(cp)) {
      out.append(text.substr(offset, len));
    }
  });
  return out;
}

std::string wan_clean_prompt(std::string_view text) {
  // basic_clean's .strip() is subsumed by collapse_whitespace's.
  return collapse_whitespace(html_unescape(html_unescape(ftfy_fix_text_subset(text))));
}

}  // namespace frugal::video

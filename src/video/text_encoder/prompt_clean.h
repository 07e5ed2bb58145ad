// Wan2.1's prompt cleaning for umT5 (video text_encoder layer): HuggingfaceTokenizer(clean='whitespace')
// of wan/modules/tokenizers.py, i.e. whitespace_clean(basic_clean(text)) with
//   basic_clean(t)      = html.unescape(html.unescape(ftfy.fix_text(t))).strip()
//   whitespace_clean(t) = re.sub(r'\s+', ' ', t).strip()
// All functions take and return UTF-8; the input must be valid UTF-8 (is_valid_utf8).
//
// What of ftfy.fix_text (ftfy 6 defaults) is reproduced, in its order: its own HTML unescape (only
// when the text has no '<', and only ';'-terminated references), remove_terminal_escapes, uncurl_quotes
// (‘ ’ ‚ ‛ ʼ → ', “ ” „ ‟ → "), remove_control_chars. NOT reproduced: fix_encoding (mojibake repair,
// e.g. "Ã©" → "é"), fix_c1_controls, fix_surrogates (cannot occur in valid UTF-8), and the NFC /
// fix_latin_ligatures / fix_character_width normalisations, which umT5's SentencePiece model applies
// anyway (its nmt_nfkc normaliser subsumes them). fix_line_breaks is moot: line breaks become spaces.
//
// html.unescape is Python's: numeric references with its replacement rules (cp1252 for &#128;–&#159;,
// U+FFFD for surrogates, zero and > U+10FFFF, invalid code points dropped) and named references
// from a table of the common HTML5 entities: all of Latin-1 (&nbsp; … &yuml;, which like &amp; &lt;
// &gt; &quot; also match without ';'), typography (&hellip; &mdash; &lsquo; &euro; &trade; …), arrows,
// card suits and basic math. Other HTML5 names (&Afr; &NotNestedGreaterGreater; …) stay as written.
#pragma once

#include <string>
#include <string_view>

namespace frugal::video {

// The whole clean='whitespace' pipeline: the ftfy subset, html_unescape twice, collapse_whitespace.
std::string wan_clean_prompt(std::string_view text);

// Python's html.unescape (with the entity table above). require_semicolon: ftfy's variant, which only
// replaces references of the form &name; / &#123; / &#x1F;.
std::string html_unescape(std::string_view text, bool require_semicolon = false);

// re.sub(r'\s+', ' ', text).strip() with Python's Unicode whitespace (\t\n\v\f\r, \x1c–\x1f, space,
// U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000).
std::string collapse_whitespace(std::string_view text);

// The reproduced part of ftfy.fix_text (see above).
std::string ftfy_fix_text_subset(std::string_view text);

bool is_valid_utf8(std::string_view text);

}  // namespace frugal::video

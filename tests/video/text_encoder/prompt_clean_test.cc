// Wan's clean='whitespace' prompt cleaning: expected values are what CPython 3.11's html.unescape,
// re.sub(r'\s+', ' ', t).strip() and ftfy 6's uncurl_quotes/remove_control_chars return.
#include <gtest/gtest.h>

#include "video/text_encoder/prompt_clean.h"

namespace frugal::video {
namespace {

TEST(HtmlUnescape, NamedReferences) {
  EXPECT_EQ(html_unescape("a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;"), "a & b <c> \"d\" 'e'");
  EXPECT_EQ(html_unescape("caf&eacute; &copy; &hellip; &mdash; &euro;5"), "caf\u00e9 \u00a9 \u2026 \u2014 \u20ac5");
  EXPECT_EQ(html_unescape("&nbsp;"), "\u00a0");
  // Legacy names also match without ';', and as the longest prefix of a longer name.
  EXPECT_EQ(html_unescape("&amp &nbsp x"), "& \u00a0 x");
  EXPECT_EQ(html_unescape("&notit;"), "\u00acit;");
  EXPECT_EQ(html_unescape("&ampx"), "&x");
  // Non-legacy names need their ';'; unknown names stay as written.
  EXPECT_EQ(html_unescape("&hellip"), "&hellip");
  EXPECT_EQ(html_unescape("&unknown; & &; &#; &#x;"), "&unknown; & &; &#; &#x;");
}

TEST(HtmlUnescape, NumericReferences) {
  EXPECT_EQ(html_unescape("&#39;&#x27;&#X41;&#65"), "''AA");
  EXPECT_EQ(html_unescape("&#128;&#x93;x&#x94;"), "\u20ac\u201cx\u201d");  // read as Windows-1252
  EXPECT_EQ(html_unescape("&#129;"), "\u0081");
  EXPECT_EQ(html_unescape("&#0;&#xD800;&#x110000;&#99999999999999999999;"), "\ufffd\ufffd\ufffd\ufffd");
  EXPECT_EQ(html_unescape("a&#1;b&#x7f;c&#xFFFF;d"), "abcd");  // invalid code points are dropped
  EXPECT_EQ(html_unescape("&#13;"), "\r");
  EXPECT_EQ(html_unescape("&#x1F600;"), "\U0001F600");
}

TEST(HtmlUnescape, FtfyVariantNeedsSemicolon) {
  EXPECT_EQ(html_unescape("&amp &amp; &#65 &#65;", /*require_semicolon=*/true), "&amp & &#65 A");
}

TEST(CollapseWhitespace, PythonUnicodeWhitespace) {
  EXPECT_EQ(collapse_whitespace("  a\t\n\r\v\f b\u3000c\u00a0\u2009d \u2028 "), "a b c d");
  EXPECT_EQ(collapse_whitespace(""), "");
  EXPECT_EQ(collapse_whitespace(" \n\t "), "");
  EXPECT_EQ(collapse_whitespace("x"), "x");
}

TEST(FtfySubset, QuotesControlsAndEscapes) {
  EXPECT_EQ(ftfy_fix_text_subset("\u201cHi\u201d, it\u2019s \u2018ok\u2019"), "\"Hi\", it's 'ok'");
  EXPECT_EQ(ftfy_fix_text_subset("a\x01" "b\u200b\ufeffc\x1b[31mred\x1b[0m"), "ab\u200bcred");
  // ftfy unescapes HTML itself, but not in text that contains '<'.
  EXPECT_EQ(ftfy_fix_text_subset("&ldquo;x&rdquo;"), "\"x\"");
  EXPECT_EQ(ftfy_fix_text_subset("<b>&amp;</b>"), "<b>&amp;</b>");
}

TEST(WanCleanPrompt, Pipeline) {
  EXPECT_EQ(wan_clean_prompt("  A  cat\n\n on a\tmat.  "), "A cat on a mat.");
  // ftfy's unescape, then html.unescape twice: three rounds without '<', two with one.
  EXPECT_EQ(wan_clean_prompt("&amp;amp;amp;"), "&");
  EXPECT_EQ(wan_clean_prompt("<&amp;amp;amp;"), "<&amp;");
  EXPECT_EQ(wan_clean_prompt("Tom&nbsp;&amp;&nbsp;Jerry"), "Tom & Jerry");
  EXPECT_EQ(wan_clean_prompt(""), "");
  EXPECT_EQ(wan_clean_prompt("\u201cquoted\u201d"), "\"quoted\"");
}

TEST(Utf8, Validation) {
  EXPECT_TRUE(is_valid_utf8("plain \u00e9\u4e2d\U0001F600"));
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xc3"));          // truncated
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));      // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));  // surrogate
}

}  // namespace
}  // namespace frugal::video

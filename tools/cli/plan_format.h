// Human-readable numbers for `frugal plan`'s text output (tools layer): every figure with its unit,
// grouped digits instead of exponents ("10,950 videos", not "1.095e+04"), durations in the unit
// that reads best ("36.0 days", not "3112822.2 s"), and table cells padded by displayed width
// (so that "—", the mark of an absent figure, keeps columns aligned).
#pragma once

#include <string>

namespace frugal::cli {

// 3 significant digits below 1,000 ("0.0123", "12.3"), grouped integers up to a trillion ("10,950"),
// then "1.23e+15". Negative values keep their sign.
std::string fmt_count(double value);
// "USD 1,234", "USD 12.34", "USD 0.00123" (3 significant digits below 1).
std::string fmt_usd(double usd);
// "850 µs", "12.3 ms", "4.50 s", "5.2 min", "3.4 h", "36.0 days".
std::string fmt_duration(double seconds);
// "80.0 GB" (decimal, as datasheets count).
std::string fmt_gb(double bytes);
// "42 %" / "4.2 %".
std::string fmt_percent(double fraction);
// `value` formatted with printf `format`, or "—" when value <= 0 (no such mode / not published).
std::string fmt_or_dash(double value, const char* format);

// Displayed width of UTF-8 text (code points; "—" is one).
size_t display_width(const std::string& text);
// `text` padded with spaces to `width` displayed columns, on the right (left-aligned) or the left.
std::string pad(const std::string& text, size_t width, bool align_left);

}  // namespace frugal::cli

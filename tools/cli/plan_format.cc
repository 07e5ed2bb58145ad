#include "plan_format.h"

#include <cmath>
#include <cstdio>

namespace frugal::cli {
namespace {

std::string printf_string(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, value);
  return buf;
}

// 3 significant digits for |value| < 1000 without exponent.
std::string three_significant(double value) {
  const double a = std::fabs(value);
  if (a == 0) return "0";
  if (a >= 100) return printf_string("%.0f", value);
  if (a >= 10) return printf_string("%.1f", value);
  if (a >= 1) return printf_string("%.2f", value);
  const int decimals = 2 - static_cast<int>(std::floor(std::log10(a)));  // 0.0123 -> 4
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  return buf;
}

std::string grouped(double value) {
  const std::string digits = printf_string("%.0f", std::fabs(value));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (value < 0 ? "-" : "") + out;
}

}  // namespace

std::string fmt_count(double value) {
  if (!std::isfinite(value)) return value > 0 ? "unbounded" : "n/a";
  const double a = std::fabs(value);
  if (a < 999.5) return three_significant(value);
  if (a < 1e15) return grouped(value);
  return printf_string("%.3g", value);
}

std::string fmt_usd(double usd) {
  if (std::fabs(usd) >= 100) return "USD " + fmt_count(usd);
  if (std::fabs(usd) >= 1) return "USD " + printf_string("%.2f", usd);
  return "USD " + three_significant(usd);
}

std::string fmt_duration(double s) {
  if (!std::isfinite(s)) return "unbounded";
  if (s < 1e-3) return three_significant(s * 1e6) + " µs";
  if (s < 1) return three_significant(s * 1e3) + " ms";
  if (s < 120) return three_significant(s) + " s";
  if (s < 7200) return three_significant(s / 60) + " min";
  if (s < 172800) return three_significant(s / 3600) + " h";
  return fmt_count(s / 86400) + " days";
}

std::string fmt_gb(double bytes) { return printf_string("%.1f GB", bytes / 1e9); }

std::string fmt_percent(double fraction) { return three_significant(fraction * 100) + " %"; }

std::string fmt_or_dash(double value, const char* format) {
  return value > 0 ? printf_string(format, value) : "—";
}

size_t display_width(const std::string& text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80 ? 1 : 0;  // count lead bytes only
  return n;
}

std::string pad(const std::string& text, size_t width, bool align_left) {
  const size_t w = display_width(text);
  if (w >= width) return text;
  const std::string fill(width - w, ' ');
  return align_left ? text + fill : fill + text;
}

}  // namespace frugal::cli

#include "cost/report_html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace frugal {
namespace {

constexpr double kWidth = 640, kHeight = 360;
constexpr double kLeft = 70, kRight = 20, kTop = 40, kBottom = 50;
constexpr const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};

std::string fmt(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.1f", v);
  return buf;
}

std::string fmt_tick(double v) {
  char buf[64];
  const double a = std::fabs(v);
  if (a >= 1e9) std::snprintf(buf, sizeof(buf), "%.3gG", v / 1e9);
  else if (a >= 1e6) std::snprintf(buf, sizeof(buf), "%.3gM", v / 1e6);
  else if (a >= 1e3) std::snprintf(buf, sizeof(buf), "%.3gk", v / 1e3);
  else std::snprintf(buf, sizeof(buf), "%.3g", v);
  return buf;
}

struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  double map(double v, double from, double to) const {
    const double a = log ? std::log10(std::max(v, 1e-300)) : v;
    const double l = log ? std::log10(lo) : lo;
    const double h = log ? std::log10(hi) : hi;
    const double t = h > l ? (a - l) / (h - l) : 0.5;
    return from + t * (to - from);
  }
  std::vector<double> ticks() const {
    std::vector<double> out;
    if (log) {
      for (double p = std::floor(std::log10(lo)); p <= std::ceil(std::log10(hi)); p += 1) {
        const double v = std::pow(10.0, p);
        if (v >= lo * 0.999 && v <= hi * 1.001) out.push_back(v);
      }
      if (out.size() < 2) out = {lo, hi};
      return out;
    }
    for (int i = 0; i <= 4; ++i) out.push_back(lo + (hi - lo) * i / 4.0);
    return out;
  }
};

Axis make_axis(double lo, double hi, bool log) {
  Axis a;
  a.log = log;
  if (log) {
    lo = std::max(lo, 1e-12);
    hi = std::max(hi, lo * 10);
  } else {
    lo = std::min(lo, 0.0);
    if (hi <= lo) hi = lo + 1;
  }
  a.lo = lo;
  a.hi = hi;
  return a;
}

std::string svg_open(const std::string& id, const std::string& title) {
  return "<svg id=\"" + html_escape(id) + "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt(kWidth) +
         "\" height=\"" + fmt(kHeight) + "\" viewBox=\"0 0 " + fmt(kWidth) + " " + fmt(kHeight) +
         "\" role=\"img\" font-family=\"sans-serif\" font-size=\"11\"><title>" + html_escape(title) + "</title>" +
         "<text x=\"" + fmt(kWidth / 2) + "\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">" + html_escape(title) +
         "</text>";
}

std::string axes_frame(const std::string& x_label, const std::string& y_label) {
  const double x0 = kLeft, x1 = kWidth - kRight, y0 = kHeight - kBottom, y1 = kTop;
  return "<line x1=\"" + fmt(x0) + "\" y1=\"" + fmt(y0) + "\" x2=\"" + fmt(x1) + "\" y2=\"" + fmt(y0) +
         "\" stroke=\"#333\"/><line x1=\"" + fmt(x0) + "\" y1=\"" + fmt(y0) + "\" x2=\"" + fmt(x0) + "\" y2=\"" +
         fmt(y1) + "\" stroke=\"#333\"/><text x=\"" + fmt((x0 + x1) / 2) + "\" y=\"" + fmt(kHeight - 12) +
         "\" text-anchor=\"middle\">" + html_escape(x_label) + "</text><text transform=\"translate(14," +
         fmt((y0 + y1) / 2) + ") rotate(-90)\" text-anchor=\"middle\">" + html_escape(y_label) + "</text>";
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string render_line_chart_svg(const LineChart& c) {
  double xlo = std::numeric_limits<double>::max(), xhi = -xlo, ylo = xlo, yhi = -xlo;
  for (const ChartSeries& s : c.series) {
    for (auto [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      xlo = std::min(xlo, x), xhi = std::max(xhi, x), ylo = std::min(ylo, y), yhi = std::max(yhi, y);
    }
  }
  if (xlo > xhi) xlo = 1, xhi = 10, ylo = 1, yhi = 10;
  const Axis ax = make_axis(xlo, xhi, c.log_x), ay = make_axis(ylo, yhi * 1.05, c.log_y);
  const double x0 = kLeft, x1 = kWidth - kRight, y0 = kHeight - kBottom, y1 = kTop;
  std::string svg = svg_open(c.id, c.title) + axes_frame(c.x_label, c.y_label);
  for (double t : ax.ticks()) {
    svg += "<text x=\"" + fmt(ax.map(t, x0, x1)) + "\" y=\"" + fmt(y0 + 16) + "\" text-anchor=\"middle\">" +
           fmt_tick(t) + "</text>";
  }
  for (double t : ay.ticks()) {
    const double y = ay.map(t, y0, y1);
    svg += "<text x=\"" + fmt(x0 - 6) + "\" y=\"" + fmt(y + 4) + "\" text-anchor=\"end\">" + fmt_tick(t) +
           "</text><line x1=\"" + fmt(x0) + "\" y1=\"" + fmt(y) + "\" x2=\"" + fmt(x1) + "\" y2=\"" + fmt(y) +
           "\" stroke=\"#eee\"/>";
  }
  for (size_t i = 0; i < c.series.size(); ++i) {
    const char* color = kColors[i % 6];
    std::string pts;
    for (auto [x, y] : c.series[i].points) {
      if (!std::isfinite(x) || !std::isfinite(y) || (c.log_x && x <= 0) || (c.log_y && y <= 0)) continue;
      pts += fmt(ax.map(x, x0, x1)) + "," + fmt(ay.map(y, y0, y1)) + " ";
    }
    svg += "<polyline fill=\"none\" stroke=\"" + std::string(color) + "\" stroke-width=\"2\" points=\"" + pts +
           "\"><title>" + html_escape(c.series[i].label) + "</title></polyline>";
    svg += "<text x=\"" + fmt(x1 - 4) + "\" y=\"" + fmt(y1 + 14 * (i + 1)) + "\" text-anchor=\"end\" fill=\"" +
           color + "\">" + html_escape(c.series[i].label) + "</text>";
  }
  return svg + "</svg>";
}

std::string render_bar_chart_svg(const BarChart& c) {
  double hi = 0;
  for (const auto& [label, v] : c.bars) hi = std::max(hi, std::isfinite(v) ? v : 0.0);
  const Axis ay = make_axis(0, hi > 0 ? hi * 1.1 : 1, false);
  const double x0 = kLeft, x1 = kWidth - kRight, y0 = kHeight - kBottom, y1 = kTop;
  std::string svg = svg_open(c.id, c.title) + axes_frame("", c.y_label);
  for (double t : ay.ticks()) {
    svg += "<text x=\"" + fmt(x0 - 6) + "\" y=\"" + fmt(ay.map(t, y0, y1) + 4) + "\" text-anchor=\"end\">" +
           fmt_tick(t) + "</text>";
  }
  const double slot = c.bars.empty() ? 1 : (x1 - x0) / static_cast<double>(c.bars.size());
  for (size_t i = 0; i < c.bars.size(); ++i) {
    const auto& [label, v] = c.bars[i];
    const double value = std::isfinite(v) ? v : 0.0;
    const double top = ay.map(value, y0, y1);
    const double x = x0 + slot * i + slot * 0.15;
    svg += "<rect x=\"" + fmt(x) + "\" y=\"" + fmt(top) + "\" width=\"" + fmt(slot * 0.7) + "\" height=\"" +
           fmt(y0 - top) + "\" fill=\"" + kColors[i % 6] + "\"><title>" + html_escape(label) + ": " +
           fmt_tick(value) + "</title></rect><text x=\"" + fmt(x + slot * 0.35) + "\" y=\"" + fmt(y0 + 14) +
           "\" text-anchor=\"middle\" font-size=\"9\">" + html_escape(label) + "</text>";
  }
  return svg + "</svg>";
}

std::string render_html_report(const HtmlReport& r) {
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
                     html_escape(r.title) +
                     "</title><style>body{font-family:sans-serif;margin:2em;max-width:60em}"
                     "table{border-collapse:collapse}td{border:1px solid #ccc;padding:2px 8px}"
                     "figure{margin:1em 0}</style></head><body><h1>" +
                     html_escape(r.title) + "</h1><table>";
  for (const auto& [k, v] : r.summary) html += "<tr><td>" + html_escape(k) + "</td><td>" + html_escape(v) + "</td></tr>";
  html += "</table>";
  for (const std::string& svg : r.charts_svg) html += "<figure>" + svg + "</figure>";
  if (!r.notes.empty()) {
    html += "<h2>Assumptions</h2><ul>";
    for (const std::string& n : r.notes) html += "<li>" + html_escape(n) + "</li>";
    html += "</ul>";
  }
  return html + "</body></html>\n";
}

}  // namespace frugal

// Self-contained HTML report with inline SVG charts (no scripts, no external fonts) (cost layer).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace frugal {

struct ChartSeries {
  std::string label;
  std::vector<std::pair<double, double>> points;  // (x, y)
};

struct LineChart {
  std::string id;       // SVG element id, e.g. "chart-cost-vs-batch"
  std::string title;    // <title> of the SVG
  std::string x_label;
  std::string y_label;
  bool log_x = false;
  bool log_y = false;
  std::vector<ChartSeries> series;
};

struct BarChart {
  std::string id;
  std::string title;
  std::string y_label;
  std::vector<std::pair<std::string, double>> bars;  // (label, value)
};

std::string render_line_chart_svg(const LineChart& chart);
std::string render_bar_chart_svg(const BarChart& chart);

struct HtmlReport {
  std::string title;
  std::vector<std::pair<std::string, std::string>> summary;  // (key, value) rows
  std::vector<std::string> charts_svg;                       // rendered charts, in order
  std::vector<std::string> notes;                            // assumptions, sources
};

std::string render_html_report(const HtmlReport& report);

// Escapes &, <, >, " for HTML text and attributes.
std::string html_escape(const std::string& text);

}  // namespace frugal

// Test helper for the timing checks (`make check-calibration`, FRUGAL_TIMING_CHECKS=1): a planner's
// prediction against frugal's own measurement, paired per round (both from one run, one spell of
// a shared machine), the error being that of the median ratio over the rounds; the held-out points
// taken out of a calibration record before the planner reads it; and the table both checks print.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace frugal::testing {

// Timing belongs to benchmarks, not to `make test` on a shared machine: skips unless asked for.
#define FRUGAL_REQUIRE_TIMING_CHECKS()                                                                    \
  do {                                                                                                    \
    if (std::getenv("FRUGAL_TIMING_CHECKS") == nullptr) {                                                 \
      GTEST_SKIP() << "timing check: run `make check-calibration` (FRUGAL_TIMING_CHECKS=1) on a quiet machine"; \
    }                                                                                                     \
  } while (0)

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t mid = v.size() / 2;
  return v.size() % 2 == 1 ? v[mid] : 0.5 * (v[mid - 1] + v[mid]);
}

// Rewrites the JSON record at `path` without the entries of its "points" array for which
// `held(point)` is true; returns how many it removed.
template <class Held>
int remove_record_points(const std::string& path, Held held) {
  nlohmann::json doc;
  {
    std::ifstream in(path);
    doc = nlohmann::json::parse(in);
  }
  nlohmann::json kept = nlohmann::json::array();
  int removed = 0;
  for (const nlohmann::json& p : doc["points"]) {
    if (held(p)) {
      ++removed;
    } else {
      kept.push_back(p);
    }
  }
  doc["points"] = kept;
  std::ofstream(path) << doc.dump(2);
  return removed;
}

// One held-out configuration over the rounds: predicted[r] and measured[r] come from round r;
// `spread` is the machine's own run-to-run spread for it (relative).
struct PairedRow {
  std::string name;
  std::vector<double> predicted, measured;
  double spread = 0;
};

struct PairedReport {
  std::string table;           // header, then one line per row with the per-round ratios
  std::vector<double> errors;  // |median(predicted / measured) - 1| per row
  double median_spread = 0;    // median of the rows' spreads
};

// `value_format`: printf format of the predicted and measured columns (e.g. "%10.1f", "%9.4f s");
// `name_width`: width of the name column.
inline PairedReport paired_report(const std::vector<PairedRow>& rows, const std::string& header, int name_width,
                                  const std::string& value_format) {
  PairedReport out;
  out.table = header + "\n";
  std::vector<double> spreads;
  const std::string format = "%-*s " + value_format + " " + value_format + " %6.1f%% %6.1f%% ";
  for (const PairedRow& row : rows) {
    std::vector<double> ratios;
    for (size_t r = 0; r < row.measured.size() && r < row.predicted.size(); ++r) {
      ratios.push_back(row.predicted[r] / row.measured[r]);
    }
    out.errors.push_back(std::fabs(median(ratios) - 1.0));
    spreads.push_back(row.spread);
    char line[256];
    std::snprintf(line, sizeof(line), format.c_str(), name_width, row.name.c_str(), median(row.predicted),
                  median(row.measured), 100 * out.errors.back(), 100 * row.spread);
    out.table += line;
    for (double ratio : ratios) {
      std::snprintf(line, sizeof(line), " %.3f", ratio);
      out.table += line;
    }
    out.table += "\n";
  }
  out.median_spread = median(spreads);
  return out;
}

}  // namespace frugal::testing

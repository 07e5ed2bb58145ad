#include "cost/calibration_store.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

namespace frugal {
namespace {

// The key a later measurement replaces: the same model shape, weight type, phase and configuration.
using PointKey = std::tuple<std::string, double, double, int, int64_t, int64_t>;

PointKey key_of(const CalibrationPoint& p) {
  return {p.weight_type, p.model_params, p.model_weight_bytes, static_cast<int>(p.phase), p.batch, p.context};
}

double ratio_or_one(double num, double den) { return num > 0 && den > 0 ? num / den : 1.0; }

std::string size_text(double bytes) {
  char buf[32];
  if (bytes >= 1e9) std::snprintf(buf, sizeof(buf), "%.1f GB", bytes / 1e9);
  else std::snprintf(buf, sizeof(buf), "%.1f MB", bytes / 1e6);
  return buf;
}

}  // namespace

CalibrationRecord merge_calibration(const CalibrationRecord& previous, const CalibrationRecord& fresh,
                                    CalibrationMergeReport* report) {
  CalibrationMergeReport r;
  r.same_machine = previous.machine_id == fresh.machine_id && previous.cpu_model == fresh.cpu_model;
  if (!r.same_machine) {
    r.added = fresh.points.size();
    if (report != nullptr) *report = r;
    return fresh;
  }
  CalibrationRecord merged = fresh;
  merged.points.clear();
  merged.history = previous.history;
  std::set<PointKey> fresh_keys;
  for (const CalibrationPoint& p : fresh.points) fresh_keys.insert(key_of(p));
  // Earlier MBU was taken against previous.read_gb_per_s: the same bytes/s against the fresh probe.
  const double mbu_scale = ratio_or_one(previous.read_gb_per_s, fresh.read_gb_per_s);
  const double mfu_scale = ratio_or_one(previous.peak_flops_per_s, fresh.peak_flops_per_s);
  for (CalibrationPoint p : previous.points) {
    p.mbu = std::min(p.mbu * mbu_scale, kMaxCalibratedEfficiency);
    p.mfu = std::min(p.mfu * mfu_scale, kMaxCalibratedEfficiency);
    if (fresh_keys.count(key_of(p)) != 0) {
      merged.history.push_back(std::move(p));
      ++r.replaced;
    } else {
      merged.points.push_back(std::move(p));
      ++r.kept;
    }
  }
  std::set<PointKey> previous_keys;
  for (const CalibrationPoint& p : previous.points) previous_keys.insert(key_of(p));
  for (const CalibrationPoint& p : fresh.points) r.added += previous_keys.count(key_of(p)) == 0 ? 1 : 0;
  for (const CalibrationPoint& p : fresh.points) merged.points.push_back(p);
  if (merged.history.size() > kMaxCalibrationHistory) {
    merged.history.erase(merged.history.begin(),
                         merged.history.begin() + static_cast<std::ptrdiff_t>(merged.history.size() - kMaxCalibrationHistory));
  }
  if (report != nullptr) *report = r;
  return merged;
}

bool calibration_point_supports(const CalibrationPoint& point, double weight_bytes, std::string_view weight_type) {
  if (point.weight_type != weight_type || point.model_weight_bytes <= 0 || weight_bytes <= 0) return false;
  const double ratio = weight_bytes / point.model_weight_bytes;
  return ratio <= kCalibrationSizeFactor && ratio >= 1.0 / kCalibrationSizeFactor;
}

Expected<CalibrationRecord> calibration_for_model(const CalibrationRecord& record, const std::string& path,
                                                  const std::string& model_name, double weight_bytes,
                                                  std::string_view weight_type) {
  CalibrationRecord out = record;
  out.points.clear();
  out.history.clear();
  for (const CalibrationPoint& p : record.points) {
    if (calibration_point_supports(p, weight_bytes, weight_type)) out.points.push_back(p);
  }
  // A record without points (only the machine's probes) predicts nothing by extrapolation: the
  // roofline then uses its measured bandwidth with the default efficiencies.
  if (!out.points.empty() || record.points.empty()) return out;
  // Say what the record holds: one line per measured model and weight type.
  std::map<std::string, size_t> held;
  for (const CalibrationPoint& p : record.points) {
    const std::string what = p.model_weight_bytes > 0
                                 ? (p.model_name.empty() ? "a model" : p.model_name) + " (" + p.weight_type + ", " +
                                       size_text(p.model_weight_bytes) + ")"
                                 : "a model of unknown size (" + p.weight_type + "; written by an older frugal bench)";
    ++held[what];
  }
  std::string holds;
  for (const auto& [what, n] : held) holds += (holds.empty() ? "" : "; ") + what + ": " + std::to_string(n) + " points";
  if (holds.empty()) holds = "no points";
  char size_factor[16];
  std::snprintf(size_factor, sizeof(size_factor), "%g", kCalibrationSizeFactor);
  return invalid_argument(
      "the calibration record " + path + " cannot predict " + model_name + " (" + std::string(weight_type) + ", " +
      size_text(weight_bytes) + " of weights) on this machine: it holds " + holds +
      ". Speed measured on a model of another size or weight type does not extrapolate (cache residency, threads, "
      "kernels). Run `frugal bench -m MODEL.gguf` on a " + std::string(weight_type) + " model within " + size_factor +
      "x of that size (bench adds its points to the record), or pass --mbu/--mfu for a roofline estimate");
}

}  // namespace frugal

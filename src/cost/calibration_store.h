// Keeping calibration records honest (cost layer): a new `frugal bench` run is merged into the
// record already on disk instead of replacing it, and the planner uses only points that can
// predict the model it is asked about.
// Points are keyed by the model they were measured on (its shape: parameters and weight bytes) and
// weight type, phase, batch and context. A point measured on a cache-resident toy model says
// nothing about an 8B model (MBU > 1 from the last-level cache; another thread balance), so
// extrapolating across sizes is refused with an error that says what to run.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/expected.h"
#include "cost/calibration.h"

namespace frugal {

// A point predicts a model of the same weight type whose weight bytes are within this factor
// of the measured model's (both ways): across a factor of 2 a model stays in the same memory regime
// (in or out of the last-level cache; the same per-thread share of DRAM bandwidth).
inline constexpr double kCalibrationSizeFactor = 2.0;

// Most replaced points kept in a record's history (the oldest are dropped first).
inline constexpr size_t kMaxCalibrationHistory = 1000;

struct CalibrationMergeReport {
  bool same_machine = true;  // false: `previous` was another machine's record and was not merged
  size_t added = 0;          // points of `fresh` with no earlier point of the same key
  size_t replaced = 0;       // earlier points a fresh one replaced (moved to history)
  size_t kept = 0;           // earlier points kept as they were (rescaled, see below)
};

// Merges `fresh` (one bench run) over `previous` (the record on disk) when both come from the same
// machine (machine_id and cpu_model): fresh points replace earlier points of the same key, which go
// to the history; other earlier points are kept, their MBU and MFU rescaled from `previous`'s probe
// figures to `fresh`'s so that the speed they imply is unchanged. The machine figures are fresh's.
// From another machine, `fresh` is returned unchanged and same_machine = false (the caller keeps
// the old file under another name).
CalibrationRecord merge_calibration(const CalibrationRecord& previous, const CalibrationRecord& fresh,
                                    CalibrationMergeReport* report);

// True when `point` can predict a model with `weight_bytes` of weights of `weight_type`.
bool calibration_point_supports(const CalibrationPoint& point, double weight_bytes, std::string_view weight_type);

// `record` restricted to the points that support the model (name for messages, its weight bytes and
// type); kInvalidArgument naming the record `path`, what it holds and what to run when it has points
// but none does. A record with no points at all is returned as is (probes only: default MBU/MFU).
Expected<CalibrationRecord> calibration_for_model(const CalibrationRecord& record, const std::string& path,
                                                  const std::string& model_name, double weight_bytes,
                                                  std::string_view weight_type);

}  // namespace frugal

// CalibrationRecord: what `frugal bench` measured on this machine, as JSON (cost layer).
// The planner uses it for --hardware this-machine: bandwidth x the MBU of the closest measured
// configuration (same weight type, nearest context, interpolated over batch); without a record
// it falls back to default_efficiency().
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/expected.h"
#include "cost/catalogue.h"
#include "cost/efficiency.h"

namespace frugal {

// One measured decode/prefill configuration.
struct CalibrationPoint {
  std::string weight_type;  // "q4_0", "bf16", ... (weight_type_name spelling)
  int64_t batch = 1;
  int64_t context = 0;      // tokens already in the KV cache
  double mbu = 0;           // achieved bytes/s / read_gb_per_s
  double mfu = 0;           // achieved FLOP/s / peak_flops_per_s
};

struct CalibrationRecord {
  std::string machine_id;      // hostname or a stable id
  std::string cpu_model;       // "/proc/cpuinfo model name"
  std::string created_utc;     // ISO 8601
  double memory_bytes = 0;     // RAM (or device memory) available to the model; 0 = ask the OS
  double read_gb_per_s = 0;    // measured streaming-read bandwidth
  double triad_gb_per_s = 0;   // measured STREAM triad bandwidth
  double peak_flops_per_s = 0; // measured peak FLOP/s probe (all cores)
  std::vector<CalibrationPoint> points;
};

inline constexpr const char* kCalibrationSchema = "frugal.calibration/1";

std::string calibration_to_json(const CalibrationRecord& record);
Expected<CalibrationRecord> calibration_from_json(const std::string& json_text, const std::string& origin);
Expected<CalibrationRecord> load_calibration(const std::string& path);
// Writes atomically (temp file + rename), creating the directory.
Status save_calibration(const CalibrationRecord& record, const std::string& path);

// explicit_path if non-empty, else $FRUGAL_CALIBRATION, else ~/.cache/frugal/calibration.json.
std::string resolve_calibration_path(const std::string& explicit_path);

// Efficiency of the closest measured configuration, or nullopt when the record has no points.
std::optional<Efficiency> calibrated_efficiency(const CalibrationRecord& record, std::string_view weight_type,
                                                int64_t batch, int64_t context);

// The "this-machine" catalogue entry built from a record (kind cpu; prices 0 = unknown).
Accelerator accelerator_from_calibration(const CalibrationRecord& record);

}  // namespace frugal

// CalibrationRecord: what `frugal bench` measured on this machine, as JSON (cost layer).
// The planner uses it for --hardware this-machine: bandwidth x the MBU measured for the same weight
// type and phase, interpolated linearly over context and then over batch (clamped outside the
// measured range); without a record it falls back to default_efficiency().
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/expected.h"
#include "cost/catalogue.h"
#include "cost/efficiency.h"

namespace frugal {

// Which phase a point measured: decode steps (tg) or one prompt's forward (pp).
enum class CalibrationPhase { kDecode, kPrefill };
std::string_view calibration_phase_name(CalibrationPhase phase);  // "decode" / "prefill"

// One measured decode/prefill configuration.
struct CalibrationPoint {
  std::string weight_type;  // "q4_0", "bf16", ... (weight_type_name spelling)
  int64_t batch = 1;        // decode: sequences per step; prefill: tokens in the forward
  int64_t context = 0;      // decode: mean tokens in the KV cache; prefill: prompt tokens
  double mbu = 0;           // achieved bytes/s / read_gb_per_s
  double mfu = 0;           // achieved FLOP/s / peak_flops_per_s
  // JSON "phase"; records without it: prefill when batch == context > 1 (how bench wrote pp).
  CalibrationPhase phase = CalibrationPhase::kDecode;
  // The model it was measured on (JSON "model"; absent in records before frugal.calibration/1
  // carried it): a point only predicts models of about its size and of its weight type
  // (calibration_store.h).
  std::string model_name{};       // file name, for messages
  double model_params = 0;        // elements of every tensor
  double model_weight_bytes = 0;  // bytes of the file's tensors
  int64_t model_n_layer = 0;
  int64_t model_n_embd = 0;
  std::string measured_utc{};     // when bench measured it (ISO 8601)
};

// How the record's read bandwidth was measured (JSON "probe"; absent in records written before the
// probe carried its method, then `method` is empty): the planner's bandwidth is only as good as this.
struct CalibrationProbe {
  std::string method;                 // "streaming read (sum of 8 B doubles), 2 threads, ..., best of 10 ..."
  double read_median_gb_per_s = 0;    // of the timed repetitions (read_gb_per_s is the best)
  double read_min_gb_per_s = 0;
  double read_relative_spread = 0;    // (best - min) / best
  bool host_quiet = false;            // load, steal and other processes' CPU below the limits
  bool trusted = false;               // quiet, arrays >= 4x LLC, spread within bounds: MBU may be reported
  std::string verdict;                // "trusted" or the reasons ("host busy: load 5.2 on 2 cores; ...")
};

struct CalibrationRecord {
  std::string machine_id;      // hostname or a stable id
  std::string cpu_model;       // "/proc/cpuinfo model name"
  std::string created_utc;     // ISO 8601
  double memory_bytes = 0;     // RAM (or device memory) available to the model; 0 = ask the OS
  double read_gb_per_s = 0;    // measured streaming-read bandwidth
  double triad_gb_per_s = 0;   // measured STREAM triad bandwidth
  double peak_flops_per_s = 0; // measured peak FLOP/s probe (all cores)
  CalibrationProbe probe;      // the read probe's method, spread and host verdict
  std::vector<CalibrationPoint> points;
  // Points a later run of the same configuration replaced, oldest first (kept, never used).
  std::vector<CalibrationPoint> history;
};

inline constexpr const char* kCalibrationSchema = "frugal.calibration/1";
// MBU is taken against the DRAM read probe, so a model whose weights fit in the last-level cache
// (a test model in a 48 MiB L3) measures MBU > 1; the planner keeps such figures, because they
// predict that machine's speed for that model. Values above this bound are rejected as corrupt.
inline constexpr double kMaxCalibratedEfficiency = 16.0;

std::string calibration_to_json(const CalibrationRecord& record);
Expected<CalibrationRecord> calibration_from_json(const std::string& json_text, const std::string& origin);
Expected<CalibrationRecord> load_calibration(const std::string& path);
// Writes atomically (temp file + rename), creating the directory.
Status save_calibration(const CalibrationRecord& record, const std::string& path);

// explicit_path if non-empty, else $FRUGAL_CALIBRATION, else ~/.cache/frugal/calibration.json.
std::string resolve_calibration_path(const std::string& explicit_path);

// Bytes moved and FLOPs done by the unit of work whose time is interpolated at (batch, context):
// the planner passes a decode step, or one prefill token (so that time per token is linear in the
// prompt length, as attention makes it).
struct CalibrationWork {
  double bytes = 0;
  double flops = 0;
};
using CalibrationWorkFn = std::function<CalibrationWork(int64_t batch, int64_t context)>;

// Efficiency at (batch, context) from the points of the same weight type and phase (falling back to
// the same type, then the same phase, then every point): per measured batch along context between
// the bracketing contexts, then along batch between the bracketing batches; the nearest measured
// value outside the range. Without `work` it is linear in MBU and MFU. With `work` it is linear in
// the time the work takes (work.bytes / MBU and work.flops / MFU), which is what a CPU decode step
// does as attention over a longer context adds time while adding few bytes: linear MBU would
// overestimate tok/s between a short and a long measured context. nullopt when there are no points.
std::optional<Efficiency> calibrated_efficiency(const CalibrationRecord& record, std::string_view weight_type,
                                                int64_t batch, int64_t context,
                                                CalibrationPhase phase = CalibrationPhase::kDecode,
                                                const CalibrationWorkFn& work = {});

// The "this-machine" catalogue entry built from a record (kind cpu; prices 0 = unknown).
Accelerator accelerator_from_calibration(const CalibrationRecord& record);

}  // namespace frugal

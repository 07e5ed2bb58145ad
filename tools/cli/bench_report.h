// `frugal bench` output (tools layer): one result row per model x threads x test, printed as a
// llama-bench-style markdown table or as JSON lines, and turned into a CalibrationRecord.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cost/calibration.h"
#include "engine/membw_trust.h"

namespace frugal::cli {

// This machine's probe figures at one thread count.
struct ProbeFigures {
  int threads = 0;
  int64_t array_bytes = 0;      // each of the probe's three arrays
  int64_t llc_bytes = 0;        // the last-level cache the size was judged against (0 = unknown)
  int repetitions = 0;          // timed repetitions per kernel
  MembwStats read;              // best / median / min GB/s (read_gb_per_s is read.best)
  ProbeTrust trust;             // host verdict, reasons, method
  double read_gb_per_s = 0;
  double copy_gb_per_s = 0;
  double triad_gb_per_s = 0;
  double peak_flops_per_s = 0;  // f32 FMA probe
  std::string flops_variant;    // "avx512", "avx2", "portable"
};

// Achieved FLOP/s over the FMA probe's peak, in (0, 1], or withheld with the reason: when the host
// was busy around the probes (the same verdict as the bandwidth probe's) or when the achieved rate
// exceeds the probe's peak (a disturbed probe, not a faster-than-peak model).
struct MfuReading {
  std::optional<double> mfu;
  std::string withheld;  // why, when mfu is nullopt
};

struct BenchRow {
  std::string model;         // path as given
  std::string weight_type;   // "q8_0"
  double model_bytes = 0;    // file size
  double n_params = 0;       // elements of every tensor
  double tensor_bytes = 0;   // stored bytes of every tensor (the calibration key's weight bytes)
  int64_t n_layer = 0;
  int64_t n_embd = 0;
  int threads = 0;
  int64_t n_prompt = 0;      // pp test: prompt length (0 for tg)
  int64_t n_gen = 0;         // tg test: generated tokens (0 for pp)
  int64_t n_depth = 0;       // tg test: tokens already in the KV cache before the first step
  std::vector<double> tokens_per_s;  // one per repetition
  double bytes_per_token = 0;
  double flops_per_token = 0;
  ProbeFigures probe;        // at the same thread count

  std::string test_name() const;  // "pp512" / "tg128" / "tg128@d512"
  double tps_min() const;
  double tps_median() const;
  double tps_max() const;
  double achieved_bytes_per_s() const { return bytes_per_token * tps_median(); }
  // Achieved bytes/s over the probe's read bandwidth, or withheld with the reason (membw_trust.h):
  // never above 1. Achieved FLOP/s over the f32 peak, likewise (MfuReading).
  MbuReading mbu() const;
  MfuReading mfu() const;
};

// This machine, as calibration records name it: hostname, /proc/cpuinfo model name, and now in UTC.
std::string hostname();
std::string cpu_model_name();
std::string utc_now_iso8601();

void print_table_header();
void print_table_row(const BenchRow& row);
// One JSON object on one line (no trailing newline).
std::string row_to_json_line(const BenchRow& row);

// After a table: one "# MBU|MFU n/a for N rows: why" line per figure and distinct reason.
void print_withheld_efficiency_notes(const std::vector<BenchRow>& rows);

void print_probe_table_header();
void print_probe_row(const ProbeFigures& p);
// After the probe table: the method and the verdict per thread count.
void print_probe_notes(const ProbeFigures& p);
std::string probe_to_json_line(const ProbeFigures& p);

// A record for the planner: the machine's figures from `machine` (all cores, with the probe's
// method, spread and verdict) and one point per
// row run at `machine.threads` threads, or at the largest thread count measured when none was;
// the points' MBU and MFU are taken against `machine`'s figures and kept within
// [0, kMaxCalibratedEfficiency] (above 1 when the model is cache-resident: the planner's factor, not
// a printed MBU).
// best = true: from each row's fastest repetition instead of its median (on a shared machine the
// fastest run is the one least disturbed by other processes, and varies far less between runs).
CalibrationRecord build_calibration(const std::vector<BenchRow>& rows, const ProbeFigures& machine, bool best = false);

}  // namespace frugal::cli

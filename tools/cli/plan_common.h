// Pieces shared by the `frugal plan` subcommands (tools layer): the common flags and their range
// checks, hardware resolution (catalogue or this machine's calibration record), the LLM, traffic
// and video flags, and writing report files (named on stderr).
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/expected.h"
#include "cost/calibration.h"
#include "cost/catalogue.h"
#include "cost/llm_roofline.h"
#include "cost/traffic.h"
#include "cost/video_model.h"

namespace frugal::cli {

struct CommonArgs {
  std::vector<std::string> catalogue_files;
  std::string calibration_path;
  bool json = false;
  std::optional<double> usd_per_hour;  // per device; unset = catalogue midpoint
  std::optional<double> mbu;           // unset = default / calibrated
  std::optional<double> mfu;
};
void add_common_flags(CLI::App& cmd, CommonArgs& c);
// --usd-per-hour > 0, --mbu and --mfu in (0, 1].
Status check_common(const CommonArgs& c);
Expected<HardwareCatalogue> load_catalogue(const CommonArgs& c);

struct ResolvedHardware {
  Accelerator accelerator;
  std::optional<CalibrationRecord> calibration;  // this-machine only
  std::string calibration_path;
  double usd_per_hour = 0;  // per device
};
Expected<ResolvedHardware> resolve_hardware(const CommonArgs& c, const std::string& name);
Efficiency efficiency_for(const CommonArgs& c, const Accelerator& hw);

// Writes `text` to `path` and says so on stderr ("frugal plan: wrote <what> to <path>").
Status write_output_file(const std::string& path, const std::string& text, const std::string& what);

struct LlmArgs {
  CommonArgs common;
  std::string model = "llama-3-8b";
  std::string hardware = "h100-sxm";
  int count = 1;
  std::string weights;      // empty: bf16, or the GGUF file's own types
  std::string kv;           // empty: f32 on this-machine (frugal's CPU KV cache), else f16
  double kv_mem_bytes = 0;  // > 0: also report the largest context that fits this KV budget
  int64_t batch = 1;
  int64_t context = 4096;
  int64_t prompt_tokens = 0;
  double utilisation = 1.0;
  double api_usd_per_million = 1.0;
  std::string html;
};
void add_llm_flags(CLI::App& cmd, LlmArgs& a);
Status check_llm_args(const LlmArgs& a);
// The deployment for `a` on `hw`: the weight type must be one the hardware's catalogue entry lists,
// and on this-machine the calibration record must hold points that can predict this model
// (calibration_store.h) unless --mbu/--mfu replace it.
Expected<LlmDeployment> build_deployment(const LlmArgs& a, const ResolvedHardware& hw);

// Traffic flags (recommend, breakeven): a request rate and latency targets.
struct TrafficArgs {
  std::optional<double> requests_per_minute;
  std::optional<double> output_tokens_per_s;  // alternative to the request rate
  std::string ttft_p95;                       // "2s", "500ms"; empty: no p95 target
  bool given() const { return requests_per_minute.has_value() || output_tokens_per_s.has_value(); }
};
void add_traffic_flags(CLI::App& cmd, TrafficArgs& t);
// The traffic at `workload`; max_tpot_s is the mean TPOT target (0 = none).
Expected<Traffic> traffic_from_args(const TrafficArgs& t, const Workload& workload, double max_tpot_s);
// "2s", "2 s", "500ms", "1.5" (seconds), "250us", "1min"; > 0.
Expected<double> parse_duration_s(const std::string& text, const std::string& flag);

struct VideoArgs {
  CommonArgs common;
  std::string model = "wan2.1-t2v-14b";
  std::string hardware = "h100-sxm";
  std::string resolution = "480p";
  double seconds = 5;
  int64_t frames = 0;
  VideoRequest request;
  bool no_cfg = false;
  std::string video_calibration;  // --hardware this-machine: the `frugal bench video` record
  int threads = 0;                // --hardware this-machine: the calibrated thread count (0: the only one)
};
void add_video_flags(CLI::App& cmd, VideoArgs& a);
// Checks the flags and fills a.request's size and frames.
Status resolve_video_request(VideoArgs& a);

template <typename Fn>
void on_run(CLI::App* cmd, Fn fn) {
  cmd->callback([fn] {
    const int code = fn();
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

// Subcommands in their own files.
void register_plan_video(CLI::App& plan);       // cli_plan_video.cc
int run_video_calibrated(VideoArgs a);          // plan_video_calibrated.cc (--hardware this-machine)
void register_plan_breakeven(CLI::App& plan);   // cli_plan_breakeven.cc
void register_plan_recommend(CLI::App& plan);   // cli_plan_recommend.cc
void register_plan_deploy(CLI::App& plan);      // cli_plan_deploy.cc

}  // namespace frugal::cli

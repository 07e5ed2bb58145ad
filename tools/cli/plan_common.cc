#include "plan_common.h"

#include <cmath>
#include <cstdio>
#include <fstream>

#include "cli_common.h"
#include "cost/calibration_store.h"
#include "cost/kv_budget.h"
#include "cost/plan_inputs.h"

namespace frugal::cli {

void add_common_flags(CLI::App& cmd, CommonArgs& c) {
  cmd.add_option("--catalogue", c.catalogue_files, "Extra hardware catalogue JSON (merged; repeatable)");
  cmd.add_option("--calibration", c.calibration_path,
                 "Calibration record for this-machine (default $FRUGAL_CALIBRATION or ~/.cache/frugal/calibration.json)");
  cmd.add_flag("--json", c.json, "Print one JSON object");
  cmd.add_option("--usd-per-hour", c.usd_per_hour, "Price of one device-hour, > 0 (default: catalogue midpoint)");
  cmd.add_option("--mbu", c.mbu, "Memory-bandwidth utilisation in (0, 1] (default 0.7 GPU / 0.6 CPU, or calibrated)");
  cmd.add_option("--mfu", c.mfu, "Model-FLOPs utilisation in (0, 1] (default 0.4 GPU / 0.3 CPU, or calibrated)");
}

Status check_common(const CommonArgs& c) {
  if (c.usd_per_hour) {
    if (Status s = check_positive("--usd-per-hour", *c.usd_per_hour); !s) return s;
  }
  if (c.mbu) {
    if (Status s = check_fraction("--mbu", *c.mbu); !s) return s;
  }
  if (c.mfu) {
    if (Status s = check_fraction("--mfu", *c.mfu); !s) return s;
  }
  return Status::ok();
}

Expected<HardwareCatalogue> load_catalogue(const CommonArgs& c) {
  return HardwareCatalogue::load_default_with(c.catalogue_files);
}

Expected<ResolvedHardware> resolve_hardware(const CommonArgs& c, const std::string& name) {
  if (Status s = check_common(c); !s) return s;
  ResolvedHardware r;
  if (name == kThisMachineName) {
    r.calibration_path = resolve_calibration_path(c.calibration_path);
    auto record = load_calibration(r.calibration_path);
    if (!record) return record.error();
    r.accelerator = accelerator_from_calibration(*record);
    r.calibration = std::move(*record);
  } else {
    auto catalogue = load_catalogue(c);
    if (!catalogue) return catalogue.error();
    auto a = catalogue->get(name);
    if (!a) return a.error();
    r.accelerator = std::move(*a);
  }
  r.usd_per_hour = c.usd_per_hour ? *c.usd_per_hour : r.accelerator.cloud_usd_per_hour_mid();
  return r;
}

Efficiency efficiency_for(const CommonArgs& c, const Accelerator& hw) {
  Efficiency e = default_efficiency(hw.kind);
  if (c.mbu) e.mbu = *c.mbu;
  if (c.mfu) e.mfu = *c.mfu;
  return e;
}

Status write_output_file(const std::string& path, const std::string& text, const std::string& what) {
  {
    std::ofstream out(path, std::ios::trunc);
    if (!out) return unavailable("cannot write " + path);
    out << text;
    if (!out) return unavailable("write failed: " + path);
  }
  std::fprintf(stderr, "frugal plan: wrote %s to %s\n", what.c_str(), path.c_str());
  return Status::ok();
}

void add_llm_flags(CLI::App& cmd, LlmArgs& a) {
  cmd.add_option("-m,--model", a.model, "Named shape (" + llm_shape_names() + ") or FILE.gguf")->capture_default_str();
  cmd.add_option("--hardware", a.hardware, "Catalogue name or this-machine")->capture_default_str();
  cmd.add_option("--count", a.count, "Devices (tensor parallel)")->capture_default_str();
  cmd.add_option("--weights", a.weights, "Weight type: " + weight_type_names() + " (default bf16, or the GGUF's)");
  cmd.add_option("--kv,--kv-type", a.kv, "KV cache type: f32, f16, bf16, q8_0, fp8, int8 (default f32 on this-machine, "
                 "frugal's CPU cache; else f16)");
  cmd.add_option("--kv-mem", a.kv_mem_bytes, "KV budget in bytes (as `frugal serve --kv-mem`): report the max context");
  cmd.add_option("--batch", a.batch, "Concurrent sequences")->capture_default_str();
  cmd.add_option("--context", a.context, "Tokens per sequence in the KV cache")->capture_default_str();
  cmd.add_option("--prompt-tokens", a.prompt_tokens, "Prompt length for prefill (default: --context)");
  cmd.add_option("--utilisation", a.utilisation, "Fraction of paid hours producing tokens, in (0, 1]")
      ->capture_default_str();
  add_common_flags(cmd, a.common);
}

Status check_llm_args(const LlmArgs& a) {
  for (Status s : {check_at_least("--count", a.count, 1), check_at_least("--batch", a.batch, 1),
                   check_at_least("--context", a.context, 1), check_at_least("--prompt-tokens", a.prompt_tokens, 0),
                   check_non_negative("--kv-mem", a.kv_mem_bytes), check_fraction("--utilisation", a.utilisation),
                   check_positive("--api-usd-per-million", a.api_usd_per_million), check_common(a.common)}) {
    if (!s) return s;
  }
  return Status::ok();
}

namespace {

Expected<double> kv_bytes_per_element(const std::string& kv) {
  if (kv == "f16" || kv == "bf16") return 2.0;
  if (kv == "fp8" || kv == "int8") return 1.0;
  if (kv == "q8_0") return 34.0 / 32.0;
  if (kv == "f32") return kFrugalCpuKvBytesPerElement;
  return invalid_argument("unknown --kv-type '" + kv + "' (f32, f16, bf16, q8_0, fp8, int8)");
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

Expected<LlmDeployment> build_deployment(const LlmArgs& a, const ResolvedHardware& hw) {
  if (Status s = check_llm_args(a); !s) return s;
  auto shape = resolve_llm_shape(a.model);
  if (!shape) return shape.error();
  LlmDeployment d;
  if (a.weights.empty() && shape->file_bytes_per_weight > 0) {
    // The file's own type when it is a known one (so a calibration point of that type applies).
    auto own = find_weight_type(shape->file_weight_type);
    d.weights = own ? *own : WeightType{"file", shape->file_bytes_per_weight, ComputePath::kBf16, true};
  } else {
    auto wt = find_weight_type(a.weights.empty() ? "bf16" : a.weights);
    if (!wt) return invalid_argument("unknown --weights '" + a.weights + "' (one of: " + weight_type_names() + ")");
    d.weights = *wt;
  }
  if (d.weights.name != "file" && !hw.accelerator.can_run(d.weights.name)) {
    return invalid_argument(hw.accelerator.name + " cannot run " + d.weights.name + " weights: its catalogue entry lists " +
                            joined(hw.accelerator.weight_formats));
  }
  auto kv = kv_bytes_per_element(!a.kv.empty() ? a.kv : hw.accelerator.name == kThisMachineName ? "f32" : "f16");
  if (!kv) return kv.error();
  d.kv_bytes_per_element = *kv;
  d.shape = std::move(*shape);
  d.hardware = hw.accelerator;
  d.tensor_parallel = a.count;
  d.efficiency = efficiency_for(a.common, hw.accelerator);
  if (!hw.calibration || a.common.mbu || a.common.mfu) return d;
  // Only points measured on a model like this one (size, weight type) may predict it.
  auto uncalibrated = LlmRoofline::create(d);
  if (!uncalibrated) return uncalibrated.error();
  auto usable = calibration_for_model(*hw.calibration, hw.calibration_path, d.shape.name,
                                      uncalibrated->weight_bytes_per_device() * d.tensor_parallel, d.weights.name);
  if (!usable) return usable.error();
  d.calibration = std::move(*usable);
  return d;
}

void add_traffic_flags(CLI::App& cmd, TrafficArgs& t) {
  cmd.add_option("--requests-per-minute,--rpm", t.requests_per_minute,
                 "Traffic to serve: requests per minute (Poisson arrivals)");
  cmd.add_option("--output-tokens-per-s", t.output_tokens_per_s,
                 "Traffic to serve as output tokens per second (instead of --requests-per-minute)");
  cmd.add_option("--ttft-p95", t.ttft_p95, "p95 time-to-first-token target, e.g. 2s or 800ms");
}

Expected<double> parse_duration_s(const std::string& text, const std::string& flag) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (...) {
    used = 0;
  }
  std::string unit = text.substr(used);
  unit.erase(0, unit.find_first_not_of(' '));
  double scale = 0;
  if (used == 0) scale = 0;
  else if (unit.empty() || unit == "s") scale = 1;
  else if (unit == "ms") scale = 1e-3;
  else if (unit == "us" || unit == "µs") scale = 1e-6;
  else if (unit == "min" || unit == "m") scale = 60;
  if (scale == 0) return invalid_argument(flag + " must be a duration such as 2s, 800ms or 1.5 (got '" + text + "')");
  if (Status s = check_positive(flag, value * scale); !s) return s;
  return value * scale;
}

Expected<Traffic> traffic_from_args(const TrafficArgs& t, const Workload& workload, double max_tpot_s) {
  if (t.requests_per_minute && t.output_tokens_per_s) {
    return invalid_argument("give --requests-per-minute or --output-tokens-per-s, not both");
  }
  for (Status s : {check_at_least("--prompt-tokens", workload.prompt_tokens, 1),
                   check_at_least("--output-tokens", workload.output_tokens, 1),
                   check_non_negative("--max-tpot-ms", max_tpot_s)}) {
    if (!s) return s;
  }
  Traffic traffic;
  traffic.workload = workload;
  traffic.max_tpot_s = max_tpot_s;
  if (t.requests_per_minute) {
    if (Status s = check_positive("--requests-per-minute", *t.requests_per_minute); !s) return s;
    traffic.requests_per_s = *t.requests_per_minute / 60.0;
  } else if (t.output_tokens_per_s) {
    if (Status s = check_positive("--output-tokens-per-s", *t.output_tokens_per_s); !s) return s;
    traffic.requests_per_s = *t.output_tokens_per_s / static_cast<double>(workload.output_tokens);
  }
  if (!t.ttft_p95.empty()) {
    auto ttft = parse_duration_s(t.ttft_p95, "--ttft-p95");
    if (!ttft) return ttft.error();
    traffic.ttft_p95_s = *ttft;
  }
  return traffic;
}

void add_video_flags(CLI::App& cmd, VideoArgs& a) {
  cmd.add_option("-m,--model", a.model,
                 "Video DiT (" + dit_config_names() + "), or a Wan model folder with --hardware this-machine")
      ->capture_default_str();
  cmd.add_option("--hardware", a.hardware,
                 "Catalogue name, or this-machine (frugal's own speed, fitted to `frugal bench video`)")
      ->capture_default_str();
  cmd.add_option("--video-calibration", a.video_calibration,
                 "this-machine: the video calibration record (default $FRUGAL_VIDEO_CALIBRATION or "
                 "~/.cache/frugal/video-calibration.json)");
  cmd.add_option("--threads", a.threads, "this-machine: the calibrated thread count to predict (default: the only one)");
  cmd.add_option("--resolution", a.resolution, "480p, 720p, 1080p, 4k or WxH")->capture_default_str();
  cmd.add_option("--seconds", a.seconds, "Clip length at 16 fps")->capture_default_str();
  cmd.add_option("--frames", a.frames, "Frames (overrides --seconds)");
  cmd.add_option("--steps", a.request.steps, "Denoising steps")->capture_default_str();
  cmd.add_flag("--no-cfg", a.no_cfg, "No classifier-free guidance (one pass per step)");
  cmd.add_option("--step-cache-speedup", a.request.step_cache_speedup, "Step caching speed-up (TeaCache ~2), >= 1");
  cmd.add_option("--attention-density", a.request.attention_density, "Sparse attention: fraction kept, in (0, 1]");
  cmd.add_option("--gpus", a.request.gpus, "Sequence-parallel GPUs")->capture_default_str();
  cmd.add_option("--parallel-efficiency", a.request.parallel_efficiency, "Per extra GPU, in (0, 1]")->capture_default_str();
  add_common_flags(cmd, a.common);
}


Status resolve_video_request(VideoArgs& a) {
  for (Status s : {check_positive("--seconds", a.seconds), check_at_least("--frames", a.frames, 0),
                   check_at_least("--steps", a.request.steps, 1), check_at_least("--gpus", a.request.gpus, 1),
                   check_at_least("--threads", a.threads, 0),
                   check_fraction("--attention-density", a.request.attention_density),
                   check_fraction("--parallel-efficiency", a.request.parallel_efficiency), check_common(a.common)}) {
    if (!s) return s;
  }
  if (!(a.request.step_cache_speedup >= 1.0) || !std::isfinite(a.request.step_cache_speedup)) {
    return invalid_argument("--step-cache-speedup must be >= 1");
  }
  auto res = parse_video_resolution(a.resolution);
  if (!res) return invalid_argument("bad --resolution '" + a.resolution + "' (" + kVideoResolutionNames + ")");
  a.request.width = res->first;
  a.request.height = res->second;
  a.request.frames = a.frames > 0 ? a.frames : frames_for_seconds(a.seconds);
  a.request.cfg = !a.no_cfg;
  if (a.common.mfu) a.request.dit_mfu = *a.common.mfu;
  return Status::ok();
}

}  // namespace frugal::cli

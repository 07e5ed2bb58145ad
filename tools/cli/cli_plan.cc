// `frugal plan`: the cost model from the command line (tools layer). Subcommands: llm, video,
// breakeven, recommend, hardware. Tables by default, --json for one JSON object, --html FILE for
// a self-contained report with inline SVG charts.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cli_common.h"
#include "cost/breakeven.h"
#include "cost/calibration.h"
#include "cost/catalogue.h"
#include "cost/kv_budget.h"
#include "cost/llm_roofline.h"
#include "cost/llm_serving.h"
#include "cost/plan_json.h"
#include "cost/recommend.h"
#include "cost/report_html.h"
#include "cost/video_model.h"

namespace frugal::cli {
namespace {

using nlohmann::json;

struct CommonArgs {
  std::vector<std::string> catalogue_files;
  std::string calibration_path;
  bool json = false;
  double usd_per_hour = 0;  // per device; 0 = catalogue midpoint
  double mbu = 0;           // 0 = default / calibrated
  double mfu = 0;
};

void add_common_flags(CLI::App& cmd, CommonArgs& c) {
  cmd.add_option("--catalogue", c.catalogue_files, "Extra hardware catalogue JSON (merged; repeatable)");
  cmd.add_option("--calibration", c.calibration_path,
                 "Calibration record for this-machine (default $FRUGAL_CALIBRATION or ~/.cache/frugal/calibration.json)");
  cmd.add_flag("--json", c.json, "Print one JSON object");
  cmd.add_option("--usd-per-hour", c.usd_per_hour, "Price of one device-hour (default: catalogue midpoint)");
  cmd.add_option("--mbu", c.mbu, "Memory-bandwidth utilisation (default 0.7 GPU / 0.6 CPU, or calibrated)");
  cmd.add_option("--mfu", c.mfu, "Model-FLOPs utilisation (default 0.4 GPU / 0.3 CPU, or calibrated)");
}

Expected<HardwareCatalogue> load_catalogue(const CommonArgs& c) {
  return HardwareCatalogue::load_default_with(c.catalogue_files);
}

struct ResolvedHardware {
  Accelerator accelerator;
  std::optional<CalibrationRecord> calibration;
  double usd_per_hour = 0;
};

Expected<ResolvedHardware> resolve_hardware(const CommonArgs& c, const std::string& name) {
  ResolvedHardware r;
  if (name == kThisMachineName) {
    auto record = load_calibration(resolve_calibration_path(c.calibration_path));
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
  r.usd_per_hour = c.usd_per_hour > 0 ? c.usd_per_hour : r.accelerator.cloud_usd_per_hour_mid();
  return r;
}

Efficiency efficiency_for(const CommonArgs& c, const Accelerator& hw) {
  Efficiency e = default_efficiency(hw.kind);
  if (c.mbu > 0) e.mbu = c.mbu;
  if (c.mfu > 0) e.mfu = c.mfu;
  return e;
}

Status write_text_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return unavailable("cannot write " + path);
  out << text;
  return out ? Status::ok() : unavailable("write failed: " + path);
}

std::string gb(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f GB", bytes / 1e9);
  return buf;
}

std::string num(double v, const char* f = "%.4g") {
  char buf[64];
  std::snprintf(buf, sizeof(buf), f, v);
  return buf;
}

// ---- plan llm ----

struct LlmArgs {
  CommonArgs common;
  std::string model = "llama-3-8b";
  std::string hardware = "h100-sxm";
  int count = 1;
  std::string weights;  // empty: bf16, or the GGUF file's own types
  std::string kv;          // empty: f32 on this-machine (frugal's CPU KV cache), else f16
  double kv_mem_bytes = 0; // > 0: also report the largest context that fits this KV budget
  int64_t batch = 1;
  int64_t context = 4096;
  int64_t prompt_tokens = 0;
  double utilisation = 1.0;
  double api_usd_per_million = 1.0;
  std::string html;
};

Expected<LlmDeployment> build_deployment(const LlmArgs& a, const ResolvedHardware& hw) {
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
  const std::string kv = !a.kv.empty() ? a.kv : hw.accelerator.name == kThisMachineName ? "f32" : "f16";
  if (kv == "f16" || kv == "bf16") d.kv_bytes_per_element = 2.0;
  else if (kv == "fp8" || kv == "int8") d.kv_bytes_per_element = 1.0;
  else if (kv == "q8_0") d.kv_bytes_per_element = 34.0 / 32.0;
  else if (kv == "f32") d.kv_bytes_per_element = kFrugalCpuKvBytesPerElement;
  else return invalid_argument("unknown --kv-type '" + kv + "' (f32, f16, bf16, q8_0, fp8, int8)");
  d.shape = std::move(*shape);
  d.hardware = hw.accelerator;
  d.tensor_parallel = a.count;
  d.efficiency = efficiency_for(a.common, hw.accelerator);
  if (a.common.mbu <= 0 && a.common.mfu <= 0) d.calibration = hw.calibration;
  return d;
}

HtmlReport llm_report(const LlmArgs& a, const LlmRoofline& model, const LlmPlan& plan, const ResolvedHardware& hw) {
  HtmlReport r;
  r.title = "frugal plan: " + model.deployment().shape.description + " on " + std::to_string(a.count) + " x " +
            hw.accelerator.description;
  r.summary = {{"weights", model.deployment().weights.name},
               {"batch / context", std::to_string(a.batch) + " / " + std::to_string(a.context)},
               {"fits", plan.fits ? "yes" : "NO"},
               {"memory per device", gb(plan.memory.total_bytes()) + " of " + gb(plan.capacity_bytes)},
               {"decode tok/s (per sequence / total)", num(plan.decode_tokens_per_s) + " / " + num(plan.decode_tokens_per_s_total)},
               {"USD per million output tokens", num(plan.usd_per_million_output_tokens)}};
  LineChart by_batch{"chart-cost-vs-batch", "Cost per million output tokens vs batch size", "batch size",
                     "USD / M output tokens", true, true, {}};
  ChartSeries cost{"USD per M output tokens", {}};
  for (int64_t b = 1; b <= std::max<int64_t>(1, plan.max_batch); b *= 2) {
    const double tps = static_cast<double>(b) / model.decode_step(b, a.context).total_s();
    cost.points.push_back({static_cast<double>(b), usd_per_million_tokens(plan.usd_per_hour, tps, a.utilisation)});
  }
  by_batch.series.push_back(cost);
  r.charts_svg.push_back(render_line_chart_svg(by_batch));

  BarChart per_hw{"chart-cost-per-accelerator", "Cost per million output tokens per accelerator (largest batch that fits, up to " +
                  std::to_string(a.batch) + ")", "USD / M output tokens", {}};
  if (auto catalogue = load_catalogue(a.common)) {
    for (const Accelerator& acc : catalogue->entries()) {
      LlmDeployment d = model.deployment();
      d.hardware = acc;
      d.calibration.reset();
      d.efficiency = efficiency_for(a.common, acc);
      auto m = LlmRoofline::create(d);
      if (!m) continue;
      const int64_t b = std::min(a.batch, m->max_batch(a.context));
      if (b <= 0 || acc.cloud_usd_per_hour_mid() <= 0) continue;
      const double tps = static_cast<double>(b) / m->decode_step(b, a.context).total_s();
      per_hw.bars.push_back({acc.name, usd_per_million_tokens(acc.cloud_usd_per_hour_mid() * a.count, tps, a.utilisation)});
    }
  }
  r.charts_svg.push_back(render_bar_chart_svg(per_hw));

  BreakEvenInput in{a.api_usd_per_million, monthly_rent_usd(plan.usd_per_hour / a.count, a.count),
                    plan.decode_tokens_per_s_total * kHoursPerMonth * 3600.0 / 1e6};
  LineChart be{"chart-breakeven", "Monthly cost: self-hosting vs API at USD " + num(a.api_usd_per_million) + " / M tokens",
               "million output tokens per month", "USD per month", true, true, {}};
  ChartSeries api{"API", {}}, self{"self-hosted (rented)", {}};
  const double hi = std::max(in.capacity_units_per_month * 3, 10.0);
  for (const BreakEvenAt& p : break_even_curve(in, hi / 1e4, hi, 60)) {
    api.points.push_back({p.volume_units, p.api_usd});
    self.points.push_back({p.volume_units, p.self_host_usd});
  }
  be.series = {api, self};
  r.charts_svg.push_back(render_line_chart_svg(be));
  r.notes = {"Roofline model: decode step = max(bytes / (bandwidth x MBU), FLOPs / (peak x MFU)) + TP all-reduces.",
             "MBU " + num(model.deployment().efficiency.mbu) + ", MFU " + num(model.deployment().efficiency.mfu) +
                 (hw.calibration ? " (calibrated per batch where measured)" : " (defaults)"),
             "Price: USD " + num(hw.usd_per_hour) + " per device-hour; sources in data/hardware/catalogue.json.",
             "See docs/COST-MODEL.md for the model and its checks against published figures."};
  return r;
}

// KV fields for frugal's own paged cache: bytes per token, the --kv-mem that holds --batch
// sequences of --context tokens, and (with --kv-mem) the largest context that budget holds.
void add_kv_budget_json(json& out, const LlmArgs& a, const LlmRoofline& model) {
  const KvBudget kv = KvBudget::for_shape(model.deployment().shape, model.deployment().kv_bytes_per_element);
  out["kv_bytes_per_element"] = model.deployment().kv_bytes_per_element;
  out["kv_bytes_per_token"] = kv.bytes_per_token;
  out["kv_block_tokens"] = kv.block_tokens;
  out["kv_bytes_per_block"] = kv.bytes_per_block();
  out["kv_blocks_for_context"] = a.batch * kv.blocks_for_context(a.context);
  out["kv_mem_bytes_for_context"] = kv.kv_mem_bytes_for(a.batch, a.context);
  if (a.kv_mem_bytes > 0) {
    out["kv_mem_bytes"] = a.kv_mem_bytes;
    out["max_context_at_kv_mem"] = kv.max_context_at(a.kv_mem_bytes, a.batch);
  }
}

int run_llm(const LlmArgs& a) {
  auto hw = resolve_hardware(a.common, a.hardware);
  if (!hw) return report_error(hw.error());
  auto d = build_deployment(a, *hw);
  if (!d) return report_error(d.error());
  auto model = LlmRoofline::create(std::move(*d));
  if (!model) return report_error(model.error());
  if (a.batch < 1 || a.context < 1) return report_error(invalid_argument("--batch and --context must be >= 1"));
  const LlmPlan plan = plan_llm(*model, {a.batch, a.context, a.prompt_tokens, hw->usd_per_hour, a.utilisation});
  if (!a.html.empty()) {
    if (Status s = write_text_file(a.html, render_html_report(llm_report(a, *model, plan, *hw))); !s) return report_error(s);
  }
  const LlmShape& s = model->deployment().shape;
  if (a.common.json) {
    json out = llm_plan_to_json(plan);
    out["model"] = s.name;
    out["hardware"] = hw->accelerator.name;
    out["count"] = a.count;
    out["weights"] = model->deployment().weights.name;
    out["batch"] = a.batch;
    out["context"] = a.context;
    out["total_params"] = s.total_params();
    out["active_params"] = s.active_matmul_params();
    add_kv_budget_json(out, a, *model);
    const Efficiency e = model->efficiency_at(a.batch, a.context);
    out["mbu"] = e.mbu;
    out["mfu"] = e.mfu;
    out["calibrated"] = hw->calibration.has_value();
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("model        %s (%.2fB params, %.2fB active), weights %s\n", s.description.c_str(),
              s.total_params() / 1e9, s.active_matmul_params() / 1e9, model->deployment().weights.name.c_str());
  std::printf("hardware     %d x %s, USD %.2f/h each\n", a.count, hw->accelerator.description.c_str(), hw->usd_per_hour);
  std::printf("memory       %s per device of %s: %s (weights %s, KV %s, activations %s, reserve %s)\n",
              gb(plan.memory.total_bytes()).c_str(), gb(plan.capacity_bytes).c_str(), plan.fits ? "fits" : "DOES NOT FIT",
              gb(plan.memory.weights_bytes).c_str(), gb(plan.memory.kv_bytes).c_str(),
              gb(plan.memory.activation_bytes).c_str(), gb(plan.memory.reserve_bytes).c_str());
  std::printf("max batch    %lld at context %lld\n", static_cast<long long>(plan.max_batch), static_cast<long long>(a.context));
  const KvBudget kv = KvBudget::for_shape(s, model->deployment().kv_bytes_per_element);
  std::printf("KV cache     %.0f bytes per token; --kv-mem %.0f holds %lld x %lld tokens (%lld blocks of %lld)\n",
              kv.bytes_per_token, kv.kv_mem_bytes_for(a.batch, a.context), static_cast<long long>(a.batch),
              static_cast<long long>(a.context), static_cast<long long>(a.batch * kv.blocks_for_context(a.context)),
              static_cast<long long>(kv.block_tokens));
  if (a.kv_mem_bytes > 0) {
    std::printf("             --kv-mem %.0f: max context %lld per sequence at batch %lld\n", a.kv_mem_bytes,
                static_cast<long long>(kv.max_context_at(a.kv_mem_bytes, a.batch)), static_cast<long long>(a.batch));
  }
  std::printf("prefill      %.0f tok/s\n", plan.prefill_tokens_per_s);
  std::printf("decode       %.1f ms/step (%s-bound; memory %.1f ms, compute %.1f ms, comm %.1f ms): %.1f tok/s per sequence, %.0f tok/s total\n",
              plan.decode.total_s() * 1e3, plan.decode.compute_bound() ? "compute" : "memory", plan.decode.memory_s * 1e3,
              plan.decode.compute_s * 1e3, plan.decode.comm_s * 1e3, plan.decode_tokens_per_s, plan.decode_tokens_per_s_total);
  std::printf("cost         USD %.4f per M output tokens, USD %.4f per M input tokens (utilisation %.2f)\n",
              plan.usd_per_million_output_tokens, plan.usd_per_million_input_tokens, a.utilisation);
  return 0;
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
  cmd.add_option("--utilisation", a.utilisation, "Fraction of paid hours producing tokens")->capture_default_str();
  add_common_flags(cmd, a.common);
}

// ---- plan video ----

struct VideoArgs {
  CommonArgs common;
  std::string model = "wan2.1-t2v-14b";
  std::string hardware = "h100-sxm";
  std::string resolution = "480p";
  double seconds = 5;
  int64_t frames = 0;
  VideoRequest request;
  bool no_cfg = false;
};

Expected<std::pair<int64_t, int64_t>> parse_resolution(const std::string& r) {
  if (r == "480p") return std::pair<int64_t, int64_t>{832, 480};
  if (r == "720p") return std::pair<int64_t, int64_t>{1280, 720};
  if (r == "1080p") return std::pair<int64_t, int64_t>{1920, 1080};
  if (r == "4k") return std::pair<int64_t, int64_t>{3840, 2160};
  const size_t x = r.find('x');
  if (x != std::string::npos) {
    try {
      return std::pair<int64_t, int64_t>{std::stoll(r.substr(0, x)), std::stoll(r.substr(x + 1))};
    } catch (...) {
    }
  }
  return invalid_argument("bad --resolution '" + r + "' (480p, 720p, 1080p, 4k or WxH)");
}

int run_video(VideoArgs a) {
  auto dit = find_dit_config(a.model);
  if (!dit) return report_error(not_found("unknown video model '" + a.model + "' (" + dit_config_names() + ")"));
  auto hw = resolve_hardware(a.common, a.hardware);
  if (!hw) return report_error(hw.error());
  auto res = parse_resolution(a.resolution);
  if (!res) return report_error(res.error());
  a.request.width = res->first;
  a.request.height = res->second;
  a.request.frames = a.frames > 0 ? a.frames : frames_for_seconds(a.seconds);
  a.request.cfg = !a.no_cfg;
  if (a.common.mfu > 0) a.request.dit_mfu = a.common.mfu;
  auto plan = plan_video(*dit, a.request, hw->accelerator, hw->usd_per_hour);
  if (!plan) return report_error(plan.error());
  if (a.common.json) {
    json out = video_plan_to_json(*plan);
    out["model"] = dit->name;
    out["hardware"] = hw->accelerator.name;
    out["gpus"] = a.request.gpus;
    out["width"] = a.request.width;
    out["height"] = a.request.height;
    out["frames"] = a.request.frames;
    out["steps"] = a.request.steps;
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("video        %s, %lldx%lld, %lld frames, %lld steps%s\n", dit->description.c_str(),
              static_cast<long long>(a.request.width), static_cast<long long>(a.request.height),
              static_cast<long long>(a.request.frames), static_cast<long long>(a.request.steps), a.request.cfg ? " x2 (CFG)" : "");
  std::printf("tokens       %lld (latent %lld x %lld x %lld)\n", static_cast<long long>(plan->tokens.tokens),
              static_cast<long long>(plan->tokens.latent_frames), static_cast<long long>(plan->tokens.latent_height),
              static_cast<long long>(plan->tokens.latent_width));
  std::printf("time         %.1f s per video on %d x %s (DiT %.1f s, text encoder %.2f s, VAE %.1f s); %.1f GPU-s\n",
              plan->seconds, a.request.gpus, hw->accelerator.name.c_str(), plan->dit_seconds,
              plan->text_encoder_seconds, plan->vae_seconds, plan->gpu_seconds);
  std::printf("memory       %s per GPU: %s\n", gb(plan->memory_bytes).c_str(), plan->fits ? "fits" : "DOES NOT FIT");
  std::printf("cost         USD %.4f per video at USD %.2f per GPU-hour\n", plan->usd_per_video, hw->usd_per_hour);
  return 0;
}

void add_video_flags(CLI::App& cmd, VideoArgs& a) {
  cmd.add_option("-m,--model", a.model, "Video DiT (" + dit_config_names() + ")")->capture_default_str();
  cmd.add_option("--hardware", a.hardware, "Catalogue name")->capture_default_str();
  cmd.add_option("--resolution", a.resolution, "480p, 720p, 1080p, 4k or WxH")->capture_default_str();
  cmd.add_option("--seconds", a.seconds, "Clip length at 16 fps")->capture_default_str();
  cmd.add_option("--frames", a.frames, "Frames (overrides --seconds)");
  cmd.add_option("--steps", a.request.steps, "Denoising steps")->capture_default_str();
  cmd.add_flag("--no-cfg", a.no_cfg, "No classifier-free guidance (one pass per step)");
  cmd.add_option("--step-cache-speedup", a.request.step_cache_speedup, "Step caching speed-up (TeaCache ~2)");
  cmd.add_option("--attention-density", a.request.attention_density, "Sparse attention: fraction kept");
  cmd.add_option("--gpus", a.request.gpus, "Sequence-parallel GPUs")->capture_default_str();
  cmd.add_option("--parallel-efficiency", a.request.parallel_efficiency, "Per extra GPU")->capture_default_str();
  add_common_flags(cmd, a.common);
}

// ---- plan breakeven ----

struct BreakEvenArgs {
  LlmArgs llm;
  VideoArgs video;
  std::string video_model;  // set: price per video instead of per M output tokens
  double api_usd_per_unit = 0;
  double volume = 0;        // monthly units to evaluate (0 = only the break-even point)
  bool own = false;
};

int run_breakeven(BreakEvenArgs a) {
  if (a.api_usd_per_unit <= 0) return report_error(invalid_argument("--api-usd-per-unit must be > 0"));
  const CommonArgs& common = a.video_model.empty() ? a.llm.common : a.video.common;
  const std::string hw_name = a.video_model.empty() ? a.llm.hardware : a.video.hardware;
  auto hw = resolve_hardware(common, hw_name);
  if (!hw) return report_error(hw.error());
  double units_per_s = 0;
  int count = 1;
  std::string unit;
  if (a.video_model.empty()) {
    auto d = build_deployment(a.llm, *hw);
    if (!d) return report_error(d.error());
    auto model = LlmRoofline::create(std::move(*d));
    if (!model) return report_error(model.error());
    const LlmPlan plan = plan_llm(*model, {a.llm.batch, a.llm.context, a.llm.prompt_tokens, hw->usd_per_hour, 1.0});
    if (!plan.fits) return report_error(invalid_argument("the configuration does not fit in memory"));
    units_per_s = plan.decode_tokens_per_s_total * a.llm.utilisation / 1e6;
    count = a.llm.count;
    unit = "million output tokens";
  } else {
    auto dit = find_dit_config(a.video_model);
    if (!dit) return report_error(not_found("unknown video model '" + a.video_model + "'"));
    auto res = parse_resolution(a.video.resolution);
    if (!res) return report_error(res.error());
    a.video.request.width = res->first;
    a.video.request.height = res->second;
    a.video.request.frames = a.video.frames > 0 ? a.video.frames : frames_for_seconds(a.video.seconds);
    auto plan = plan_video(*dit, a.video.request, hw->accelerator, hw->usd_per_hour);
    if (!plan) return report_error(plan.error());
    units_per_s = 1.0 / plan->seconds;
    count = a.video.request.gpus;
    unit = "videos";
  }
  BreakEvenInput in;
  in.api_usd_per_unit = a.api_usd_per_unit;
  in.deployment_usd_per_month = a.own ? monthly_own_usd(hw->accelerator, count, OwnershipCost{})
                                      : monthly_rent_usd(hw->usd_per_hour, count);
  in.capacity_units_per_month = units_per_s * kHoursPerMonth * 3600.0;
  const auto volume = break_even_volume(in);
  json out = {{"unit", unit},
              {"api_usd_per_unit", in.api_usd_per_unit},
              {"self_host_usd_per_month", in.deployment_usd_per_month},
              {"capacity_units_per_month", in.capacity_units_per_month},
              {"break_even_units_per_month", volume ? json(*volume) : json(nullptr)},
              {"never", !volume.has_value()}};
  if (a.volume > 0) {
    const BreakEvenAt at = break_even_at(in, a.volume);
    out["at_volume"] = {{"units", at.volume_units}, {"api_usd", at.api_usd}, {"deployments", at.deployments},
                        {"self_host_usd", at.self_host_usd}, {"self_host_wins", at.self_host_wins}};
  }
  if (common.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("self-hosting costs USD %.0f per month (%s) and produces up to %.4g %s per month\n",
              in.deployment_usd_per_month, a.own ? "owned: amortised + power" : "rented", in.capacity_units_per_month, unit.c_str());
  if (volume) {
    std::printf("self-hosting wins from %.4g %s per month (API at USD %.4g per unit)\n", *volume, unit.c_str(), in.api_usd_per_unit);
  } else {
    std::printf("self-hosting never wins: at USD %.4g per unit the API costs less than the hardware even at full use\n",
                in.api_usd_per_unit);
  }
  return 0;
}

// ---- plan recommend ----

struct RecommendArgs {
  CommonArgs common;
  std::string model = "llama-3-70b";
  std::vector<std::string> hardware;
  std::vector<int> counts = {1, 2, 4, 8};
  std::vector<std::string> weights = {"bf16", "fp8", "int8", "q8_0", "q4_k_m"};
  int64_t prompt_tokens = 1024;
  int64_t output_tokens = 256;
  double max_tpot_ms = 50;
  double max_ttft_ms = 2000;
  int top = 5;
};

int run_recommend(const RecommendArgs& a) {
  auto shape = resolve_llm_shape(a.model);
  if (!shape) return report_error(shape.error());
  auto catalogue = load_catalogue(a.common);
  if (!catalogue) return report_error(catalogue.error());
  RecommendQuery q;
  q.shape = std::move(*shape);
  for (const Accelerator& acc : catalogue->entries()) {
    if (a.hardware.empty() || std::find(a.hardware.begin(), a.hardware.end(), acc.name) != a.hardware.end()) {
      q.hardware.push_back(acc);
    }
  }
  if (q.hardware.empty()) return report_error(invalid_argument("no --hardware entry matched the catalogue"));
  for (const std::string& w : a.weights) {
    auto wt = find_weight_type(w);
    if (!wt) return report_error(invalid_argument("unknown weight type '" + w + "' (" + weight_type_names() + ")"));
    q.weights.push_back(*wt);
  }
  q.counts = a.counts;
  q.workload = {a.prompt_tokens, a.output_tokens};
  q.max_tpot_s = a.max_tpot_ms / 1e3;
  q.max_ttft_s = a.max_ttft_ms / 1e3;
  if (a.common.mbu > 0 || a.common.mfu > 0) {
    q.efficiency = Efficiency{a.common.mbu > 0 ? a.common.mbu : 0.7, a.common.mfu > 0 ? a.common.mfu : 0.4};
  }
  q.usd_per_hour_override = a.common.usd_per_hour;
  const Recommendation r = recommend(q);
  if (a.common.json) {
    json ranked = json::array();
    for (size_t i = 0; i < r.ranked.size() && static_cast<int>(i) < a.top; ++i) ranked.push_back(candidate_to_json(r.ranked[i]));
    json out = {{"evaluated", r.evaluated}, {"best", r.best ? candidate_to_json(*r.best) : json(nullptr)}, {"ranked", ranked}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("evaluated %lld configurations (TPOT <= %.0f ms, TTFT <= %.0f ms)\n", static_cast<long long>(r.evaluated),
              a.max_tpot_ms, a.max_ttft_ms);
  if (!r.best) {
    std::printf("no configuration meets the SLO\n");
    return 0;
  }
  std::printf("%-14s %5s %-8s %6s %9s %9s %12s %14s\n", "hardware", "count", "weights", "batch", "TPOT ms", "TTFT ms",
              "tok/s", "USD/M out tok");
  for (size_t i = 0; i < r.ranked.size() && static_cast<int>(i) < a.top; ++i) {
    const Candidate& c = r.ranked[i];
    std::printf("%-14s %5d %-8s %6lld %9.1f %9.1f %12.0f %14.4f\n", c.hardware.c_str(), c.count, c.weights.c_str(),
                static_cast<long long>(c.batch), c.tpot_s * 1e3, c.ttft_s * 1e3, c.output_tokens_per_s,
                c.usd_per_million_output_tokens);
  }
  return 0;
}

// ---- plan hardware ----

int run_hardware(const CommonArgs& c) {
  auto catalogue = load_catalogue(c);
  if (!catalogue) return report_error(catalogue.error());
  if (c.json) {
    json out = json::array();
    for (const Accelerator& a : catalogue->entries()) out.push_back(accelerator_to_json(a));
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("%-14s %-6s %9s %10s %11s %11s %7s %14s %10s\n", "name", "kind", "memory", "bandwidth", "BF16 dense",
              "FP8 dense", "TDP W", "USD/h low-high", "price USD");
  for (const Accelerator& a : catalogue->entries()) {
    std::printf("%-14s %-6s %6.0f GB %6.2f TB/s %6.0f TF/s %6.0f TF/s %7.0f %6.2f-%-7.2f %10.0f\n", a.name.c_str(),
                std::string(accelerator_kind_name(a.kind)).c_str(), a.memory_bytes / 1e9,
                a.memory_bandwidth_bytes_per_s / 1e12, a.bf16_dense_flops_per_s / 1e12, a.fp8_dense_flops_per_s / 1e12,
                a.tdp_watts, a.cloud_usd_per_hour_low, a.cloud_usd_per_hour_high, a.purchase_usd);
  }
  std::printf("(%s; sources: --json or data/hardware/catalogue.json)\n", default_catalogue_path().c_str());
  return 0;
}

template <typename Fn>
void on_run(CLI::App* cmd, Fn fn) {
  cmd->callback([fn] {
    const int code = fn();
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace

void register_plan(CLI::App& app) {
  CLI::App* plan = app.add_subcommand("plan", "Cost model: hardware, throughput, $/token, $/video, break-even");
  plan->require_subcommand(1);

  auto llm = std::make_shared<LlmArgs>();
  CLI::App* llm_cmd = plan->add_subcommand("llm", "Memory fit, prefill/decode speed and cost of an LLM deployment");
  add_llm_flags(*llm_cmd, *llm);
  llm_cmd->add_option("--html", llm->html, "Write a self-contained HTML report with charts");
  llm_cmd->add_option("--api-usd-per-million", llm->api_usd_per_million, "API price for the report's break-even chart")
      ->capture_default_str();
  on_run(llm_cmd, [llm] { return run_llm(*llm); });

  auto video = std::make_shared<VideoArgs>();
  CLI::App* video_cmd = plan->add_subcommand("video", "Time and cost per video of a Wan-style DiT");
  add_video_flags(*video_cmd, *video);
  on_run(video_cmd, [video] { return run_video(*video); });

  auto be = std::make_shared<BreakEvenArgs>();
  CLI::App* be_cmd = plan->add_subcommand("breakeven", "Monthly volume where self-hosting beats an API price");
  add_llm_flags(*be_cmd, be->llm);
  be_cmd->add_option("--video-model", be->video_model, "Price per video with this DiT (" + dit_config_names() + ")");
  be_cmd->add_option("--resolution", be->video.resolution, "Video resolution")->capture_default_str();
  be_cmd->add_option("--seconds", be->video.seconds, "Video length")->capture_default_str();
  be_cmd->add_option("--steps", be->video.request.steps, "Denoising steps")->capture_default_str();
  be_cmd->add_option("--gpus", be->video.request.gpus, "GPUs per video deployment")->capture_default_str();
  be_cmd->add_option("--api-usd-per-unit", be->api_usd_per_unit, "API price per million output tokens (or per video)")
      ->required();
  be_cmd->add_option("--volume", be->volume, "Monthly volume to evaluate");
  be_cmd->add_flag("--own", be->own, "Own the hardware (purchase / 36 months + power) instead of renting");
  on_run(be_cmd, [be] {
    be->video.hardware = be->llm.hardware;
    be->video.common = be->llm.common;
    return run_breakeven(*be);
  });

  auto rec = std::make_shared<RecommendArgs>();
  CLI::App* rec_cmd = plan->add_subcommand("recommend", "Cheapest accelerator x count x weights x batch meeting an SLO");
  rec_cmd->add_option("-m,--model", rec->model, "Named shape or FILE.gguf")->capture_default_str();
  rec_cmd->add_option("--hardware", rec->hardware, "Restrict to these catalogue names (repeatable)");
  rec_cmd->add_option("--counts", rec->counts, "Device counts to try")->delimiter(',')->capture_default_str();
  rec_cmd->add_option("--weights", rec->weights, "Weight types to try")->delimiter(',')->capture_default_str();
  rec_cmd->add_option("--prompt-tokens", rec->prompt_tokens, "Prompt length")->capture_default_str();
  rec_cmd->add_option("--output-tokens", rec->output_tokens, "Output length")->capture_default_str();
  rec_cmd->add_option("--max-tpot-ms", rec->max_tpot_ms, "Max time per output token (ms)")->capture_default_str();
  rec_cmd->add_option("--max-ttft-ms", rec->max_ttft_ms, "Max time to first token (ms)")->capture_default_str();
  rec_cmd->add_option("--top", rec->top, "Rows to print")->capture_default_str();
  add_common_flags(*rec_cmd, rec->common);
  on_run(rec_cmd, [rec] { return run_recommend(*rec); });

  auto hw = std::make_shared<CommonArgs>();
  CLI::App* hw_cmd = plan->add_subcommand("hardware", "List the hardware catalogue");
  add_common_flags(*hw_cmd, *hw);
  on_run(hw_cmd, [hw] { return run_hardware(*hw); });
}

}  // namespace frugal::cli

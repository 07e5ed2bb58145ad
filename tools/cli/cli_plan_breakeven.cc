// `frugal plan breakeven`: the monthly volume where self-hosting beats an API price (tools layer).
// The deployment's capacity comes from the batch the traffic implies (--requests-per-minute), an
// explicit --batch, or the largest batch within the TPOT target; --own prices owning the hardware
// with its host server, network, power and hosting.
#include <cmath>
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "cost/breakeven.h"
#include "cost/plan_inputs.h"
#include "plan_common.h"
#include "plan_format.h"

namespace frugal::cli {
namespace {

using nlohmann::json;

struct BreakEvenArgs {
  LlmArgs llm;
  VideoArgs video;
  std::string video_model;  // set: price per video instead of per M output tokens
  double api_usd_per_unit = 0;
  double volume = 0;        // monthly units to evaluate (0 = the traffic's volume, if any)
  bool own = false;
  OwnershipCost ownership;
  TrafficArgs traffic;
  int64_t output_tokens = 256;
  double max_tpot_ms = 50;
  bool batch_given = false;
};

// What one deployment produces, and how the batch was chosen.
struct Capacity {
  double units_per_month = 0;
  int64_t batch = 0;
  std::string batch_reason;
  std::optional<TrafficCandidate> traffic;  // set when a traffic was given
  double traffic_units_per_month = 0;
};

Expected<Capacity> llm_capacity(const BreakEvenArgs& a, const ResolvedHardware& hw) {
  auto d = build_deployment(a.llm, hw);
  if (!d) return d.error();
  auto model = LlmRoofline::create(std::move(*d));
  if (!model) return model.error();
  const double per_month_s = kHoursPerMonth * 3600.0;
  Capacity c;
  if (a.traffic.given()) {
    const Workload w{a.llm.prompt_tokens > 0 ? a.llm.prompt_tokens : 1024, a.output_tokens};
    auto t = traffic_from_args(a.traffic, w, a.max_tpot_ms / 1e3);
    if (!t) return t.error();
    const double capacity_rate = replica_capacity_rate(*model, *t);
    if (capacity_rate <= 0) {
      return invalid_argument("one deployment of " + std::to_string(a.llm.count) + " x " + hw.accelerator.name +
                              " cannot meet the latency targets at any rate (" +
                              replica_at_rate(*model, *t, 1e-9).reason + ")");
    }
    c.traffic = replicas_for_traffic(*model, *t, hw.usd_per_hour, 1 << 20);
    c.batch = c.traffic ? c.traffic->load.serving.batch : 0;
    c.batch_reason = "the steady batch at the traffic's share per deployment";
    c.units_per_month = capacity_rate * static_cast<double>(w.output_tokens) * per_month_s / 1e6;
    c.traffic_units_per_month = t->requests_per_s * static_cast<double>(w.output_tokens) * per_month_s / 1e6;
    return c;
  }
  if (a.batch_given) {
    c.batch = a.llm.batch;
    c.batch_reason = "--batch";
  } else {
    const int64_t output = std::min<int64_t>(a.output_tokens, a.llm.context - 1);
    const Workload w{std::max<int64_t>(1, a.llm.context - output), output};
    c.batch = a.max_tpot_ms > 0 ? max_batch_under_tpot(*model, w, a.max_tpot_ms / 1e3) : model->max_batch(a.llm.context);
    c.batch_reason = "the largest batch that fits at context " + std::to_string(a.llm.context) +
                     (a.max_tpot_ms > 0 ? " within TPOT " + fmt_duration(a.max_tpot_ms / 1e3) : std::string()) +
                     " (--batch or --requests-per-minute to choose)";
    if (c.batch <= 0) return invalid_argument("no batch fits at context " + std::to_string(a.llm.context) +
                                              (a.max_tpot_ms > 0 ? " within the TPOT target" : "") + " on this deployment");
  }
  const LlmPlan plan = plan_llm(*model, {c.batch, a.llm.context, a.llm.prompt_tokens, hw.usd_per_hour, 1.0});
  if (!plan.fits) return invalid_argument("the configuration does not fit in memory (max batch " +
                                          std::to_string(plan.max_batch) + " at context " + std::to_string(a.llm.context) + ")");
  c.units_per_month = plan.decode_tokens_per_s_total * a.llm.utilisation * per_month_s / 1e6;
  return c;
}

Expected<Capacity> video_capacity(BreakEvenArgs& a, const ResolvedHardware& hw) {
  auto dit = find_dit_config(a.video_model);
  if (!dit) return not_found("unknown video model '" + a.video_model + "' (" + dit_config_names() + ")");
  if (Status s = resolve_video_request(a.video); !s) return s;
  auto plan = plan_video(*dit, a.video.request, hw.accelerator, hw.usd_per_hour);
  if (!plan) return plan.error();
  if (!plan->fits) return invalid_argument("the video configuration does not fit in memory (" + fmt_gb(plan->memory_bytes) + " per GPU)");
  Capacity c;
  c.units_per_month = kHoursPerMonth * 3600.0 / plan->seconds;
  return c;
}

int run_breakeven(BreakEvenArgs a) {
  for (Status s : {check_positive("--api-usd-per-unit", a.api_usd_per_unit), check_non_negative("--volume", a.volume),
                   check_non_negative("--max-tpot-ms", a.max_tpot_ms), check_at_least("--output-tokens", a.output_tokens, 1),
                   check_positive("--amortisation-months", a.ownership.amortisation_months),
                   check_positive("--usd-per-kwh", a.ownership.usd_per_kwh), check_positive("--pue", a.ownership.pue),
                   check_non_negative("--colocation-usd-per-kw-month", a.ownership.colocation_usd_per_kw_month)}) {
    if (!s) return report_error(s);
  }
  if (a.ownership.pue < 1) return report_error(invalid_argument("--pue must be >= 1"));
  const bool video = !a.video_model.empty();
  if (video && a.traffic.given()) return report_error(invalid_argument("--requests-per-minute applies to LLMs, not --video-model"));
  const CommonArgs& common = video ? a.video.common : a.llm.common;
  auto hw = resolve_hardware(common, video ? a.video.hardware : a.llm.hardware);
  if (!hw) return report_error(hw.error());
  auto capacity = video ? video_capacity(a, *hw) : llm_capacity(a, *hw);
  if (!capacity) return report_error(capacity.error());
  const int count = video ? a.video.request.gpus : a.llm.count;
  const std::string unit = video ? "videos" : "million output tokens";
  BreakEvenInput in;
  in.api_usd_per_unit = a.api_usd_per_unit;
  std::optional<MonthlyOwnCost> own;
  if (a.own) {
    auto o = monthly_own_usd(hw->accelerator, count, a.ownership);
    if (!o) return report_error(o.error());
    own = *o;
    in.deployment_usd_per_month = o->total_usd();
  } else {
    if (hw->usd_per_hour <= 0) return report_error(invalid_argument(hw->accelerator.name + " has no rental price: pass --usd-per-hour or --own"));
    in.deployment_usd_per_month = monthly_rent_usd(hw->usd_per_hour, count);
  }
  in.capacity_units_per_month = capacity->units_per_month;
  const auto volume = break_even_volume(in);
  const double at_volume = a.volume > 0 ? a.volume : capacity->traffic_units_per_month;
  json out = {{"unit", unit},
              {"api_usd_per_unit", in.api_usd_per_unit},
              {"self_host_usd_per_month", in.deployment_usd_per_month},
              {"capacity_units_per_month", in.capacity_units_per_month},
              {"break_even_units_per_month", volume ? json(*volume) : json(nullptr)},
              {"never", !volume.has_value()}};
  if (!video) out["batch"] = capacity->batch;
  if (own) {
    out["own"] = {{"capital_usd_per_month", own->capital_usd}, {"electricity_usd_per_month", own->electricity_usd},
                  {"hosting_usd_per_month", own->hosting_usd}, {"host_source", hw->accelerator.source_host}};
  }
  BreakEvenAt at;
  if (at_volume > 0) {
    at = break_even_at(in, at_volume);
    out["at_volume"] = {{"units", at.volume_units}, {"api_usd", at.api_usd}, {"deployments", at.deployments},
                        {"self_host_usd", at.self_host_usd}, {"self_host_wins", at.self_host_wins}};
  }
  if (common.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("deployment   %d x %s, %s per month (%s)\n", count, hw->accelerator.name.c_str(),
              fmt_usd(in.deployment_usd_per_month).c_str(), a.own ? "owned" : "rented");
  if (own) {
    std::printf("             owned = %s capital (device, host server and network over %s months) + %s electricity + "
                "%s hosting\n", fmt_usd(own->capital_usd).c_str(), std::to_string(static_cast<int>(std::lround(a.ownership.amortisation_months))).c_str(),
                fmt_usd(own->electricity_usd).c_str(), fmt_usd(own->hosting_usd).c_str());
  }
  if (!video) std::printf("batch        %lld: %s\n", static_cast<long long>(capacity->batch), capacity->batch_reason.c_str());
  std::printf("capacity     up to %s %s per month per deployment\n", fmt_count(in.capacity_units_per_month).c_str(), unit.c_str());
  if (volume) {
    std::printf("break-even   self-hosting wins from %s %s per month (API at %s per %s)\n", fmt_count(*volume).c_str(),
                unit.c_str(), fmt_usd(in.api_usd_per_unit).c_str(), video ? "video" : "million output tokens");
  } else {
    std::printf("break-even   never: at %s per unit the API costs less than the hardware even at full use\n",
                fmt_usd(in.api_usd_per_unit).c_str());
  }
  if (at_volume > 0) {
    std::printf("at %s %s per month: API %s, self-hosted %s on %lld deployment(s): %s\n", fmt_count(at_volume).c_str(),
                unit.c_str(), fmt_usd(at.api_usd).c_str(), fmt_usd(at.self_host_usd).c_str(),
                static_cast<long long>(at.deployments), at.self_host_wins ? "self-hosting wins" : "the API wins");
  }
  return 0;
}

}  // namespace

void register_plan_breakeven(CLI::App& plan) {
  auto be = std::make_shared<BreakEvenArgs>();
  CLI::App* cmd = plan.add_subcommand("breakeven", "Monthly volume where self-hosting beats an API price");
  add_llm_flags(*cmd, be->llm);
  add_traffic_flags(*cmd, be->traffic);
  cmd->add_option("--output-tokens", be->output_tokens, "Output tokens per request")->capture_default_str();
  cmd->add_option("--max-tpot-ms", be->max_tpot_ms, "Time-per-output-token target (ms; 0 = none)")->capture_default_str();
  cmd->add_option("--video-model", be->video_model, "Price per video with this DiT (" + dit_config_names() + ")");
  cmd->add_option("--resolution", be->video.resolution, "Video resolution")->capture_default_str();
  cmd->add_option("--seconds", be->video.seconds, "Video length")->capture_default_str();
  cmd->add_option("--steps", be->video.request.steps, "Denoising steps")->capture_default_str();
  cmd->add_option("--gpus", be->video.request.gpus, "GPUs per video deployment")->capture_default_str();
  cmd->add_option("--api-usd-per-unit", be->api_usd_per_unit, "API price per million output tokens (or per video)")
      ->required();
  cmd->add_option("--volume", be->volume, "Monthly volume to evaluate (default: the traffic's)");
  cmd->add_flag("--own", be->own, "Own the hardware (device + host server + network, power, hosting) instead of renting");
  cmd->add_option("--amortisation-months", be->ownership.amortisation_months, "--own: months to write the hardware off")
      ->capture_default_str();
  cmd->add_option("--usd-per-kwh", be->ownership.usd_per_kwh, "--own: electricity price")->capture_default_str();
  cmd->add_option("--pue", be->ownership.pue, "--own: data-centre power usage effectiveness")->capture_default_str();
  cmd->add_option("--colocation-usd-per-kw-month", be->ownership.colocation_usd_per_kw_month,
                  "--own: hosting price per kW of IT load")->capture_default_str();
  CLI::Option* batch = cmd->get_option("--batch");
  on_run(cmd, [be, batch] {
    be->batch_given = batch->count() > 0;
    be->video.hardware = be->llm.hardware;
    be->video.common = be->llm.common;
    return run_breakeven(*be);
  });
}

}  // namespace frugal::cli

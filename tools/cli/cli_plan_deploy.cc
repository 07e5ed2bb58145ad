// `frugal plan deploy` (tools layer): the cost of deployment architectures — centralized, edge,
// hybrid, serverless, spot, committed use — at an operator's traffic (cost/deploy_plan.h), from a
// workload file (--workload FILE; examples in data/workloads/) or from flags for one region and
// one request size; video workloads ("kind": "video") are priced per video. A table by default,
// --json for one object naming the `winner`.
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "cost/deploy_plan.h"
#include "cost/deploy_report.h"
#include "plan_common.h"
#include "plan_format.h"

namespace frugal::cli {
namespace {

using nlohmann::json;

struct DeployArgs {
  std::string workload_file;
  std::vector<std::string> catalogue_files;
  bool json = false;
  std::string html;
  // The simple case (no --workload); --requests-per-hour also overrides the file's rate.
  std::optional<double> requests_per_hour;
  std::optional<std::string> model, weights, hardware, region;
  std::optional<int> devices_per_replica;
  std::optional<int64_t> prompt_tokens, output_tokens;
  std::optional<double> ttft_p99_ms, max_tpot_ms, burstiness;
};

Expected<DeployWorkload> workload_from(const DeployArgs& a) {
  if (!a.workload_file.empty()) {
    if (a.model || a.weights || a.hardware || a.region || a.devices_per_replica || a.prompt_tokens || a.output_tokens ||
        a.ttft_p99_ms || a.max_tpot_ms || a.burstiness) {
      return invalid_argument("--workload gives the model, hardware, regions and mix: of the traffic flags only "
                              "--requests-per-hour may be added to it");
    }
    auto w = load_deploy_workload(a.workload_file);
    if (!w || !a.requests_per_hour) return w;
    w->origin = "--requests-per-hour";
    w->requests_per_hour = *a.requests_per_hour;
    if (Status s = validate_deploy_workload(*w); !s) return s;
    w->origin = a.workload_file;
    return w;
  }
  if (!a.requests_per_hour) return invalid_argument("give --workload FILE or --requests-per-hour N");
  DeployWorkload w;
  w.origin = "flags";
  w.name = "flags";
  w.requests_per_hour = *a.requests_per_hour;
  w.profile = flat_profile();
  if (a.model) w.model = *a.model;
  if (a.weights) w.weights = *a.weights;
  if (a.hardware) w.hardware = *a.hardware;
  if (a.devices_per_replica) w.devices_per_replica = *a.devices_per_replica;
  if (a.burstiness) w.burstiness = *a.burstiness;
  if (a.max_tpot_ms) w.max_tpot_s = *a.max_tpot_ms / 1e3;
  const std::string region = a.region.value_or("us-east");
  w.regions = {{region, 1.0, a.ttft_p99_ms.value_or(2000) / 1e3, region_utc_offset_hours(region)}};
  RequestClass c;
  if (a.prompt_tokens) c.prompt_tokens = *a.prompt_tokens;
  if (a.output_tokens) c.output_tokens = *a.output_tokens;
  w.mix = {c};
  // Flag names in messages: the validator names fields; map the ones a flag sets.
  if (Status s = validate_deploy_workload(w); !s) return s;
  return w;
}

json plan_json(const ArchitecturePlan& p, const DeployWorkload& w) {
  json j = {{"name", p.name}, {"feasible", p.feasible}};
  if (!p.feasible) {
    j["reason"] = p.reason;
    return j;
  }
  j.update({{"monthly_usd", p.monthly_usd},
            {w.video ? "usd_per_video" : "usd_per_million_output_tokens", p.usd_per_unit},
            {"utilisation", p.utilisation},
            {"p99_ttft_s", p.p99_ttft_s},
            {"latency_budget_s", p.latency_budget_s},
            {"worst_region", p.worst_region},
            {"meets_budget", p.meets_budget},
            {"peak_replicas", p.peak_replicas},
            {"peak_devices", p.peak_devices},
            {"replica_hours_per_day", p.replica_hours_per_day},
            {"assumptions", p.assumptions}});
  return j;
}

int run_deploy(const DeployArgs& a) {
  auto w = workload_from(a);
  if (!w) return report_error(w.error());
  CommonArgs common;
  common.catalogue_files = a.catalogue_files;
  auto catalogue = load_catalogue(common);
  if (!catalogue) return report_error(catalogue.error());
  auto plan = plan_deploy(*w, *catalogue);
  if (!plan) return report_error(plan.error());
  if (!a.html.empty()) {
    auto sweep = sweep_deploy(*w, *catalogue, 0.01, 10.0, 25);
    if (!sweep) return report_error(sweep.error());
    if (Status s = write_output_file(a.html, render_html_report(deploy_report(*w, *plan, *sweep)), "the HTML report"); !s) {
      return report_error(s);
    }
  }
  const ServiceModel& m = plan->central;
  const std::vector<double> rates = pooled_rates(*w);
  double peak = 0;
  for (double r : rates) peak = std::max(peak, r);
  const double mean_rate = w->requests_per_hour / 3600.0;
  if (a.json) {
    json archs = json::array();
    for (const ArchitecturePlan& p : plan->architectures) archs.push_back(plan_json(p, *w));
    json regions = json::array();
    for (const DeployRegion& r : w->regions) {
      regions.push_back({{"name", r.name}, {"share", r.share}, {"latency_budget_s", r.latency_budget_s}, {"utc_offset_hours", r.utc_offset_hours}});
    }
    json out = {{"workload", w->name},
                {"requests_per_hour", w->requests_per_hour},
                {"peak_requests_per_hour", peak * 3600.0},
                {"requests_per_month", plan->requests_per_month},
                {"kind", w->video ? "video" : "llm"},
                {w->video ? "videos_per_month" : "million_output_tokens_per_month", plan->units_per_month},
                {"central_region", w->central_region},
                {"regions", regions},
                {"replica", {{"model", w->video ? json(nullptr) : json(w->model)}, {"weights", w->video ? json(nullptr) : json(w->weights)},
                             {"hardware", w->hardware},
                             {"devices", m.devices_per_replica}, {"slots", m.slots_per_replica},
                             {"decode_step_s", m.decode_step_s}, {"mean_service_s", m.mean_service_s},
                             {"first_token_s", m.first_token_s}, {"usd_per_hour", m.usd_per_hour_per_replica}}},
                {"architectures", archs},
                {"winner", plan->winner >= 0 ? json(plan->architectures[plan->winner].name) : json(nullptr)},
                {"reason", plan->reason}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("workload     %s: %s %s/hour on average (peak hour %s, x%.2f), %zu region(s), central site %s\n",
              w->name.c_str(), fmt_count(w->requests_per_hour).c_str(), w->video ? "videos" : "requests", fmt_count(peak * 3600).c_str(), peak / mean_rate,
              w->regions.size(), w->central_region.c_str());
  if (w->video) {
    std::printf("replica      %d x %s: one video at a time, %s per video on average (longest %s), %s/h\n", m.devices_per_replica,
                w->hardware.c_str(), fmt_duration(m.mean_service_s).c_str(), fmt_duration(m.first_token_s).c_str(),
                fmt_usd(m.usd_per_hour_per_replica).c_str());
  } else {
    std::printf("replica      %d x %s, %s %s: %lld requests at once, step %s, %s per request, first token %s, %s/h\n",
                m.devices_per_replica, w->hardware.c_str(), w->model.c_str(), w->weights.c_str(),
                static_cast<long long>(m.slots_per_replica), fmt_duration(m.decode_step_s).c_str(),
                fmt_duration(m.mean_service_s).c_str(), fmt_duration(m.first_token_s).c_str(), fmt_usd(m.usd_per_hour_per_replica).c_str());
  }
  std::printf("\n%s %s %s %s %s %s %s %s\n", pad("architecture", 22, true).c_str(), pad("USD/month", 12, false).c_str(),
              pad(w->video ? "USD/video" : "USD/M out", 10, false).c_str(), pad("util", 6, false).c_str(),
              pad(w->video ? "p99 done" : "p99 TTFT", 9, false).c_str(),
              pad("budget", 8, false).c_str(), pad("meets", 5, true).c_str(), pad("peak devices", 12, false).c_str());
  for (const ArchitecturePlan& p : plan->architectures) {
    if (!p.feasible) {
      std::printf("%s —  (%s)\n", pad(p.name, 22, true).c_str(), p.reason.c_str());
      continue;
    }
    std::printf("%s %s %s %s %s %s %s %s\n", pad(p.name, 22, true).c_str(), pad(fmt_count(p.monthly_usd), 12, false).c_str(),
                pad(fmt_count(p.usd_per_unit), 10, false).c_str(), pad(fmt_percent(p.utilisation), 6, false).c_str(),
                pad(fmt_duration(p.p99_ttft_s), 9, false).c_str(), pad(fmt_duration(p.latency_budget_s), 8, false).c_str(),
                pad(p.meets_budget ? "yes" : "NO", 5, true).c_str(), pad(std::to_string(p.peak_devices), 12, false).c_str());
  }
  std::printf("\nwinner       %s\n", plan->winner >= 0 ? plan->reason.c_str() : ("none: " + plan->reason).c_str());
  std::printf("\nassumptions\n");
  for (const ArchitecturePlan& p : plan->architectures) {
    for (const std::string& s : p.assumptions) std::printf("  %s: %s\n", p.name.c_str(), s.c_str());
  }
  std::printf("  (prices: catalogue midpoints; rates and discounts: docs/COST-MODEL.md, 'Deployment architectures')\n");
  return 0;
}

}  // namespace

void register_plan_deploy(CLI::App& plan) {
  auto a = std::make_shared<DeployArgs>();
  CLI::App* cmd = plan.add_subcommand("deploy", "Cost of deployment architectures (centralized, edge, hybrid, serverless, spot, "
                                                "committed use) at a traffic");
  cmd->add_option("--workload", a->workload_file, "Workload JSON (see data/workloads/)");
  cmd->add_option("--requests-per-hour", a->requests_per_hour, "Daily mean request rate (overrides the file's)");
  cmd->add_option("-m,--model", a->model, "Named shape or FILE.gguf (default llama-3-8b)");
  cmd->add_option("--weights", a->weights, "Weight type (default fp8)");
  cmd->add_option("--hardware", a->hardware, "Catalogue name (default h100-sxm)");
  cmd->add_option("--devices-per-replica", a->devices_per_replica, "Tensor-parallel devices per replica (default 1)");
  cmd->add_option("--region", a->region, "The users' region (default us-east)");
  cmd->add_option("--prompt-tokens", a->prompt_tokens, "Prompt length (default 512)");
  cmd->add_option("--output-tokens", a->output_tokens, "Output length (default 256)");
  cmd->add_option("--ttft-p99-ms", a->ttft_p99_ms, "p99 time-to-first-token budget, network included (default 2000)");
  cmd->add_option("--max-tpot-ms", a->max_tpot_ms, "Time per output token target (default 50)");
  cmd->add_option("--burstiness", a->burstiness, "Squared coefficient of variation of arrival gaps (Poisson 1)");
  cmd->add_option("--catalogue", a->catalogue_files, "Extra hardware catalogue JSON (merged; repeatable)");
  cmd->add_flag("--json", a->json, "Print one JSON object");
  cmd->add_option("--html", a->html, "Write an HTML report: cost vs traffic per architecture, the crossovers");
  on_run(cmd, [a] { return run_deploy(*a); });
}

}  // namespace frugal::cli

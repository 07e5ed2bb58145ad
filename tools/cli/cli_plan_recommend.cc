// `frugal plan recommend` (tools layer): with a traffic (--requests-per-minute or
// --output-tokens-per-s), the cheapest accelerator x devices x weights x replicas that meets it
// and its latency targets (traffic.h); without one, the cheapest configuration per token at
// saturation that meets TPOT/TTFT (recommend.h). Only weight formats an accelerator's catalogue
// entry lists are tried.
#include <algorithm>
#include <cstdio>
#include <memory>

#include "cli_common.h"
#include "cost/plan_inputs.h"
#include "cost/plan_json.h"
#include "cost/recommend.h"
#include "plan_common.h"
#include "plan_format.h"

namespace frugal::cli {
namespace {

using nlohmann::json;

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
  TrafficArgs traffic;
};

struct Inputs {
  LlmShape shape;
  std::vector<Accelerator> hardware;
  std::vector<WeightType> weights;
  std::optional<Efficiency> efficiency;
};

Expected<Inputs> resolve_inputs(const RecommendArgs& a) {
  for (Status s : {check_common(a.common), check_at_least("--prompt-tokens", a.prompt_tokens, 1),
                   check_at_least("--output-tokens", a.output_tokens, 1), check_non_negative("--max-tpot-ms", a.max_tpot_ms),
                   check_non_negative("--max-ttft-ms", a.max_ttft_ms), check_at_least("--top", a.top, 1)}) {
    if (!s) return s;
  }
  for (int c : a.counts) {
    if (Status s = check_at_least("--counts", c, 1); !s) return s;
  }
  Inputs in;
  auto shape = resolve_llm_shape(a.model);
  if (!shape) return shape.error();
  in.shape = std::move(*shape);
  auto catalogue = load_catalogue(a.common);
  if (!catalogue) return catalogue.error();
  for (const std::string& name : a.hardware) {
    if (!catalogue->find(name)) return catalogue->get(name).error();
  }
  for (const Accelerator& acc : catalogue->entries()) {
    if (a.hardware.empty() || std::find(a.hardware.begin(), a.hardware.end(), acc.name) != a.hardware.end()) {
      in.hardware.push_back(acc);
    }
  }
  for (const std::string& w : a.weights) {
    auto wt = find_weight_type(w);
    if (!wt) return invalid_argument("unknown weight type '" + w + "' (" + weight_type_names() + ")");
    in.weights.push_back(*wt);
  }
  if (a.common.mbu || a.common.mfu) in.efficiency = Efficiency{a.common.mbu.value_or(0.7), a.common.mfu.value_or(0.4)};
  return in;
}

json traffic_candidate_json(const TrafficCandidate& c) {
  return {{"hardware", c.hardware},
          {"devices_per_replica", c.devices_per_replica},
          {"weights", c.weights},
          {"replicas", c.replicas},
          {"batch_per_replica", c.load.serving.batch},
          {"ttft_p95_s", c.load.ttft_p95_s},
          {"ttft_mean_s", c.load.ttft_mean_s},
          {"tpot_s", c.load.serving.tpot_s},
          {"usd_per_hour", c.usd_per_hour},
          {"usd_per_request", c.usd_per_request},
          {"usd_per_million_output_tokens", c.usd_per_million_output_tokens},
          {"capacity_requests_per_s", c.capacity_requests_per_s},
          {"utilisation", c.utilisation},
          {"headroom", c.headroom}};
}

int run_traffic(const RecommendArgs& a, Inputs in) {
  const double max_tpot_s = a.max_tpot_ms / 1e3;
  auto traffic = traffic_from_args(a.traffic, {a.prompt_tokens, a.output_tokens}, max_tpot_s);
  if (!traffic) return report_error(traffic.error());
  // --ttft-p95 names the target; without it, --max-ttft-ms serves as the p95 target.
  if (traffic->ttft_p95_s <= 0) traffic->ttft_p95_s = a.max_ttft_ms / 1e3;
  TrafficQuery q;
  q.shape = std::move(in.shape);
  q.hardware = std::move(in.hardware);
  q.weights = std::move(in.weights);
  q.counts = a.counts;
  q.traffic = *traffic;
  q.efficiency = in.efficiency;
  q.usd_per_hour_override = a.common.usd_per_hour.value_or(0);
  const TrafficPlan plan = plan_for_traffic(q);
  const Traffic& t = q.traffic;
  if (a.common.json) {
    json ranked = json::array();
    for (size_t i = 0; i < plan.ranked.size() && static_cast<int>(i) < a.top; ++i) ranked.push_back(traffic_candidate_json(plan.ranked[i]));
    json out = {{"requests_per_s", t.requests_per_s},     {"prompt_tokens", t.workload.prompt_tokens},
                {"output_tokens", t.workload.output_tokens}, {"ttft_p95_target_s", t.ttft_p95_s},
                {"tpot_target_s", t.max_tpot_s},           {"evaluated", plan.evaluated},
                {"unsupported", plan.unsupported},         {"best", plan.best ? traffic_candidate_json(*plan.best) : json(nullptr)},
                {"ranked", ranked}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("traffic      %s requests/min (%s req/s), %lld prompt + %lld output tokens each; p95 TTFT <= %s, "
              "TPOT <= %s\n", fmt_count(t.requests_per_s * 60).c_str(), fmt_count(t.requests_per_s).c_str(),
              static_cast<long long>(t.workload.prompt_tokens), static_cast<long long>(t.workload.output_tokens),
              fmt_duration(t.ttft_p95_s).c_str(), t.max_tpot_s > 0 ? fmt_duration(t.max_tpot_s).c_str() : "any");
  std::printf("searched     %lld deployments (%s; %lld hardware x weights pairs skipped: no kernels for that format)\n",
              static_cast<long long>(plan.evaluated), q.shape.description.c_str(), static_cast<long long>(plan.unsupported));
  if (!plan.best) {
    std::printf("no configuration meets this traffic and these targets\n");
    return 0;
  }
  const TrafficCandidate& b = *plan.best;
  std::printf("cheapest     %d replica(s) x %d x %s, %s weights, batch %lld per replica\n", b.replicas,
              b.devices_per_replica, b.hardware.c_str(), b.weights.c_str(), static_cast<long long>(b.load.serving.batch));
  std::printf("cost         %s/h, %s per request, %s per M output tokens\n", fmt_usd(b.usd_per_hour).c_str(),
              fmt_usd(b.usd_per_request).c_str(), fmt_usd(b.usd_per_million_output_tokens).c_str());
  std::printf("latency      p95 TTFT %s (mean %s), TPOT %s\n", fmt_duration(b.load.ttft_p95_s).c_str(),
              fmt_duration(b.load.ttft_mean_s).c_str(), fmt_duration(b.load.serving.tpot_s).c_str());
  std::printf("load         utilisation %s of the replicas' saturated throughput; headroom %s (meets the targets up to "
              "%s requests/min)\n", fmt_percent(b.utilisation).c_str(), fmt_percent(b.headroom).c_str(),
              fmt_count(b.capacity_requests_per_s * 60).c_str());
  std::printf("\n%s %s %s %s %s %s %s %s %s %s\n", pad("hardware", 14, true).c_str(), pad("devices", 7, false).c_str(),
              pad("weights", 8, true).c_str(), pad("replicas", 8, false).c_str(), pad("batch", 6, false).c_str(),
              pad("p95 TTFT", 9, false).c_str(), pad("TPOT", 8, false).c_str(), pad("USD/h", 10, false).c_str(),
              pad("USD/request", 12, false).c_str(), pad("headroom", 9, false).c_str());
  for (size_t i = 0; i < plan.ranked.size() && static_cast<int>(i) < a.top; ++i) {
    const TrafficCandidate& c = plan.ranked[i];
    std::printf("%s %s %s %s %s %s %s %s %s %s\n", pad(c.hardware, 14, true).c_str(),
                pad(std::to_string(c.devices_per_replica), 7, false).c_str(), pad(c.weights, 8, true).c_str(),
                pad(std::to_string(c.replicas), 8, false).c_str(),
                pad(std::to_string(c.load.serving.batch), 6, false).c_str(),
                pad(fmt_duration(c.load.ttft_p95_s), 9, false).c_str(), pad(fmt_duration(c.load.serving.tpot_s), 8, false).c_str(),
                pad(fmt_count(c.usd_per_hour), 10, false).c_str(), pad(fmt_count(c.usd_per_request), 12, false).c_str(),
                pad(fmt_percent(c.headroom), 9, false).c_str());
  }
  return 0;
}

int run_saturation(const RecommendArgs& a, Inputs in) {
  RecommendQuery q;
  q.shape = std::move(in.shape);
  q.hardware = std::move(in.hardware);
  q.weights = std::move(in.weights);
  q.counts = a.counts;
  q.workload = {a.prompt_tokens, a.output_tokens};
  q.max_tpot_s = a.max_tpot_ms / 1e3;
  q.max_ttft_s = a.max_ttft_ms / 1e3;
  q.efficiency = in.efficiency;
  q.usd_per_hour_override = a.common.usd_per_hour.value_or(0);
  const Recommendation r = recommend(q);
  if (a.common.json) {
    json ranked = json::array();
    for (size_t i = 0; i < r.ranked.size() && static_cast<int>(i) < a.top; ++i) ranked.push_back(candidate_to_json(r.ranked[i]));
    json out = {{"evaluated", r.evaluated}, {"unsupported", r.unsupported},
                {"best", r.best ? candidate_to_json(*r.best) : json(nullptr)}, {"ranked", ranked}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("evaluated %lld configurations at saturation (TPOT <= %s, TTFT <= %s); for a request rate, pass "
              "--requests-per-minute\n", static_cast<long long>(r.evaluated), fmt_duration(q.max_tpot_s).c_str(),
              fmt_duration(q.max_ttft_s).c_str());
  if (!r.best) {
    std::printf("no configuration meets the SLO\n");
    return 0;
  }
  std::printf("%s %s %s %s %s %s %s %s %s\n", pad("hardware", 14, true).c_str(), pad("count", 5, false).c_str(),
              pad("weights", 8, true).c_str(), pad("batch", 6, false).c_str(), pad("TPOT", 9, false).c_str(),
              pad("TTFT", 9, false).c_str(), pad("tok/s", 10, false).c_str(), pad("USD/h", 8, false).c_str(),
              pad("USD/M out tok", 14, false).c_str());
  for (size_t i = 0; i < r.ranked.size() && static_cast<int>(i) < a.top; ++i) {
    const Candidate& c = r.ranked[i];
    std::printf("%s %s %s %s %s %s %s %s %s\n", pad(c.hardware, 14, true).c_str(), pad(std::to_string(c.count), 5, false).c_str(),
                pad(c.weights, 8, true).c_str(), pad(std::to_string(c.batch), 6, false).c_str(),
                pad(fmt_duration(c.tpot_s), 9, false).c_str(), pad(fmt_duration(c.ttft_s), 9, false).c_str(),
                pad(fmt_count(c.output_tokens_per_s), 10, false).c_str(), pad(fmt_count(c.usd_per_hour), 8, false).c_str(),
                pad(fmt_count(c.usd_per_million_output_tokens), 14, false).c_str());
  }
  return 0;
}

int run_recommend(const RecommendArgs& a) {
  auto in = resolve_inputs(a);
  if (!in) return report_error(in.error());
  if (a.traffic.given()) return run_traffic(a, std::move(*in));
  if (!a.traffic.ttft_p95.empty()) {
    return report_error(invalid_argument("--ttft-p95 needs a traffic: --requests-per-minute or --output-tokens-per-s"));
  }
  return run_saturation(a, std::move(*in));
}

}  // namespace

void register_plan_recommend(CLI::App& plan) {
  auto rec = std::make_shared<RecommendArgs>();
  CLI::App* cmd = plan.add_subcommand("recommend", "Cheapest configuration for a traffic (or per token) that meets latency targets");
  cmd->add_option("-m,--model", rec->model, "Named shape or FILE.gguf")->capture_default_str();
  cmd->add_option("--hardware", rec->hardware, "Restrict to these catalogue names (repeatable)");
  cmd->add_option("--counts", rec->counts, "Devices per replica to try")->delimiter(',')->capture_default_str();
  cmd->add_option("--weights", rec->weights, "Weight types to try (each only where the catalogue lists it)")
      ->delimiter(',')->capture_default_str();
  cmd->add_option("--prompt-tokens", rec->prompt_tokens, "Prompt length")->capture_default_str();
  cmd->add_option("--output-tokens", rec->output_tokens, "Output length")->capture_default_str();
  cmd->add_option("--max-tpot-ms", rec->max_tpot_ms, "Max mean time per output token (ms; 0 = none)")->capture_default_str();
  cmd->add_option("--max-ttft-ms", rec->max_ttft_ms, "Max time to first token (ms); with a traffic, the p95 target "
                  "unless --ttft-p95 is given")->capture_default_str();
  cmd->add_option("--top", rec->top, "Rows to print")->capture_default_str();
  add_traffic_flags(*cmd, rec->traffic);
  add_common_flags(*cmd, rec->common);
  on_run(cmd, [rec] { return run_recommend(*rec); });
}

}  // namespace frugal::cli

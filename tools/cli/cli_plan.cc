// `frugal plan`: the cost model from the command line (tools layer). Subcommands: llm and hardware
// here; video (cli_plan_video.cc), breakeven (cli_plan_breakeven.cc), recommend
// (cli_plan_recommend.cc), deploy (cli_plan_deploy.cc). Tables by default, --json for one JSON object, --html FILE for a
// self-contained report with inline SVG charts.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli_common.h"
#include "cost/breakeven.h"
#include "cost/kv_budget.h"
#include "cost/plan_json.h"
#include "cost/report_html.h"
#include "plan_common.h"
#include "plan_format.h"

namespace frugal::cli {
namespace {

using nlohmann::json;

// ---- plan llm ----

HtmlReport llm_report(const LlmArgs& a, const LlmRoofline& model, const LlmPlan& plan, const ResolvedHardware& hw) {
  HtmlReport r;
  r.title = "frugal plan: " + model.deployment().shape.description + " on " + std::to_string(a.count) + " x " +
            hw.accelerator.description;
  r.summary = {{"weights", model.deployment().weights.name},
               {"batch / context", std::to_string(a.batch) + " / " + std::to_string(a.context)},
               {"fits", plan.fits ? "yes" : "NO"},
               {"memory per device", fmt_gb(plan.memory.total_bytes()) + " of " + fmt_gb(plan.capacity_bytes)},
               {"decode tok/s (per sequence / total)", fmt_count(plan.decode_tokens_per_s) + " / " + fmt_count(plan.decode_tokens_per_s_total)},
               {"USD per million output tokens",
                plan.priced ? fmt_usd(plan.usd_per_million_output_tokens) : plan.fits ? "— (no price)" : "— (does not fit)"}};
  LineChart by_batch{"chart-cost-vs-batch", "Cost per million output tokens vs batch size", "batch size",
                     "USD / M output tokens", true, true, {}};
  ChartSeries cost{"USD per M output tokens", {}};
  for (int64_t b = 1; b <= plan.max_batch && plan.usd_per_hour > 0; b *= 2) {  // only batches that fit
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
      if (b <= 0 || acc.cloud_usd_per_hour_mid() <= 0 || !acc.can_run(d.weights.name)) continue;
      const double tps = static_cast<double>(b) / m->decode_step(b, a.context).total_s();
      per_hw.bars.push_back({acc.name, usd_per_million_tokens(acc.cloud_usd_per_hour_mid() * a.count, tps, a.utilisation)});
    }
  }
  r.charts_svg.push_back(render_bar_chart_svg(per_hw));

  BreakEvenInput in{a.api_usd_per_million, monthly_rent_usd(plan.usd_per_hour / a.count, a.count),
                    plan.decode_tokens_per_s_total * kHoursPerMonth * 3600.0 / 1e6};
  LineChart be{"chart-breakeven", "Monthly cost: self-hosting vs API at USD " + fmt_count(a.api_usd_per_million) + " / M tokens",
               "million output tokens per month", "USD per month", true, true, {}};
  ChartSeries api{"API", {}}, self{"self-hosted (rented)", {}};
  const double hi = std::max(in.capacity_units_per_month * 3, 10.0);
  for (const BreakEvenAt& p : break_even_curve(in, hi / 1e4, hi, 60)) {
    api.points.push_back({p.volume_units, p.api_usd});
    self.points.push_back({p.volume_units, p.self_host_usd});
  }
  be.series = {api, self};
  r.charts_svg.push_back(render_line_chart_svg(be));
  if (!plan.fits) r.notes.push_back("This configuration does NOT fit in memory: it is not priced.");
  r.notes.insert(r.notes.end(), {"Roofline model: decode step = max(bytes / (bandwidth x MBU), FLOPs / (peak x MFU)) + TP all-reduces.",
             "MBU " + fmt_count(model.deployment().efficiency.mbu) + ", MFU " + fmt_count(model.deployment().efficiency.mfu) +
                 (model.deployment().calibration ? " (calibrated per batch where measured)" : " (defaults)"),
             "Price: USD " + fmt_count(hw.usd_per_hour) + " per device-hour; sources in data/hardware/catalogue.json.",
             "See docs/COST-MODEL.md for the model and its checks against published figures."});
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

void print_llm_text(const LlmArgs& a, const LlmRoofline& model, const LlmPlan& plan, const ResolvedHardware& hw) {
  const LlmShape& s = model.deployment().shape;
  std::printf("model        %s (%.2fB params, %.2fB active), weights %s\n", s.description.c_str(),
              s.total_params() / 1e9, s.active_matmul_params() / 1e9, model.deployment().weights.name.c_str());
  std::printf("hardware     %d x %s, %s/h each\n", a.count, hw.accelerator.description.c_str(),
              hw.usd_per_hour > 0 ? fmt_usd(hw.usd_per_hour).c_str() : "no price (pass --usd-per-hour)");
  std::printf("memory       %s per device of %s: %s (weights %s, KV %s, activations %s, reserve %s)\n",
              fmt_gb(plan.memory.total_bytes()).c_str(), fmt_gb(plan.capacity_bytes).c_str(),
              plan.fits ? "fits" : "DOES NOT FIT", fmt_gb(plan.memory.weights_bytes).c_str(),
              fmt_gb(plan.memory.kv_bytes).c_str(), fmt_gb(plan.memory.activation_bytes).c_str(),
              fmt_gb(plan.memory.reserve_bytes).c_str());
  std::printf("max batch    %lld at context %lld\n", static_cast<long long>(plan.max_batch), static_cast<long long>(a.context));
  const KvBudget kv = KvBudget::for_shape(s, model.deployment().kv_bytes_per_element);
  std::printf("KV cache     %s bytes per token; --kv-mem %.0f holds %lld x %lld tokens (%lld blocks of %lld)\n",
              fmt_count(kv.bytes_per_token).c_str(), kv.kv_mem_bytes_for(a.batch, a.context), static_cast<long long>(a.batch),
              static_cast<long long>(a.context), static_cast<long long>(a.batch * kv.blocks_for_context(a.context)),
              static_cast<long long>(kv.block_tokens));
  if (a.kv_mem_bytes > 0) {
    std::printf("             --kv-mem %.0f: max context %lld per sequence at batch %lld\n", a.kv_mem_bytes,
                static_cast<long long>(kv.max_context_at(a.kv_mem_bytes, a.batch)), static_cast<long long>(a.batch));
  }
  std::printf("prefill      %s tok/s\n", fmt_count(plan.prefill_tokens_per_s).c_str());
  std::printf("decode       %s per step (%s-bound; memory %s, compute %s, comm %s): %s tok/s per sequence, %s tok/s total\n",
              fmt_duration(plan.decode.total_s()).c_str(), plan.decode.compute_bound() ? "compute" : "memory",
              fmt_duration(plan.decode.memory_s).c_str(), fmt_duration(plan.decode.compute_s).c_str(),
              plan.decode.comm_s > 0 ? fmt_duration(plan.decode.comm_s).c_str() : "0",
              fmt_count(plan.decode_tokens_per_s).c_str(), fmt_count(plan.decode_tokens_per_s_total).c_str());
  if (!plan.fits) {
    std::printf("cost         — (does not fit in memory: not priced; max batch at this context is %lld)\n",
                static_cast<long long>(plan.max_batch));
  } else if (!plan.priced) {
    std::printf("cost         — (no price for this hardware: pass --usd-per-hour)\n");
  } else {
    std::printf("cost         %s per M output tokens, %s per M input tokens; %s/h for %d device(s) (utilisation %s)\n",
                fmt_usd(plan.usd_per_million_output_tokens).c_str(), fmt_usd(plan.usd_per_million_input_tokens).c_str(),
                fmt_usd(plan.usd_per_hour).c_str(), a.count, fmt_percent(a.utilisation).c_str());
  }
}

int run_llm(const LlmArgs& a) {
  if (Status s = check_llm_args(a); !s) return report_error(s);
  auto hw = resolve_hardware(a.common, a.hardware);
  if (!hw) return report_error(hw.error());
  auto d = build_deployment(a, *hw);
  if (!d) return report_error(d.error());
  auto model = LlmRoofline::create(std::move(*d));
  if (!model) return report_error(model.error());
  const LlmPlan plan = plan_llm(*model, {a.batch, a.context, a.prompt_tokens, hw->usd_per_hour, a.utilisation});
  if (!a.html.empty()) {
    if (Status s = write_output_file(a.html, render_html_report(llm_report(a, *model, plan, *hw)), "the HTML report"); !s) {
      return report_error(s);
    }
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
    out["calibrated"] = model->deployment().calibration.has_value();
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  print_llm_text(a, *model, plan, *hw);
  return 0;
}


// ---- plan hardware ----

int run_hardware(const CommonArgs& c) {
  if (Status s = check_common(c); !s) return report_error(s);
  auto catalogue = load_catalogue(c);
  if (!catalogue) return report_error(catalogue.error());
  if (c.json) {
    json out = json::array();
    for (const Accelerator& a : catalogue->entries()) out.push_back(accelerator_to_json(a));
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  struct Column { const char* title; size_t width; bool left; };
  const std::vector<Column> columns = {{"name", 14, true},        {"kind", 11, true},        {"memory", 9, false},
                                       {"bandwidth", 10, false},  {"BF16 dense", 11, false}, {"FP8 dense", 11, false},
                                       {"INT8 dense", 12, false}, {"TDP", 7, false},         {"USD/h", 13, false},
                                       {"price", 11, false}};
  auto print_row = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) line += (i ? " " : "") + pad(cells[i], columns[i].width, columns[i].left);
    std::printf("%s\n", line.c_str());
  };
  std::vector<std::string> titles;
  for (const Column& col : columns) titles.push_back(col.title);
  print_row(titles);
  for (const Accelerator& a : catalogue->entries()) {
    char price_range[48] = "—";
    if (a.cloud_usd_per_hour_high > 0) {
      std::snprintf(price_range, sizeof(price_range), "%.2f-%.2f", a.cloud_usd_per_hour_low, a.cloud_usd_per_hour_high);
    }
    print_row({a.name, std::string(accelerator_kind_name(a.kind)), fmt_or_dash(a.memory_bytes / 1e9, "%.0f GB"),
               fmt_or_dash(a.memory_bandwidth_bytes_per_s / 1e12, "%.2f TB/s"),
               fmt_or_dash(a.bf16_dense_flops_per_s / 1e12, "%.0f TF/s"),
               fmt_or_dash(a.fp8_dense_flops_per_s / 1e12, "%.0f TF/s"),
               fmt_or_dash(a.int8_dense_ops_per_s / 1e12, "%.0f TOP/s"), fmt_or_dash(a.tdp_watts, "%.0f W"),
               price_range, a.purchase_usd > 0 ? fmt_usd(a.purchase_usd) : "—"});
  }
  std::printf("(— = no such mode, or none published; %s; sources and weight formats: --json)\n",
              default_catalogue_path().c_str());
  return 0;
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

  register_plan_video(*plan);
  register_plan_breakeven(*plan);
  register_plan_recommend(*plan);
  register_plan_deploy(*plan);

  auto hw = std::make_shared<CommonArgs>();
  CLI::App* hw_cmd = plan->add_subcommand("hardware", "List the hardware catalogue");
  add_common_flags(*hw_cmd, *hw);
  on_run(hw_cmd, [hw] { return run_hardware(*hw); });
}

}  // namespace frugal::cli

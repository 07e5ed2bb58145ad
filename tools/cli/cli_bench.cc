// `frugal bench`: llama-bench-style prompt (pp) and generation (tg) throughput with MBU and MFU
// against this machine's measured bandwidth and peak FLOP/s, after validating the fast path
// against the reference path; `--membw` prints the bandwidth and FLOP/s probes alone. MBU is only
// printed against a trusted probe reading (engine/membw_trust.h), never above 100 %. A run saves
// a CalibrationRecord for the planner (`frugal plan --hardware this-machine`): one decode point per
// tg test (at its mean KV context; -d sets the depth) and one prefill point per pp test.
#include <algorithm>
#include <filesystem>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bench_measure.h"
#include "bench_report.h"
#include "bench_spec.h"
#include "cli_common.h"
#include "cost/calibration.h"
#include "cost/calibration_store.h"
#include "engine/flops_probe.h"
#include "core/cache_info.h"
#include "core/memory_usage.h"
#include "engine/membw.h"
#include "engine/membw_trust.h"

namespace frugal::cli {
namespace {

struct BenchArgs {
  std::vector<std::string> models;
  std::vector<int64_t> n_prompt = {512};
  std::vector<int64_t> n_gen = {128};
  std::vector<int64_t> depths = {0};  // KV tokens before each tg test (llama-bench -d)
  std::vector<int> threads;
  int repetitions = 5;
  bool interleave = false;  // round-robin repetitions across every test (steadier on a busy machine)
  bool json = false;
  bool membw = false;
  int64_t membw_mib = 0;    // 0: 4x the last-level cache, within half the available memory
  int membw_repetitions = 10;
  bool no_save = false;
  std::string calibrate_with = "median";  // or "best": which repetition statistic calibration uses
  std::string calibration_path;
  bool validate_only = false;
  int64_t validate_tokens = 8;
  bool inject_validation_error = false;
  SpecFlags spec;                    // --draft / --spec: speculative-decoding comparison instead
  std::vector<int> concurrency = {1};
};

// `--draft MODEL` or `--spec ngram`: the speculative comparison (bench_spec.h) on the first model.
int run_spec(const BenchArgs& a) {
  if (a.models.size() != 1) return report_error(invalid_argument("--draft/--spec compares one target model (-m)"));
  SpecBenchArgs s;
  s.model_path = a.models.front();
  s.spec = a.spec;
  s.n_gen = a.n_gen;
  s.concurrency = a.concurrency;
  s.threads = a.threads.front();
  s.repetitions = a.repetitions;
  s.json = a.json;
  return run_spec_bench(s);
}

// The bandwidth probe (read, copy, triad with its host verdict, membw_trust.h) and the FLOP/s probe
// at each thread count; one set of arrays, sized from the LLC unless --membw-mib says otherwise.
Expected<std::map<int, ProbeFigures>> measure_probes(const std::vector<int>& thread_counts, const BenchArgs& a,
                                                     bool quiet) {
  const CacheInfo llc = last_level_cache();
  const int64_t array_bytes =
      a.membw_mib > 0 ? a.membw_mib << 20 : default_probe_array_bytes(llc.llc_bytes, available_memory_bytes());
  auto probe = MembwProbe::create(array_bytes);
  if (!probe) return probe.error();
  std::map<int, ProbeFigures> out;
  for (int threads : thread_counts) {
    if (out.count(threads) != 0) continue;
    if (!quiet) {
      std::fprintf(stderr, "frugal bench: probing memory bandwidth (3 x %lld MiB, LLC %lld MiB from %s) and peak "
                   "FLOP/s on %d thread(s)\n", static_cast<long long>(array_bytes >> 20),
                   static_cast<long long>(llc.llc_bytes >> 20), llc.source.c_str(), threads);
    }
    ThreadPool pool(threads);
    const TrustedMembw bw = measure_membw_with_verdict(*probe, pool, a.membw_repetitions, llc.llc_bytes);
    const FlopsProbeResult fl = measure_peak_flops(pool);
    ProbeFigures& p = out[threads];
    p.threads = threads;
    p.array_bytes = bw.result.array_bytes;
    p.llc_bytes = llc.llc_bytes;
    p.repetitions = bw.result.repetitions;
    p.read = bw.result.read;
    p.trust = bw.trust;
    p.read_gb_per_s = bw.result.read_gb_per_s;
    p.copy_gb_per_s = bw.result.copy_gb_per_s;
    p.triad_gb_per_s = bw.result.triad_gb_per_s;
    p.peak_flops_per_s = fl.f32_flops_per_s;
    p.flops_variant = fl.variant;
  }
  return out;
}

int run_membw(const BenchArgs& a) {
  auto probes = measure_probes(a.threads, a, a.json);
  if (!probes) return report_error(probes.error());
  if (!a.json) print_probe_table_header();
  for (int threads : a.threads) {
    const ProbeFigures& p = probes->at(threads);
    if (a.json) {
      std::printf("%s\n", probe_to_json_line(p).c_str());
    } else {
      print_probe_row(p);
    }
  }
  if (!a.json) {
    for (const auto& [threads, p] : *probes) print_probe_notes(p);
  }
  return 0;
}

Status validate_model(const Model& model, const BenchArgs& a, const std::string& path) {
  const int threads = *std::max_element(a.threads.begin(), a.threads.end());
  auto v = compare_fast_with_reference(model, threads, a.validate_tokens, a.inject_validation_error);
  if (!v) return v.error();
  Status st = check_validation(*v);
  if (!st.is_ok()) return Status(st.code(), path + ": " + st.message());
  std::fprintf(stderr, "frugal bench: %s: fast path matches the reference on %lld tokens (min cosine %.6f, max |diff| %.3g)\n",
               path.c_str(), static_cast<long long>(v->n_tokens), v->min_cosine, v->max_abs_diff);
  if (v->moe_routes > 0) {
    std::fprintf(stderr, "frugal bench: %s: expert routes: %lld of %lld differ between the paths (near-ties: the reference "
                 "replayed the fast path's experts; largest router-probability gap %.4f)\n",
                 path.c_str(), static_cast<long long>(v->moe_routes_differing), static_cast<long long>(v->moe_routes),
                 v->moe_max_mass_gap);
  }
  return Status::ok();
}

void emit_row(const BenchRow& row, bool json) {
  if (json) {
    std::printf("%s\n", row_to_json_line(row).c_str());
    std::fflush(stdout);
  } else {
    print_table_row(row);
  }
}

// A test's row from its repetitions' tokens/s: the figures and the bytes and FLOPs per token.
BenchRow finish_row(const Model& model, BenchRow row, std::vector<double> tokens_per_s) {
  const bool pp = row.n_prompt > 0;
  row.tokens_per_s = std::move(tokens_per_s);
  const TokenCost cost = pp ? prompt_token_cost(model, row.n_prompt) : generation_token_cost(model, row.n_gen, row.n_depth);
  row.bytes_per_token = cost.bytes_per_token;
  row.flops_per_token = cost.flops_per_token;
  return row;
}

// A loaded, validated model and its tests (every thread count x every pp and tg size).
struct ModelTests {
  std::unique_ptr<Model> model;
  std::vector<BenchRow> tests;
};

Expected<ModelTests> prepare_model(const std::string& path, const BenchArgs& a, const std::map<int, ProbeFigures>& probes) {
  auto model = Model::load(path);
  if (!model) return model.error();
  Status st = validate_model(**model, a, path);
  if (!st.is_ok()) return st;
  ModelTests out;
  out.model = std::move(*model);
  if (a.validate_only) return out;
  BenchRow base;
  base.model = path;
  base.weight_type = model_weight_type(*out.model);
  base.model_bytes = static_cast<double>(out.model->file().file_size_bytes());
  for (const GgufTensorInfo& t : out.model->file().tensors()) {
    base.n_params += static_cast<double>(t.num_elements());
    base.tensor_bytes += static_cast<double>(t.size_bytes);
  }
  base.n_layer = out.model->config().n_layer;
  base.n_embd = out.model->config().n_embd;
  for (int threads : a.threads) {
    base.threads = threads;
    base.probe = probes.at(threads);
    for (int64_t n : a.n_prompt) {
      if (n <= 0) continue;
      out.tests.push_back(base);
      out.tests.back().n_prompt = n;
    }
    for (int64_t n : a.n_gen) {
      if (n <= 0) continue;
      for (int64_t depth : a.depths) {
        out.tests.push_back(base);
        out.tests.back().n_gen = n;
        out.tests.back().n_depth = depth;
      }
    }
  }
  return out;
}

Expected<RepetitionTimer> make_timer(const Model& model, const BenchRow& test) {
  return RepetitionTimer::create(model, test.threads, test.n_prompt, test.n_gen, test.n_depth);
}

// One model at a time, one test after another, each row printed as it finishes.
Status bench_sequential(const BenchArgs& a, const std::map<int, ProbeFigures>& probes, std::vector<BenchRow>& rows) {
  for (const std::string& path : a.models) {
    auto prepared = prepare_model(path, a, probes);
    if (!prepared) return prepared.error();
    for (const BenchRow& test : prepared->tests) {
      auto timer = make_timer(*prepared->model, test);
      if (!timer) return timer.error();
      auto tps = time_repetitions(*timer, a.repetitions);
      if (!tps) return tps.error();
      rows.push_back(finish_row(*prepared->model, test, std::move(*tps)));
      emit_row(rows.back(), a.json);
    }
  }
  return Status::ok();
}

// --interleave: every model and test is set up first, then repetition r of every test runs before
// repetition r + 1 of any (round-robin), so each test's repetitions span the whole run.
Status bench_interleaved(const BenchArgs& a, const std::map<int, ProbeFigures>& probes, std::vector<BenchRow>& rows) {
  std::vector<ModelTests> models;
  std::vector<std::pair<size_t, size_t>> index;  // (model, test) per timer
  std::vector<RepetitionTimer> timers;
  for (const std::string& path : a.models) {
    auto prepared = prepare_model(path, a, probes);
    if (!prepared) return prepared.error();
    models.push_back(std::move(*prepared));
    for (size_t t = 0; t < models.back().tests.size(); ++t) {
      auto timer = make_timer(*models.back().model, models.back().tests[t]);
      if (!timer) return timer.error();
      timers.push_back(std::move(*timer));
      index.emplace_back(models.size() - 1, t);
    }
  }
  std::vector<std::vector<double>> tokens_per_s(timers.size());
  for (int rep = -1; rep < a.repetitions; ++rep) {  // rep -1: warm-up
    for (size_t i = 0; i < timers.size(); ++i) {
      auto tps = timers[i].run(rep < 0);
      if (!tps) return tps.error();
      if (rep >= 0) tokens_per_s[i].push_back(*tps);
    }
  }
  for (size_t i = 0; i < timers.size(); ++i) {
    const ModelTests& m = models[index[i].first];
    rows.push_back(finish_row(*m.model, m.tests[index[i].second], std::move(tokens_per_s[i])));
    emit_row(rows.back(), a.json);
  }
  return Status::ok();
}

// Moves an existing file aside (PATH.<stamp>.bak) and says so; never deletes it.
Status keep_aside(const std::string& path, const std::string& why, std::string stamp) {
  std::replace(stamp.begin(), stamp.end(), ':', '-');
  const std::string kept = path + "." + stamp + ".bak";
  std::error_code ec;
  std::filesystem::rename(path, kept, ec);
  if (ec) return unavailable("cannot move " + path + " aside to " + kept + ": " + ec.message());
  std::fprintf(stderr, "frugal bench: %s; kept it as %s\n", why.c_str(), kept.c_str());
  return Status::ok();
}

// Saves `fresh` merged into the record already at `path` (calibration_store.h), saying what happened:
// never a silent overwrite.
Status save_merged_calibration(const CalibrationRecord& fresh, const std::string& path) {
  CalibrationRecord to_save = fresh;
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    auto previous = load_calibration(path);
    if (!previous) {
      if (Status s = keep_aside(path, "the record at " + path + " is unreadable (" + previous.error().message() + ")", fresh.created_utc); !s) {
        return s;
      }
    } else {
      CalibrationMergeReport report;
      to_save = merge_calibration(*previous, fresh, &report);
      if (!report.same_machine) {
        if (Status s = keep_aside(path, "the record at " + path + " was measured on another machine (" +
                                            previous->machine_id + ", " + previous->cpu_model + ")", fresh.created_utc);
            !s) {
          return s;
        }
      } else {
        std::fprintf(stderr,
                     "frugal bench: calibration %s: %zu new points, %zu replaced (the old ones moved to its history), "
                     "%zu kept from earlier runs (MBU/MFU rescaled to this run's probes)\n",
                     path.c_str(), report.added, report.replaced, report.kept);
      }
    }
  }
  if (Status s = save_calibration(to_save, path); !s) return s;
  std::fprintf(stderr, "frugal bench: calibration saved to %s (%zu points)\n", path.c_str(), to_save.points.size());
  return Status::ok();
}

int run_bench(const BenchArgs& a) {
  if (a.models.empty()) return report_error(invalid_argument("bench: -m/--model is required (or use --membw)"));
  std::map<int, ProbeFigures> probes;
  const int machine_threads = default_num_threads();
  if (!a.validate_only) {
    std::vector<int> counts = a.threads;
    counts.push_back(machine_threads);
    auto measured = measure_probes(counts, a, false);
    if (!measured) return report_error(measured.error());
    probes = std::move(*measured);
    if (!a.json) {
      const ProbeFigures& m = probes.at(machine_threads);
      std::printf("# memory read %.2f GB/s (best of %d; median %.2f, min %.2f, spread %.1f %%), triad %.2f GB/s, peak f32 "
                  "%.1f GFLOP/s (%s FMA loop), %d threads\n",
                  m.read_gb_per_s, m.repetitions, m.read.median, m.read.min, 100 * m.read.relative_spread(),
                  m.triad_gb_per_s, m.peak_flops_per_s / 1e9, m.flops_variant.c_str(), machine_threads);
      for (int threads : a.threads) {
        const ProbeTrust& t = probes.at(threads).trust;
        std::printf("# %d thread%s: %s\n", threads, threads == 1 ? "" : "s", t.trusted ? "probe trusted, MBU against its read bandwidth"
                                                              : t.why_no_mbu().c_str());
      }
      std::printf("# MFU is against that f32 peak: quantized weights (Q4_0, Q8_0, K-quants) multiply in int8, which can "
                  "exceed it\n");
      print_table_header();
    }
  }
  std::vector<BenchRow> rows;
  Status st = a.interleave ? bench_interleaved(a, probes, rows) : bench_sequential(a, probes, rows);
  if (!st.is_ok()) return report_error(st);
  if (!a.json && !a.validate_only) print_withheld_efficiency_notes(rows);
  if (a.validate_only) {
    std::printf("validation passed: %zu model(s)\n", a.models.size());
    return 0;
  }
  if (a.no_save || rows.empty()) return 0;
  st = save_merged_calibration(build_calibration(rows, probes.at(machine_threads), a.calibrate_with == "best"),
                               resolve_calibration_path(a.calibration_path));
  if (!st.is_ok()) return report_error(st);
  return 0;
}

Status check_args(const BenchArgs& a) {
  if (a.repetitions < 1) return invalid_argument("bench: -r must be >= 1");
  if (a.membw_mib < 0) return invalid_argument("bench: --membw-mib must be >= 1 (or 0: sized from the LLC)");
  if (a.membw_repetitions < 1) return invalid_argument("bench: --membw-reps must be >= 1");
  if (a.validate_tokens < 1) return invalid_argument("bench: --validate-tokens must be >= 1");
  for (int t : a.threads) {
    if (t < 1) return invalid_argument("bench: thread counts must be >= 1");
  }
  for (int64_t n : a.n_prompt) {
    if (n < 0) return invalid_argument("bench: -p values must be >= 0");
  }
  for (int64_t n : a.n_gen) {
    if (n < 0) return invalid_argument("bench: -n values must be >= 0");
  }
  if (a.calibrate_with != "median" && a.calibrate_with != "best") {
    return invalid_argument("bench: --calibrate-with must be median or best");
  }
  if (a.depths.empty()) return invalid_argument("bench: -d needs at least one depth");
  for (int64_t d : a.depths) {
    if (d < 0) return invalid_argument("bench: -d values must be >= 0");
  }
  return Status::ok();
}

}  // namespace

CLI::App* register_bench_video(CLI::App& bench);  // cli_bench_video.cc

void register_bench(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure pp/tg tokens/s, MBU and MFU (llama-bench style); --membw for bandwidth");
  cmd->add_option("-m,--model", args->models, "GGUF model (repeatable or comma list)")->delimiter(',');
  cmd->add_option("-p,--n-prompt", args->n_prompt, "Prompt lengths for pp tests (comma list; 0 = none)")
      ->delimiter(',')->capture_default_str();
  cmd->add_option("-n,--n-gen", args->n_gen, "Generated tokens for tg tests (comma list; 0 = none)")
      ->delimiter(',')->capture_default_str();
  cmd->add_option("-d,--n-depth", args->depths, "KV-cache depths before the tg tests (comma list; llama-bench -d)")
      ->delimiter(',')->capture_default_str();
  cmd->add_option("-t,--threads", args->threads, "Thread counts (comma list; default: all cores)")->delimiter(',');
  cmd->add_option("-r,--repetitions", args->repetitions, "Timed repetitions per test")->capture_default_str();
  cmd->add_flag("--interleave", args->interleave,
                "Run repetition r of every test (all models) before repetition r+1 of any: a busy spell of a shared "
                "machine hits every test alike (rows print at the end)");
  cmd->add_flag("--json", args->json, "One JSON object per line and test");
  cmd->add_flag("--membw", args->membw, "Only measure memory bandwidth (read, copy, triad) and peak FLOP/s");
  cmd->add_option("--membw-mib", args->membw_mib,
                  "MiB per bandwidth-probe array (3 arrays; 0 = 4x the last-level cache, within half the free memory; "
                  "under 4x LLC the probe is not trusted and MBU is not reported)")
      ->capture_default_str();
  cmd->add_option("--membw-reps", args->membw_repetitions, "Timed bandwidth-probe repetitions after 1 warm-up (best of N)")
      ->capture_default_str();
  cmd->add_flag("--no-save", args->no_save, "Do not save the calibration record");
  cmd->add_option("--calibrate-with", args->calibrate_with,
                  "Repetition statistic saved for the planner: median, or best (the fastest; steadier on a busy machine)")
      ->capture_default_str();
  cmd->add_option("--calibration", args->calibration_path,
                  "Calibration record to write (default $FRUGAL_CALIBRATION or ~/.cache/frugal/calibration.json)");
  cmd->add_flag("--validate-only", args->validate_only, "Only check fast-path logits against the reference path");
  cmd->add_option("--validate-tokens", args->validate_tokens, "Prompt length of the validation")->capture_default_str();
  // Test hook: corrupts the fast logits before the comparison, so tests can see the check fail.
  cmd->add_flag("--inject-validation-error", args->inject_validation_error)->group("");
  add_spec_flags(*cmd, args->spec);
  cmd->add_option("--concurrency", args->concurrency, "With --draft/--spec: concurrent requests (comma list)")
      ->delimiter(',')->capture_default_str();
  CLI::App* video_cmd = register_bench_video(*cmd);
  cmd->callback([args, video_cmd] {
    if (video_cmd->parsed()) return;  // `frugal bench video` ran its own callback
    if (args->threads.empty()) args->threads = {default_num_threads()};
    if (!args->spec.draft_path.empty() || !args->spec.medusa_path.empty() || !args->spec.mode.empty()) {
      const int code = run_spec(*args);
      if (code != 0) throw CLI::RuntimeError(code);
      return;
    }
    Status st = check_args(*args);
    const int code = !st.is_ok() ? report_error(st) : args->membw ? run_membw(*args) : run_bench(*args);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace frugal::cli

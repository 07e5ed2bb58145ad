// Tests of `frugal bench` (run as a binary on the tiny test models) and of the bandwidth and
// FLOP/s probes it uses.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>

#include "common/subprocess.h"
#include "cost/calibration.h"
#include "common/test_data.h"
#include "engine/flops_probe.h"
#include "engine/membw.h"

namespace frugal {
namespace {

using testing::data_path;
using testing::frugal_binary;
using testing::run_command;

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("frugal_bench_test_" + std::to_string(::getpid()) + "_" + name)).string();
}

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '{') out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

TEST(Bench, JsonLinesHaveTheKeysAndOrderedStatistics) {
  const std::string model = data_path("models/tiny-q8_0.gguf");
  auto r = run_command(frugal_binary() + " bench -m " + model + " -p 16 -n 8 -r 2 -t 1,2 --json --no-save --membw-mib 8");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto rows = json_lines(r.output);
  ASSERT_EQ(rows.size(), 4u) << r.output;  // {pp16, tg8} x {1, 2} threads
  std::set<std::pair<int, std::string>> seen;
  for (const auto& row : rows) {
    for (const char* key : {"model", "weight_type", "threads", "n_prompt", "n_gen", "tokens_per_s_median",
                            "tokens_per_s_min", "tokens_per_s_max", "mbu", "mfu", "bytes_per_token", "flops_per_token"}) {
      ASSERT_TRUE(row.contains(key)) << key << " missing in " << row.dump();
    }
    EXPECT_EQ(row["model"], model);
    EXPECT_EQ(row["weight_type"], "q8_0");
    const double lo = row["tokens_per_s_min"], mid = row["tokens_per_s_median"], hi = row["tokens_per_s_max"];
    EXPECT_GT(lo, 0);
    EXPECT_LE(lo, mid);
    EXPECT_LE(mid, hi);
    EXPECT_EQ(row["tokens_per_s"].size(), 2u);
    for (const char* key : {"bytes_per_token", "flops_per_token"}) EXPECT_GT(row[key].get<double>(), 0) << key;
    // MFU: a figure in (0, 1], or null with why (a busy host around the probes, or a disturbed probe).
    if (row["mfu"].is_null()) {
      EXPECT_NE(row["mfu_withheld"].get<std::string>().find("MFU not reported"), std::string::npos) << row.dump();
    } else {
      EXPECT_GT(row["mfu"].get<double>(), 0);
      EXPECT_LE(row["mfu"].get<double>(), 1.0);
    }
    // 8 MiB probe arrays are inside any LLC: the reading is not trusted, so MBU is null with why.
    EXPECT_FALSE(row["probe_trusted"].get<bool>());
    EXPECT_TRUE(row["mbu"].is_null()) << row.dump();
    EXPECT_NE(row["mbu_withheld"].get<std::string>().find("MBU not reported"), std::string::npos) << row.dump();
    const bool pp = row["n_prompt"].get<int>() > 0;
    EXPECT_EQ(pp ? row["n_gen"].get<int>() : row["n_prompt"].get<int>(), 0);
    seen.insert({row["threads"].get<int>(), pp ? "pp" : "tg"});
  }
  EXPECT_EQ(seen.size(), 4u);
}

// --interleave runs the same tests (every model, thread count, pp and tg size and depth) as a
// sequential run, with every repetition, and reports the same rows in the same order.
TEST(Bench, InterleavedRunReportsTheSameTestsAsASequentialOne) {
  const std::string models = data_path("models/tiny-q8_0.gguf") + "," + data_path("models/small-q8_0.gguf");
  const std::string args = " bench -m " + models + " -p 16,32 -n 8 -d 0,4 -r 3 -t 1 --json --no-save --membw-mib 8";
  auto sequential = run_command(frugal_binary() + args);
  auto interleaved = run_command(frugal_binary() + args + " --interleave");
  ASSERT_EQ(sequential.exit_code, 0) << sequential.output;
  ASSERT_EQ(interleaved.exit_code, 0) << interleaved.output;
  const auto a = json_lines(sequential.output), b = json_lines(interleaved.output);
  ASSERT_EQ(a.size(), 8u) << sequential.output;  // 2 models x {pp16, pp32, tg8@d0, tg8@d4}
  ASSERT_EQ(b.size(), a.size()) << interleaved.output;
  for (size_t i = 0; i < a.size(); ++i) {
    for (const char* key : {"model", "threads", "n_prompt", "n_gen", "n_depth", "bytes_per_token", "flops_per_token"}) {
      EXPECT_EQ(a[i][key], b[i][key]) << key << " of row " << i;
    }
    ASSERT_EQ(b[i]["tokens_per_s"].size(), 3u);
    for (const auto& tps : b[i]["tokens_per_s"]) EXPECT_GT(tps.get<double>(), 0);
  }
}

// Bytes and FLOPs per token, derived independently from the model's published tensor table
// (tests/data/models/meta/tiny-q8_0.json): decoding reads every matrix once per token.
TEST(Bench, GenerationBytesAndFlopsFollowTheTensorTable) {
  const auto meta = nlohmann::json::parse(testing::read_text_file(data_path("models/meta/tiny-q8_0.json")));
  const auto& shape = meta["shape"];
  auto r = run_command(frugal_binary() + " bench -m " + data_path("models/tiny-q8_0.gguf") +
                       " -p 0 -n 4 -r 1 -t 1 --json --no-save --membw-mib 8");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto rows = json_lines(r.output);
  ASSERT_EQ(rows.size(), 1u);
  double matrix_params = 0;
  for (const auto& t : meta["tensors"]) {
    const std::string name = t["name"];
    if (t["dims"].size() == 2 && name != "token_embd.weight") {
      matrix_params += t["dims"][0].get<double>() * t["dims"][1].get<double>();
    }
  }
  if (matrix_params == 0) GTEST_SKIP() << "meta has no tensor dims";
  const double flops = rows[0]["flops_per_token"];
  // 2 FLOPs per matrix weight plus attention (a few percent at 4 tokens of context).
  EXPECT_GE(flops, 2 * matrix_params) << shape.dump();
  EXPECT_LE(flops, 2 * matrix_params * 1.2);
  // Q8_0 stores 34 bytes per 32 weights: the bytes read are at least the matrices' storage.
  EXPECT_GE(rows[0]["bytes_per_token"].get<double>(), matrix_params * 34.0 / 32.0);
}

TEST(Bench, ValidateOnlyPassesOnAGoodModel) {
  for (const char* model : {"models/tiny-q8_0.gguf", "models/tiny-q4_0.gguf", "models/tiny-f16.gguf"}) {
    auto r = run_command(frugal_binary() + " bench -m " + data_path(model) + " --validate-only -t 1 2>&1");
    EXPECT_EQ(r.exit_code, 0) << model << ": " << r.output;
    EXPECT_NE(r.output.find("validation passed"), std::string::npos) << r.output;
  }
}

// A quantized MoE model: the fast and the reference path may put a near-tie between two experts on
// different sides; the reference replays the fast path's experts, so validation checks the
// arithmetic (this tiny OLMoE at Q4_K_M failed validation before: one of its 16 routes differs).
TEST(Bench, ValidateOnlyReplaysTheFastPathsExpertsOnAQuantizedMoeModel) {
  const std::string model = temp_path("tiny-olmoe-q4_k_m.gguf");
  auto made = run_command(frugal_binary() + " mkmodel --preset tiny-olmoe --type q4_k_m --vocab " +
                          data_path("models/llama3-vocab.gguf") + " -o " + model + " 2>&1");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  auto r = run_command(frugal_binary() + " bench -m " + model + " --validate-only -t 2 2>&1");
  std::filesystem::remove(model);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("validation passed"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("expert routes: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(" of 16 differ between the paths"), std::string::npos) << r.output;
}

TEST(Bench, ValidationFailsLoudlyBeforeAnyTiming) {
  const std::string cal = temp_path("never.json");
  auto r = run_command(frugal_binary() + " bench -m " + data_path("models/tiny-q8_0.gguf") +
                       " -p 16 -n 8 -r 1 -t 1 --json --membw-mib 8 --calibration " + cal +
                       " --inject-validation-error 2>&1");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("validation failed"), std::string::npos) << r.output;
  EXPECT_TRUE(json_lines(r.output).empty()) << "timed before validating: " << r.output;
  EXPECT_FALSE(std::filesystem::exists(cal));
}

TEST(Bench, RejectsBadArguments) {
  EXPECT_NE(run_command(frugal_binary() + " bench 2>&1").exit_code, 0);
  EXPECT_NE(run_command(frugal_binary() + " bench -m /nonexistent.gguf -p 4 -n 0 -r 1 --membw-mib 8 2>&1").exit_code, 0);
  EXPECT_NE(run_command(frugal_binary() + " bench -m " + data_path("models/tiny-q8_0.gguf") + " -r 0 2>&1").exit_code, 0);
  EXPECT_NE(run_command(frugal_binary() + " bench --membw -t 0 2>&1").exit_code, 0);
}

TEST(Bench, MembwPrintsPositiveBandwidths) {
  auto r = run_command(frugal_binary() + " bench --membw --membw-mib 8 -t 1,2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto rows = json_lines(r.output);
  ASSERT_EQ(rows.size(), 2u) << r.output;
  for (const auto& row : rows) {
    for (const char* key : {"read_gb_per_s", "copy_gb_per_s", "triad_gb_per_s", "peak_flops_per_s"}) {
      EXPECT_GT(row[key].get<double>(), 0) << key;
      EXPECT_TRUE(std::isfinite(row[key].get<double>())) << key;
    }
  }
  for (const auto& row : rows) {
    const double best = row["read_gb_per_s"], median = row["read_median_gb_per_s"], min = row["read_min_gb_per_s"];
    EXPECT_LE(min, median);
    EXPECT_LE(median, best);
    EXPECT_NEAR(row["read_relative_spread"].get<double>(), (best - min) / best, 1e-9);
    EXPECT_EQ(row["repetitions"], 10);  // the default best-of-N
    EXPECT_GT(row["llc_bytes"].get<double>(), 0);
    EXPECT_GE(row["host"]["cores"].get<int>(), 1);
    // 8 MiB arrays: never trusted, and the reasons say so.
    EXPECT_FALSE(row["trusted"].get<bool>());
    bool names_llc = false;
    for (const auto& why : row["reasons"]) names_llc |= why.get<std::string>().find("last-level cache") != std::string::npos;
    EXPECT_TRUE(names_llc) << row.dump();
    EXPECT_NE(row["method"].get<std::string>().find("best of 10"), std::string::npos) << row.dump();
  }
  auto table = run_command(frugal_binary() + " bench --membw --membw-mib 8 --membw-reps 3 -t 1");
  ASSERT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find("triad GB/s"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("read median"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("# 1 thread: streaming read"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("MBU not reported"), std::string::npos) << table.output;
  EXPECT_NE(run_command(frugal_binary() + " bench --membw --membw-reps 0 2>&1").exit_code, 0);
}

// The table never shows an MBU above 100 %: each row's MBU cell is a percentage <= 100 or "n/a",
// and every n/a row is explained under the table.
TEST(Bench, TableNeverPrintsAnMbuAboveOneHundredPercent) {
  auto r = run_command(frugal_binary() + " bench -m " + data_path("models/tiny-q8_0.gguf") +
                       " -p 16 -n 8 -r 1 -t 1 --no-save --membw-mib 8 --membw-reps 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::istringstream in(r.output);
  std::string line;
  int rows = 0, withheld = 0;
  while (std::getline(in, line)) {
    if (line.rfind("| ", 0) != 0 || line.find("tiny-q8_0") == std::string::npos) continue;
    std::vector<std::string> cells;
    std::istringstream cells_in(line);
    std::string cell;
    while (std::getline(cells_in, cell, '|')) cells.push_back(cell);
    ASSERT_GE(cells.size(), 11u) << line;
    const std::string mbu = cells[9];
    ++rows;
    if (mbu.find("n/a") != std::string::npos) {
      ++withheld;
    } else {
      EXPECT_LE(std::stod(mbu), 100.0) << line;
    }
  }
  EXPECT_EQ(rows, 2) << r.output;
  EXPECT_EQ(withheld, 2) << r.output;  // 8 MiB arrays: the probe is never trusted
  EXPECT_NE(r.output.find("# MBU n/a for 2 rows:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("last-level cache"), std::string::npos) << r.output;
}

// The record is written, loads with the schema the planner reads (via `frugal plan`, which calls
// load_calibration), and holds one point per test with positive efficiencies within the bound the
// loader accepts (MBU is against the DRAM probe, so a test model inside the caches measures > 1;
// MFU is against the f32 FMA probe, which int8 VNNI kernels can pass).
TEST(Bench, SavesACalibrationRecordThePlannerLoads) {
  const std::string cal = temp_path("calibration.json");
  auto r = run_command(frugal_binary() + " bench -m " + data_path("models/tiny-q8_0.gguf") +
                       " -p 16 -n 8 -r 1 -t 1 --membw-mib 8 --calibration " + cal + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto doc = nlohmann::json::parse(testing::read_text_file(cal));
  EXPECT_EQ(doc["schema"], "frugal.calibration/1");
  EXPECT_GT(doc["read_gb_per_s"].get<double>(), 0);
  EXPECT_GT(doc["triad_gb_per_s"].get<double>(), 0);
  EXPECT_GT(doc["peak_flops_per_s"].get<double>(), 0);
  // The probe is stored with its method, spread and verdict (8 MiB arrays: not trusted).
  ASSERT_TRUE(doc.contains("probe")) << doc.dump();
  EXPECT_NE(doc["probe"]["method"].get<std::string>().find("streaming read"), std::string::npos);
  EXPECT_LE(doc["probe"]["read_min_gb_per_s"].get<double>(), doc["read_gb_per_s"].get<double>());
  EXPECT_GE(doc["probe"]["read_relative_spread"].get<double>(), 0);
  EXPECT_TRUE(doc["probe"]["host_quiet"].is_boolean());
  EXPECT_FALSE(doc["probe"]["trusted"].get<bool>());
  EXPECT_NE(doc["probe"]["verdict"].get<std::string>().find("MBU not reported"), std::string::npos);
  ASSERT_EQ(doc["points"].size(), 2u);
  for (const auto& p : doc["points"]) {
    EXPECT_EQ(p["weight_type"], "q8_0");
    EXPECT_GT(p["mbu"].get<double>(), 0);
    EXPECT_LE(p["mbu"].get<double>(), kMaxCalibratedEfficiency);
    EXPECT_GT(p["mfu"].get<double>(), 0);
    EXPECT_LE(p["mfu"].get<double>(), kMaxCalibratedEfficiency);
  }
  // The model it measured is predicted from it; an 8B model is not (a 0.3 MB model's speed does
  // not extrapolate 20,000-fold: issue #26), and the error says what to run.
  auto plan = run_command(frugal_binary() + " plan llm -m " + data_path("models/tiny-q8_0.gguf") +
                          " --hardware this-machine --context 32 --calibration " + cal + " --json 2>&1");
  EXPECT_EQ(plan.exit_code, 0) << plan.output;
  plan = run_command(frugal_binary() + " plan llm -m llama-3-8b --hardware this-machine --weights q8_0 --calibration " +
                     cal + " --json 2>&1");
  EXPECT_NE(plan.exit_code, 0) << plan.output;
  EXPECT_NE(plan.output.find("cannot predict llama-3-8b"), std::string::npos) << plan.output;
  EXPECT_NE(plan.output.find("frugal bench -m"), std::string::npos) << plan.output;
  std::filesystem::remove(cal);
}

TEST(MembwProbe, MeasuresPositiveFiniteBandwidth) {
  auto probe = MembwProbe::create(4 << 20);
  ASSERT_TRUE(probe) << probe.error().to_string();
  EXPECT_EQ(probe->array_bytes(), 4 << 20);
  ThreadPool pool(2);
  const MembwResult r = probe->measure(pool, 2);
  EXPECT_EQ(r.num_threads, 2);
  for (double v : {r.read_gb_per_s, r.copy_gb_per_s, r.triad_gb_per_s}) {
    EXPECT_GT(v, 0);
    EXPECT_TRUE(std::isfinite(v));
  }
}

TEST(MembwProbe, RejectsTinyArrays) {
  auto probe = MembwProbe::create(1000);
  ASSERT_FALSE(probe);
  EXPECT_EQ(probe.error().code(), StatusCode::kInvalidArgument);
}

// The probe's rate must be at least what a naive scalar multiply-add loop reaches: a probe that
// lost its vectorisation or its independent chains would fall below it.
TEST(FlopsProbe, BeatsAScalarDependentChain) {
  ThreadPool pool(1);
  const FlopsProbeResult probe = measure_peak_flops(pool, 0.02, 2);
  EXPECT_GT(probe.f32_flops_per_s, 0);
  EXPECT_FALSE(probe.variant.empty());
  volatile float seed = 1.0f;
  float acc = seed;
  constexpr int64_t kIterations = 20'000'000;
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < kIterations; ++i) acc = acc * 0.999999f + 1e-6f;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  volatile float sink = acc;
  (void)sink;
  EXPECT_GT(probe.f32_flops_per_s, 2.0 * kIterations / seconds);
}

}  // namespace
}  // namespace frugal

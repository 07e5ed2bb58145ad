// Calibrated prediction end to end (issue #5, "cost as a first-class number"): after `frugal bench`
// calibrates this machine, `frugal plan llm --hardware this-machine` predicts frugal's own measured
// decode tok/s within 10 % and prefill tok/s within 15 % at configurations the calibration did NOT
// measure (needs the `frugal` target built).
//
// Models: two random-weight models of one shape built with `frugal mkmodel`, f16 and q8_0.
// Calibrated (bench saves these points):   decode tg32 at KV depth 128, 192, 288, 384, 480 (a grid
//                                          every ~96 tokens); prefill pp64, pp128, pp256.
// Predicted (a separate bench run measures them, --no-save; the planner never saw them):
//                                          decode tg32 at depth 224, 256, 416 (contexts 241, 273, 433);
//                                          prefill pp96, pp192.
// Decode time on this VM is not linear in context below ~128 tokens (a knee between 128 and 256
// at depth 0..128 the step barely slows), so the decode grid starts at depth 128: piecewise-linear
// interpolation is only as good as the grid is dense where the curve bends.
// That is 2 types x 3 contexts = 6 decode configurations and 4 prefill ones, all interpolated.
//
// The machine is shared and noisy: each round calibrates and then verifies straight away; every
// bench figure is the best of kRepetitions timed runs on both sides (`--calibrate-with best` and
// the verification's tokens_per_s_max: the run least disturbed by other processes), and the
// comparison uses the median over kRounds rounds of both the prediction and the measurement. One thread, so that a busy second core
// slows the run less than it would slow a two-thread barrier.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/subprocess.h"
#include "common/test_data.h"

namespace frugal {
namespace {

using nlohmann::json;
using testing::data_path;
using testing::frugal_binary;
using testing::run_command;

constexpr int kRounds = 3;
constexpr int kRepetitions = 7;
constexpr int64_t kGenTokens = 32;
constexpr double kDecodeTolerance = 0.10;
constexpr double kPrefillTolerance = 0.15;
// When the machine's own run-to-run spread ((max - min) / median over the rounds, median over the
// configurations) is above this, no 10 % claim can be checked: the test skips and says so.
constexpr double kMaxMeasurementSpread = 0.10;
const std::vector<std::string> kTypes = {"f16", "q8_0"};
const std::vector<int64_t> kCalibratedDepths = {128, 192, 288, 384, 480};
const std::vector<int64_t> kPredictedDepths = {224, 256, 416};
const std::vector<int64_t> kCalibratedPrompts = {64, 128, 256};
const std::vector<int64_t> kPredictedPrompts = {96, 192};

std::string join(const std::vector<int64_t>& v) {
  std::string out;
  for (int64_t x : v) out += (out.empty() ? "" : ",") + std::to_string(x);
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t mid = v.size() / 2;
  return v.size() % 2 == 1 ? v[mid] : 0.5 * (v[mid - 1] + v[mid]);
}

// A configuration: "<type> tg32@d<depth>" or "<type> pp<prompt>".
struct Config {
  std::string type;
  int64_t depth = -1;   // decode when >= 0
  int64_t prompt = 0;   // prefill when > 0
  std::string name() const {
    return type + (prompt > 0 ? " pp" + std::to_string(prompt) : " tg32@d" + std::to_string(depth));
  }
  bool decode() const { return prompt == 0; }
};

std::vector<Config> predicted_configs() {
  std::vector<Config> out;
  for (const std::string& type : kTypes) {
    for (int64_t d : kPredictedDepths) out.push_back({type, d, 0});
    for (int64_t p : kPredictedPrompts) out.push_back({type, -1, p});
  }
  return out;
}

class CalibratedPrediction : public ::testing::Test {
 protected:
  void SetUp() override {
    // Timing belongs to benchmarks, not to `make test` on a shared machine: `make check-calibration`.
    if (std::getenv("FRUGAL_TIMING_CHECKS") == nullptr) {
      GTEST_SKIP() << "timing check: run `make check-calibration` (FRUGAL_TIMING_CHECKS=1) on a quiet machine";
    }
    dir_ = std::filesystem::temp_directory_path() / ("frugal_calib_pred_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    for (const std::string& type : kTypes) {
      const std::string out = model(type);
      auto r = run_command(frugal_binary() + " mkmodel --vocab " + data_path("models/small-q8_0.gguf") + " -o " + out +
                           " --type " + type +
                           " --n-layer 4 --n-embd 384 --n-head 6 --n-head-kv 2 --n-ff 1024 --ctx 1024 2>&1");
      ASSERT_EQ(r.exit_code, 0) << r.output;
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string model(const std::string& type) const { return (dir_ / ("m-" + type + ".gguf")).string(); }
  std::string models() const { return model(kTypes[0]) + "," + model(kTypes[1]); }

  // `frugal bench --json` rows keyed by Config::name(); saves a calibration unless path is empty.
  std::map<std::string, double> bench(const std::vector<int64_t>& prompts, const std::vector<int64_t>& depths,
                                      const std::string& calibration_path) {
    const std::string save =
        calibration_path.empty() ? " --no-save" : " --calibrate-with best --calibration " + calibration_path;
    auto r = run_command(frugal_binary() + " bench --json -t 1 --membw-mib 32 -r " + std::to_string(kRepetitions) +
                         " -m " + models() + " -p " + join(prompts) + " -n " + std::to_string(kGenTokens) + " -d " +
                         join(depths) + save + " 2>/dev/null");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::map<std::string, double> rows;
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
      if (line.empty() || line[0] != '{') continue;
      const json j = json::parse(line);
      const std::string type = j["model"].get<std::string>() == model(kTypes[0]) ? kTypes[0] : kTypes[1];
      EXPECT_EQ(j["weight_type"].get<std::string>(), type);
      Config c{type, j["n_prompt"].get<int64_t>() > 0 ? -1 : j["n_depth"].get<int64_t>(), j["n_prompt"].get<int64_t>()};
      rows[c.name()] = j["tokens_per_s_max"].get<double>();
    }
    return rows;
  }

  // The planner's tok/s for a configuration from a calibration file.
  double predict(const Config& c, const std::string& calibration_path) {
    // A tg test at depth d steps over mean context d + 1 + (n + 1) / 2 (as bench records it).
    const int64_t context = c.decode() ? c.depth + 1 + (kGenTokens + 1) / 2 : c.prompt;
    auto r = run_command(frugal_binary() + " plan llm --model " + model(c.type) + " --hardware this-machine --weights " +
                         c.type + " --batch 1 --context " + std::to_string(context) + " --prompt-tokens " +
                         std::to_string(c.decode() ? 1 : c.prompt) + " --calibration " + calibration_path +
                         " --json 2>&1");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    if (r.exit_code != 0) return 0;
    const json j = json::parse(r.output);
    EXPECT_TRUE(j["calibrated"].get<bool>());
    EXPECT_EQ(j["weights"].get<std::string>(), c.type);
    return j[c.decode() ? "decode_tokens_per_s" : "prefill_tokens_per_s"].get<double>();
  }

  std::filesystem::path dir_;
};

TEST_F(CalibratedPrediction, PlannerPredictsUnmeasuredConfigurationsOfFrugalItself) {
  const std::vector<Config> configs = predicted_configs();
  ASSERT_GE(configs.size(), 6u);
  std::map<std::string, std::vector<double>> predicted, measured;
  for (int round = 0; round < kRounds; ++round) {
    const std::string calibration = (dir_ / ("calibration-" + std::to_string(round) + ".json")).string();
    bench(kCalibratedPrompts, kCalibratedDepths, calibration);
    ASSERT_TRUE(std::filesystem::exists(calibration)) << "bench did not save " << calibration;
    const std::map<std::string, double> rows = bench(kPredictedPrompts, kPredictedDepths, "");
    for (const Config& c : configs) {
      ASSERT_TRUE(rows.count(c.name())) << "bench did not measure " << c.name();
      measured[c.name()].push_back(rows.at(c.name()));
      predicted[c.name()].push_back(predict(c, calibration));
    }
  }
  std::string table = "config              predicted   measured   error  spread\n";
  std::vector<double> spreads, errors;
  for (const Config& c : configs) {
    const std::vector<double>& m = measured[c.name()];
    spreads.push_back((*std::max_element(m.begin(), m.end()) - *std::min_element(m.begin(), m.end())) / median(m));
    const double p = median(predicted[c.name()]);
    errors.push_back(std::fabs(p - median(m)) / median(m));
    char row[160];
    std::snprintf(row, sizeof(row), "%-18s %10.1f %10.1f %6.1f%% %6.1f%%\n", c.name().c_str(), p, median(m),
                  100 * errors.back(), 100 * spreads.back());
    table += row;
  }
  std::printf("%s", table.c_str());
  const double spread = median(spreads);
  if (spread > kMaxMeasurementSpread) {
    GTEST_SKIP() << "this machine is too busy to check a 10 % prediction: its own measurements vary by "
                 << 100 * spread << " % between rounds (limit " << 100 * kMaxMeasurementSpread << " %)";
  }
  for (size_t i = 0; i < configs.size(); ++i) {
    EXPECT_LE(errors[i], configs[i].decode() ? kDecodeTolerance : kPrefillTolerance) << configs[i].name();
  }
  RecordProperty("table", table);
}

}  // namespace
}  // namespace frugal

// Calibrated prediction end to end (issue #5, "cost as a first-class number"): after `frugal bench`
// calibrates this machine, `frugal plan llm --hardware this-machine` predicts frugal's own measured
// decode tok/s within 10 % and prefill tok/s within 15 % at configurations the calibration did NOT
// measure (needs the `frugal` target built).
//
// Models: two random-weight models of one shape built with `frugal mkmodel`, f16 and q8_0.
// Calibration points:  decode tg128 at KV depth 128, 192, 288, 384, 480 (a grid every ~96 tokens);
//                      prefill pp128, pp256, pp512.
// Predicted points:    decode tg128 at depth 224, 256, 416 (mean contexts 289, 321, 481);
//                      prefill pp192, pp384.
// Each round is ONE interleaved `frugal bench` run over all of these (`--interleave`: repetition r
// of every test before repetition r + 1 of any), so that calibration and verification see the same
// spell of a shared, noisy machine; the predicted points are then deleted from the saved record
// before the planner reads it, so the planner never sees them. (Two separate runs were biased: the
// longer calibration run's best-of-N caught faster moments than the verification run's.)
// Decode time on this VM is not linear in context below ~128 tokens (a knee between 128 and 256
// at depth 0..128 the step barely slows), so the decode grid starts at depth 128: piecewise-linear
// interpolation is only as good as the grid is dense where the curve bends.
// That is 2 types x 3 contexts = 6 decode configurations and 4 prefill ones, all interpolated.
//
// Every bench figure is the median of kRepetitions timed runs (`--calibrate-with median` and the
// rows' tokens_per_s_median; interleaved, repetition r of every test runs in the same few seconds,
// so the medians of two tests are comparable, where a best-of-N is an extreme that depends on
// luck), and the error is that of the median over kRounds rounds of the per-round ratio
// prediction / measurement (paired: both come from one run). Generation tests run
// 128 tokens and prompts are >= 128 tokens (a 32-token run of the q8_0 model lasts ~16 ms, within
// one scheduler slice of a neighbour). One thread, so that a busy second core slows the run less than it would slow a
// two-thread barrier.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/paired_rounds.h"
#include "common/subprocess.h"
#include "common/test_data.h"

namespace frugal {
namespace {

using nlohmann::json;
using testing::data_path;
using testing::frugal_binary;
using testing::median;
using testing::run_command;

constexpr int kRounds = 7;
constexpr int kRepetitions = 7;
constexpr int64_t kGenTokens = 128;
constexpr double kDecodeTolerance = 0.10;
constexpr double kPrefillTolerance = 0.15;
// When the machine's own run-to-run spread ((max - min) / median over the rounds, median over the
// configurations) is above this, a miss cannot be blamed on the model: the test then skips and
// says so (a pass still counts).
constexpr double kMaxMeasurementSpread = 0.10;
const std::vector<std::string> kTypes = {"f16", "q8_0"};
const std::vector<int64_t> kCalibratedDepths = {128, 192, 288, 384, 480};
const std::vector<int64_t> kPredictedDepths = {224, 256, 416};
const std::vector<int64_t> kCalibratedPrompts = {128, 256, 512};
const std::vector<int64_t> kPredictedPrompts = {192, 384};

std::string join(const std::vector<int64_t>& v) {
  std::string out;
  for (int64_t x : v) out += (out.empty() ? "" : ",") + std::to_string(x);
  return out;
}

// A configuration: "<type> tg@d<depth>" or "<type> pp<prompt>".
struct Config {
  std::string type;
  int64_t depth = -1;   // decode when >= 0
  int64_t prompt = 0;   // prefill when > 0
  std::string name() const {
    return type + (prompt > 0 ? " pp" + std::to_string(prompt) : " tg@d" + std::to_string(depth));
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
    FRUGAL_REQUIRE_TIMING_CHECKS();
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

  // One interleaved `frugal bench --json` run: rows keyed by Config::name(); saves a calibration.
  std::map<std::string, double> bench(const std::vector<int64_t>& prompts, const std::vector<int64_t>& depths,
                                      const std::string& calibration_path) {
    auto r = run_command(frugal_binary() + " bench --json --interleave -t 1 --membw-mib 32 -r " +
                         std::to_string(kRepetitions) + " -m " + models() + " -p " + join(prompts) + " -n " +
                         std::to_string(kGenTokens) + " -d " + join(depths) + " --calibrate-with median --calibration " +
                         calibration_path + " 2>/dev/null");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::map<std::string, double> rows;
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
      if (line.empty() || line[0] != '{') continue;
      const json j = json::parse(line);
      const std::string type = j["model"].get<std::string>() == model(kTypes[0]) ? kTypes[0] : kTypes[1];
      EXPECT_EQ(j["weight_type"].get<std::string>(), type);
      Config c{type, j["n_prompt"].get<int64_t>() > 0 ? -1 : j["n_depth"].get<int64_t>(), j["n_prompt"].get<int64_t>()};
      rows[c.name()] = j["tokens_per_s_median"].get<double>();
    }
    return rows;
  }

  // Rewrites the calibration record without the points of `configs`; returns how many it removed.
  static int remove_points(const std::string& calibration_path, const std::vector<Config>& configs) {
    return testing::remove_record_points(calibration_path, [&](const json& p) {
      const bool prefill = p["phase"].get<std::string>() == "prefill";
      return std::any_of(configs.begin(), configs.end(), [&](const Config& c) {
        return p["weight_type"].get<std::string>() == c.type && prefill == !c.decode() &&
               p["context"].get<int64_t>() == context_of(c);
      });
    });
  }

  // The context the planner is asked about (and bench records): a tg test at depth d steps over
  // mean context d + 1 + (n + 1) / 2; a pp test's context is its prompt.
  static int64_t context_of(const Config& c) { return c.decode() ? c.depth + 1 + (kGenTokens + 1) / 2 : c.prompt; }

  // The planner's tok/s for a configuration from a calibration file.
  double predict(const Config& c, const std::string& calibration_path) {
    const int64_t context = context_of(c);
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
    std::vector<int64_t> prompts = kCalibratedPrompts, depths = kCalibratedDepths;
    prompts.insert(prompts.end(), kPredictedPrompts.begin(), kPredictedPrompts.end());
    depths.insert(depths.end(), kPredictedDepths.begin(), kPredictedDepths.end());
    const std::map<std::string, double> rows = bench(prompts, depths, calibration);
    ASSERT_TRUE(std::filesystem::exists(calibration)) << "bench did not save " << calibration;
    ASSERT_EQ(remove_points(calibration, configs), static_cast<int>(configs.size()))
        << "the predicted points must be taken out of the record the planner reads";
    for (const Config& c : configs) {
      ASSERT_TRUE(rows.count(c.name())) << "bench did not measure " << c.name();
      measured[c.name()].push_back(rows.at(c.name()));
      predicted[c.name()].push_back(predict(c, calibration));
    }
  }
  // A round's prediction and measurement come from one run (one spell of the machine): the error
  // is that of the median over rounds of their ratio.
  std::vector<testing::PairedRow> rows;
  for (const Config& c : configs) {
    const std::vector<double>& m = measured[c.name()];
    const double spread = (*std::max_element(m.begin(), m.end()) - *std::min_element(m.begin(), m.end())) / median(m);
    rows.push_back({c.name(), predicted[c.name()], m, spread});
  }
  const testing::PairedReport report = testing::paired_report(
      rows, "config              predicted   measured   error  spread  predicted/measured per round", 18, "%10.1f");
  const std::string& table = report.table;
  const std::vector<double>& errors = report.errors;
  std::printf("%s", table.c_str());
  const double spread = report.median_spread;
  bool all_within = true;
  for (size_t i = 0; i < configs.size(); ++i) {
    all_within = all_within && errors[i] <= (configs[i].decode() ? kDecodeTolerance : kPrefillTolerance);
  }
  // A miss on a machine whose own measurements vary by more than the tolerance is inconclusive
  // (the machine, not the model, may be off). A pass is not: noise does not make an independent
  // prediction and measurement agree.
  if (!all_within && spread > kMaxMeasurementSpread) {
    GTEST_SKIP() << "inconclusive: a prediction missed, but this machine's own measurements vary by "
                 << 100 * spread << " % between rounds (limit " << 100 * kMaxMeasurementSpread << " %)\n"
                 << table;
  }
  for (size_t i = 0; i < configs.size(); ++i) {
    EXPECT_LE(errors[i], configs[i].decode() ? kDecodeTolerance : kPrefillTolerance) << configs[i].name();
  }
  RecordProperty("table", table);
}

}  // namespace
}  // namespace frugal

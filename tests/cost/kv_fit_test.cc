// Memory fit is never wrong (issue #5): `frugal plan llm` predicts the --kv-mem that frugal's own
// engine needs for a sequence of C tokens (prompt + generated), and `frugal serve --kv-mem X` agrees
// at X = predicted (fits), predicted + one block (fits), and predicted - one block or - one byte
// (does not fit: the request is cut short, or rejected with a 400 naming the context, never a crash
// or a hang). Also checks the planner's KvBudget arithmetic (needs the `frugal` target built).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/serve_process.h"
#include "common/subprocess.h"
#include "common/test_data.h"
#include "cost/calibration.h"
#include "cost/kv_budget.h"
#include "gguf/gguf_reader.h"

namespace frugal {
namespace {

using nlohmann::json;
using testing::data_path;
using testing::frugal_binary;
using testing::run_command;
using testing::ServeProcess;

// The served model: 4 layers, 4 KV heads of 32 dims (GQA: 8 query heads), context 512.
const std::string kModel = "models/small-q8_0.gguf";

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("frugal_kv_fit_" + std::to_string(::getpid()) + "_" + name)).string();
}

// The engine's f32 KV row from the file's own metadata (not from the planner): K and V of every layer.
double kv_bytes_per_token_from_file() {
  auto f = GgufFile::open(data_path(kModel));
  EXPECT_TRUE(f.has_value());
  const double n_layer = static_cast<double>(*f->get_uint("llama.block_count"));
  const double n_head = static_cast<double>(*f->get_uint("llama.attention.head_count"));
  const double n_head_kv = static_cast<double>(*f->get_uint("llama.attention.head_count_kv"));
  const double n_embd = static_cast<double>(*f->get_uint("llama.embedding_length"));
  return 2.0 * n_layer * n_head_kv * (n_embd / n_head) * 4.0;
}

// A this-machine calibration record (the KV default is f32 only there).
std::string write_calibration() {
  CalibrationRecord rec;
  rec.machine_id = "kv-fit-test";
  rec.memory_bytes = 16e9;
  rec.read_gb_per_s = 10;
  rec.triad_gb_per_s = 10;
  rec.peak_flops_per_s = 1e11;
  const std::string path = temp_path("calibration.json");
  EXPECT_TRUE(save_calibration(rec, path).is_ok());
  return path;
}

json plan(const std::string& args) {
  auto r = run_command(frugal_binary() + " plan llm --model " + data_path(kModel) + " --hardware this-machine " + args +
                       " --json 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.exit_code == 0 ? json::parse(r.output) : json::object();
}

struct Completion {
  int http_status = 0;
  json body;
};

// POST /v1/completions with a token-id prompt; bounded by curl's --max-time (no hang).
Completion complete(int port, int64_t prompt_tokens, int64_t max_tokens) {
  json prompt = json::array();
  for (int64_t i = 0; i < prompt_tokens; ++i) prompt.push_back(10 + i % 400);
  const json request = {{"model", "small"}, {"prompt", prompt}, {"max_tokens", max_tokens},
                        {"temperature", 0}, {"ignore_eos", true}};
  const std::string request_path = temp_path("request.json"), body_path = temp_path("body.json");
  std::ofstream(request_path) << request.dump();
  auto r = run_command("curl -s --max-time 60 -o " + body_path + " -w '%{http_code}' -H 'Content-Type: application/json' "
                       "-d @" + request_path + " http://127.0.0.1:" + std::to_string(port) + "/v1/completions");
  Completion c;
  c.http_status = std::atoi(r.output.c_str());
  const std::string body = testing::read_text_file(body_path);
  c.body = json::parse(body, nullptr, false);
  std::filesystem::remove(request_path);
  std::filesystem::remove(body_path);
  return c;
}

// Serves with --kv-mem bytes and sends one request of prompt + max_tokens tokens.
Completion serve_one(double kv_mem_bytes, int64_t prompt_tokens, int64_t max_tokens, std::string* log) {
  ServeProcess serve({"--kv-mem", std::to_string(static_cast<int64_t>(kv_mem_bytes)), "--max-running", "1"},
                     data_path(kModel));
  const int port = serve.wait_for_port();
  EXPECT_GT(port, 0) << serve.log();
  if (port <= 0) return {};
  Completion c = complete(port, prompt_tokens, max_tokens);
  // Whatever the outcome, the server is still up and answers a request that fits.
  const Completion after = complete(port, 4, 1);
  EXPECT_EQ(after.http_status, 200) << after.body.dump() << "\n" << serve.log();
  EXPECT_EQ(serve.stop(), 0) << serve.log();
  *log = serve.log();
  return c;
}

int64_t completion_tokens(const Completion& c) {
  return c.body.is_object() && c.body.contains("usage") ? c.body["usage"]["completion_tokens"].get<int64_t>() : -1;
}

TEST(KvBudget, BlocksAndBytesFollowTheEngineRounding) {
  const KvBudget kv{4096.0, 16};
  EXPECT_EQ(kv.blocks_for_context(0), 0);
  EXPECT_EQ(kv.blocks_for_context(1), 1);
  EXPECT_EQ(kv.blocks_for_context(16), 1);
  EXPECT_EQ(kv.blocks_for_context(17), 2);
  EXPECT_DOUBLE_EQ(kv.kv_mem_bytes_for(3, 50), 3 * 4 * 16 * 4096.0);
  EXPECT_EQ(kv.max_context_at(4 * 16 * 4096.0, 1), 64);
  EXPECT_EQ(kv.max_context_at(4 * 16 * 4096.0 - 1, 1), 48);  // whole blocks only
  EXPECT_EQ(kv.max_context_at(7 * 16 * 4096.0, 2), 48);      // 3 blocks each, one left over
  EXPECT_EQ(kv.max_context_at(15 * 4096.0, 1), 0);
}

TEST(KvFit, PlannerReportsFrugalsF32CacheAndTheBudgetRoundTrips) {
  const std::string calibration = write_calibration();
  const json j = plan("--batch 2 --context 50 --calibration " + calibration);
  const double per_token = kv_bytes_per_token_from_file();
  EXPECT_DOUBLE_EQ(j["kv_bytes_per_token"].get<double>(), per_token);
  EXPECT_DOUBLE_EQ(j["kv_bytes_per_block"].get<double>(), 16 * per_token);
  EXPECT_EQ(j["kv_blocks_for_context"].get<int64_t>(), 2 * 4);  // ceil(50 / 16) = 4 blocks per sequence
  EXPECT_DOUBLE_EQ(j["kv_mem_bytes_for_context"].get<double>(), 2 * 4 * 16 * per_token);
  // --kv-type f16 halves it; with --kv-mem the largest context comes back.
  EXPECT_DOUBLE_EQ(plan("--context 50 --kv-type f16 --calibration " + calibration)["kv_bytes_per_token"].get<double>(),
                   per_token / 2);
  const json back = plan("--batch 2 --context 50 --kv-mem " + std::to_string(static_cast<int64_t>(8 * 16 * per_token)) +
                         " --calibration " + calibration);
  EXPECT_EQ(back["max_context_at_kv_mem"].get<int64_t>(), 64);
  std::filesystem::remove(calibration);
}

TEST(KvFit, ServeAtThePredictedLimitPlusMinusOneBlock) {
  const std::string calibration = write_calibration();
  // Case 1: 40 prompt tokens + 10 generated = 50 tokens -> 4 blocks of 16.
  constexpr int64_t kPrompt = 40, kGenerate = 10;
  const json j = plan("--batch 1 --context " + std::to_string(kPrompt + kGenerate) + " --calibration " + calibration);
  const double predicted = j["kv_mem_bytes_for_context"].get<double>();
  const double block = j["kv_bytes_per_block"].get<double>();
  ASSERT_GT(predicted, 0);
  std::string log;
  for (double kv_mem : {predicted, predicted + block}) {
    const Completion c = serve_one(kv_mem, kPrompt, kGenerate, &log);
    EXPECT_EQ(c.http_status, 200) << "--kv-mem " << kv_mem << ": " << c.body.dump() << "\n" << log;
    EXPECT_EQ(completion_tokens(c), kGenerate) << "--kv-mem " << kv_mem << " must fit: " << c.body.dump();
  }
  for (double kv_mem : {predicted - block, predicted - 1}) {
    const Completion c = serve_one(kv_mem, kPrompt, kGenerate, &log);
    // Does not fit: the engine's context is 48 tokens, so generation stops after 8 of the 10.
    EXPECT_EQ(c.http_status, 200) << c.body.dump() << "\n" << log;
    EXPECT_LT(completion_tokens(c), kGenerate) << "--kv-mem " << kv_mem << " must not fit: " << c.body.dump();
    EXPECT_EQ(completion_tokens(c), plan("--kv-mem " + std::to_string(static_cast<int64_t>(kv_mem)) + " --calibration " +
                                         calibration)["max_context_at_kv_mem"].get<int64_t>() - kPrompt);
  }
  // Case 2: a 48-token prompt + 1 generated = 49 tokens -> 4 blocks; one block less (48 tokens)
  // leaves no room for the token after the prompt: the request is rejected with a clear 400.
  const json j2 = plan("--batch 1 --context 49 --calibration " + calibration);
  const Completion fits = serve_one(j2["kv_mem_bytes_for_context"].get<double>(), 48, 1, &log);
  EXPECT_EQ(fits.http_status, 200) << fits.body.dump() << "\n" << log;
  EXPECT_EQ(completion_tokens(fits), 1);
  const Completion rejected = serve_one(j2["kv_mem_bytes_for_context"].get<double>() - block, 48, 1, &log);
  EXPECT_EQ(rejected.http_status, 400) << rejected.body.dump() << "\n" << log;
  ASSERT_TRUE(rejected.body.is_object() && rejected.body.contains("error")) << rejected.body.dump();
  const std::string message = rejected.body["error"]["message"].get<std::string>();
  EXPECT_NE(message.find("48 tokens"), std::string::npos) << message;  // names the prompt and the limit
  EXPECT_NE(message.find("context"), std::string::npos) << message;
  std::filesystem::remove(calibration);
}

}  // namespace
}  // namespace frugal

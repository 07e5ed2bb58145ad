// End-to-end tests of the `frugal` binary: tokenize, logits, inspect, run, mkmodel, and errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "common/subprocess.h"
#include "common/test_data.h"

namespace frugal {
namespace {

using testing::data_path;
using testing::frugal_binary;
using testing::run_command;

// Single-quotes a string for /bin/sh (a ' inside becomes '\'').
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("frugal_cli_test_" + std::to_string(::getpid()) + "_" + name)).string();
}

// Every reference string through the CLI: default flags (BOS) with --parse-special, and --no-bos.
TEST(Cli, TokenizeMatchesLlamaCppIds) {
  const auto vectors = nlohmann::json::parse(testing::read_text_file(data_path("tokenizer/llama3.json")));
  ASSERT_GE(vectors["entries"].size(), 30u);
  for (const auto& entry : vectors["entries"]) {
    const std::string text = entry["text"];
    const std::string base = frugal_binary() + " tokenize -m " + data_path("models/llama3-vocab.gguf");
    auto r = run_command(base + " --no-bos -- " + quoted(text));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(nlohmann::json::parse(r.output).get<std::vector<int32_t>>(), entry["ids"].get<std::vector<int32_t>>()) << text;
    r = run_command(base + " --parse-special -- " + quoted(text));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(nlohmann::json::parse(r.output).get<std::vector<int32_t>>(),
              entry["ids_bos_parse_special"].get<std::vector<int32_t>>()) << text;
  }
}

TEST(Cli, LogitsMatchReferenceVectors) {
  const auto meta = nlohmann::json::parse(testing::read_text_file(data_path("llama/vectors/tiny-f32/meta.json")));
  const auto& p0 = meta["prompts"][0];
  const std::string out = temp_path("logits.f32");
  auto r = run_command(frugal_binary() + " logits -m " + data_path("models/tiny-f32.gguf") + " -t 2 -p " +
                       quoted(p0["text"].get<std::string>()) + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(nlohmann::json::parse(r.output).get<std::vector<int32_t>>(), p0["prompt_ids"].get<std::vector<int32_t>>());
  const auto ours = testing::read_f32_file(out);
  const auto ref = testing::read_f32_file(data_path("llama/vectors/tiny-f32/p0.prompt_logits.f32"));
  ASSERT_EQ(ours.size(), ref.size());
  double max_diff = 0;
  for (size_t i = 0; i < ref.size(); ++i) max_diff = std::max(max_diff, std::fabs(static_cast<double>(ours[i]) - ref[i]));
  EXPECT_LE(max_diff, 1e-3);

  // --ids feeds given tokens (teacher forcing): same result.
  std::string ids;
  for (int32_t id : p0["prompt_ids"]) ids += (ids.empty() ? "" : ",") + std::to_string(id);
  r = run_command(frugal_binary() + " logits -m " + data_path("models/tiny-f32.gguf") + " --ids " + ids + " --out " + out + "2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(testing::read_f32_file(out + "2"), ours);
  std::remove(out.c_str());
  std::remove((out + "2").c_str());
}

TEST(Cli, InspectPrintsParametersAndMemory) {
  auto r = run_command(frugal_binary() + " inspect " + data_path("models/small-q4_0.gguf") + " -c 256");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("general.architecture"), std::string::npos);
  EXPECT_NE(r.output.find("token_embd.weight"), std::string::npos);
  EXPECT_NE(r.output.find("Q6_K"), std::string::npos);
  EXPECT_NE(r.output.find("parameters: 3082496"), std::string::npos) << r.output;
  // 4 layers x 256 positions x 128 (kv dim) x 2 (K and V) x 4 bytes = 1 MiB
  EXPECT_NE(r.output.find("KV cache f32 1.00 MiB"), std::string::npos) << r.output;
}

TEST(Cli, RunGeneratesAndSummarises) {
  auto r = run_command(frugal_binary() + " run -m " + data_path("models/small-q8_0.gguf") +
                       " -p 'The quick brown fox' -n 8 --temp 0 --ignore-eos -t 2 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.rfind("The quick brown fox", 0), 0u) << r.output;
  EXPECT_NE(r.output.find("generated 8 tokens"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("finish: length"), std::string::npos) << r.output;
}

TEST(Cli, MkmodelWritesLoadableModelsOfEveryArchAndType) {
  for (const std::string& args : {std::string("--preset tiny --type q4_0"), std::string("--preset tiny --type q4_k_m"),
                                  std::string("--arch qwen2 --n-layer 2 --n-embd 128 --n-head 4 --n-head-kv 1 --n-ff 256 --ctx 64 --tie --type q8_0"),
                                  std::string("--preset tiny --type f16 --n-layer 1")}) {
    const std::string out = temp_path("mk.gguf");
    auto r = run_command(frugal_binary() + " mkmodel " + args + " --vocab " + data_path("models/tiny-f32.gguf") +
                         " -o " + out + " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << args << "\n" << r.output;
    r = run_command(frugal_binary() + " run -m " + out + " -p hello -n 4 --temp 0 --ignore-eos 2>&1");
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.output;
    EXPECT_NE(r.output.find("generated 4 tokens"), std::string::npos) << r.output;
    std::remove(out.c_str());
  }
}

// MoE presets and a quantized 3-D expert file through quantize: load and generate; the router
// stays F32 and the expert stacks take the requested type; inspect reports the experts.
TEST(Cli, MkmodelAndQuantizeMixtureOfExpertsModels) {
  for (const std::string& args : {std::string("--preset tiny-mixtral --type q4_0"), std::string("--preset tiny-qwen2moe --type q4_k_m"),
                                  std::string("--preset tiny-qwen3moe --type q8_0"), std::string("--preset tiny-olmoe --type f16"),
                                  std::string("--arch qwen3moe --n-layer 1 --n-embd 64 --n-head 4 --n-ff 64 --ctx 64 --n-expert 4 --n-expert-used 1 --type f32")}) {
    const std::string out = temp_path("moe.gguf");
    auto r = run_command(frugal_binary() + " mkmodel " + args + " --vocab " + data_path("models/tiny-f32.gguf") + " -o " + out + " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << args << "\n" << r.output;
    r = run_command(frugal_binary() + " run -m " + out + " -p hello -n 4 --temp 0 --ignore-eos 2>&1");
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.output;
    EXPECT_NE(r.output.find("generated 4 tokens"), std::string::npos) << r.output;
    std::remove(out.c_str());
  }
  const std::string q = temp_path("moe-q4.gguf");
  auto r = run_command(frugal_binary() + " quantize " + data_path("models/tiny-mixtral-f32.gguf") + " " + q + " q4_0 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(frugal_binary() + " inspect " + q);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("blk.0.ffn_gate_inp.weight          F32"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("blk.0.ffn_up_exps.weight           Q4_0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("experts: 4 per layer, 2 used per token"), std::string::npos) << r.output;
  r = run_command(frugal_binary() + " run -m " + q + " -p hello -n 4 --temp 0 --ignore-eos 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::remove(q.c_str());
  r = run_command(frugal_binary() + " mkmodel --arch olmoe --n-layer 1 --n-embd 64 --n-head 4 --n-ff 64 --ctx 64 --vocab " +
                  data_path("models/tiny-f32.gguf") + " -o /tmp/x 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--n-expert"), std::string::npos) << r.output;
}

TEST(Cli, MkmodelQ4_0PutsTheOutputMatrixInQ6K) {
  const std::string out = temp_path("q40.gguf");
  auto r = run_command(frugal_binary() + " mkmodel --preset tiny --type q4_0 --tie --vocab " + data_path("models/tiny-f32.gguf") +
                       " -o " + out + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(frugal_binary() + " inspect " + out);
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("token_embd.weight                  Q6_K"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("blk.0.attn_q.weight                Q4_0"), std::string::npos) << r.output;
  std::remove(out.c_str());
}

TEST(Cli, BadInputGivesClearErrorsAndExitCodes) {
  auto r = run_command(frugal_binary() + " run -m /nonexistent.gguf -p hi 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("/nonexistent.gguf"), std::string::npos) << r.output;
  r = run_command(frugal_binary() + " logits -m " + data_path("models/tiny-f32.gguf") + " --ids 1,x --out /tmp/x 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("'x'"), std::string::npos) << r.output;
  r = run_command(frugal_binary() + " logits -m " + data_path("models/tiny-f32.gguf") + " --ids 1,600 --out /tmp/x 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("600"), std::string::npos) << r.output;
  r = run_command(frugal_binary() + " run -m " + data_path("models/tiny-f32.gguf") + " -c 8 -p " +
                  quoted("a long prompt that is longer than eight tokens for sure") + " 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("context"), std::string::npos) << r.output;
  r = run_command(frugal_binary() + " mkmodel --preset nope --vocab " + data_path("models/tiny-f32.gguf") + " -o /tmp/x 2>&1");
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace frugal

namespace frugal {
namespace {

// frugal's quantizer on the reference F32 model: the Q8_0 result stays close to llama.cpp's own
// Q8_0 file's logits (both quantize the same weights).
TEST(Cli, QuantizeProducesAModelCloseToLlamaCppsQuantization) {
  const std::string out = temp_path("q8.gguf");
  auto r = run_command(frugal_binary() + " quantize " + data_path("models/tiny-f32.gguf") + " " + out + " q8_0 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(frugal_binary() + " inspect " + out);
  EXPECT_NE(r.output.find("blk.0.attn_q.weight                Q8_0"), std::string::npos) << r.output;
  const std::string logits = temp_path("q8.f32");
  const auto meta = nlohmann::json::parse(testing::read_text_file(data_path("llama/vectors/tiny-q8_0/meta.json")));
  std::string ids;
  for (int32_t id : meta["prompts"][1]["prompt_ids"]) ids += (ids.empty() ? "" : ",") + std::to_string(id);
  r = run_command(frugal_binary() + " logits -m " + out + " --ids " + ids + " --out " + logits);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto ours = testing::read_f32_file(logits);
  const auto ref = testing::read_f32_file(data_path("llama/vectors/tiny-q8_0/p1.prompt_logits.f32"));
  ASSERT_EQ(ours.size(), ref.size());
  double max_diff = 0;
  for (size_t i = 0; i < ref.size(); ++i) max_diff = std::max(max_diff, std::fabs(static_cast<double>(ours[i]) - ref[i]));
  EXPECT_LE(max_diff, 0.05) << "max diff " << max_diff;
  std::remove(out.c_str());
  std::remove(logits.c_str());
}

}  // namespace
}  // namespace frugal

#include "common/serve_process.h"

namespace frugal {
namespace {

// `frugal loadgen` against a real `frugal serve`: every request completes and the report has its keys.
TEST(Cli, LoadgenDrivesAServerAndReportsLatencies) {
  testing::ServeProcess server({});
  const int port = server.wait_for_port();
  ASSERT_GT(port, 0) << server.log();
  auto r = run_command(frugal_binary() + " loadgen --port " + std::to_string(port) +
                       " -c 3 -n 6 --prompt-tokens 24 --max-tokens 8 --shared-prefix-tokens 16 --vocab-low 10 "
                       "--vocab-high 500 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto report = nlohmann::json::parse(r.output);
  EXPECT_EQ(report["requests_ok"], 6);
  EXPECT_EQ(report["requests_failed"], 0);
  EXPECT_TRUE(report["failures"].empty()) << report.dump();
  EXPECT_EQ(report["output_tokens"], 6 * 8);
  EXPECT_GT(report["output_tokens_per_s"].get<double>(), 0.0);
  EXPECT_GT(report["ttft_s"]["p50"].get<double>(), 0.0);
  EXPECT_LE(report["ttft_s"]["p50"].get<double>(), report["ttft_s"]["p99"].get<double>());
  EXPECT_GT(report["itl_s"]["mean"].get<double>(), 0.0);
  // The shared prefix was served from the prefix cache.
  auto metrics = run_command("curl -s http://127.0.0.1:" + std::to_string(port) + "/metrics");
  EXPECT_EQ(metrics.output.find("frugal_cached_prompt_tokens_total 0\n"), std::string::npos) << metrics.output;
}

// Failed requests are counted by reason (the HTTP status and the server's message): here every
// request names a model the server does not have.
TEST(Cli, LoadgenReportsWhyRequestsFailed) {
  testing::ServeProcess server({});
  const int port = server.wait_for_port();
  ASSERT_GT(port, 0) << server.log();
  auto r = run_command(frugal_binary() + " loadgen --port " + std::to_string(port) +
                       " --model no-such-model -c 2 -n 3 --prompt-tokens 8 --max-tokens 2 --vocab-low 10 --vocab-high 500 --json");
  EXPECT_EQ(r.exit_code, 1) << r.output;  // a failed request fails the run
  const auto report = nlohmann::json::parse(r.output);
  EXPECT_EQ(report["requests_ok"], 0);
  EXPECT_EQ(report["requests_failed"], 3);
  // Keyed by the status and the server's own message, which is what the user needs to read.
  ASSERT_EQ(report["failures"].size(), 1u) << report.dump();
  const std::string reason = report["failures"].begin().key();
  EXPECT_EQ(reason.rfind("http 404: ", 0), 0u) << reason;
  EXPECT_NE(reason.find("no-such-model"), std::string::npos) << reason;
  EXPECT_EQ(report["failures"].begin().value(), 3) << report.dump();
}

TEST(Cli, LoadgenRefusesNonLoopbackTargets) {
  auto r = run_command(frugal_binary() + " loadgen --host 10.1.2.3 -n 1 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("loopback"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace frugal

namespace frugal {
namespace {

// `frugal chat` on the bundled target model, driven through stdin: two turns stream replies (the
// second turn reuses the first's KV), /reset starts over, /exit quits. Greedy, so reproducible.
TEST(Cli, ChatStreamsRepliesTurnByTurn) {
  const std::string model = std::string(FRUGAL_TEST_DATA_DIR) + "/../../models/kjv-target-f16.gguf";
  const std::string cmd = "printf 'And God said\\nWho is the LORD?\\n/reset\\nAmen\\n/exit\\nnever read\\n' | " +
                          frugal_binary() + " chat -m " + model + " -n 12 --temp 0 -t 2 2>&1";
  auto r = run_command(cmd);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Three replies, one line each (12 tokens at most), in KJV style: the model names the LORD.
  size_t lines = 0;
  for (char c : r.output) lines += c == '\n';
  EXPECT_GE(lines, 3u) << r.output;
  EXPECT_NE(r.output.find("LORD"), std::string::npos) << r.output;
  // The same first turn alone gives the same first reply (greedy, fresh session).
  auto once = run_command("printf 'And God said\\n' | " + frugal_binary() + " chat -m " + model + " -n 12 --temp 0 -t 2 2>&1");
  ASSERT_EQ(once.exit_code, 0);
  EXPECT_EQ(r.output.substr(0, r.output.find('\n')), once.output.substr(0, once.output.find('\n')));
}

TEST(Cli, ChatRejectsBadSamplingFlags) {
  auto r = run_command(frugal_binary() + " chat -m " + data_path("models/small-q8_0.gguf") + " --top-p 7 </dev/null 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("top_p"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace frugal

// Reference fidelity: frugal's tokens and logits against llama.cpp's (tests/data/llama, produced by
// llama.cpp 34af94cd; see tests/data/llama/README.md). Teacher forcing over prompt + llama.cpp's
// greedy tokens, so a divergence can never hide a later error. Prints the max difference per model.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "common/test_data.h"
#include "engine/generate.h"
#include "engine/session.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace frugal {
namespace {

using testing::data_path;
using testing::read_f32_file;
using testing::read_text_file;

struct Tolerance {
  double max_abs;        // max |Δ| over every logit of the prompt (batched) positions
  double max_abs_decode; // max |Δ| over the positions llama.cpp computed one token at a time
  double min_cosine;     // per position (0 = not checked)
  double top1_margin;    // top-1 must agree wherever llama.cpp's top1-top2 margin exceeds this
};

// The bounds: F32 ≤ 1e-3, F16 ≤ 1e-2, Q8_0/Q4_0 cosine ≥ 0.999 and ≤ 0.25.
// One exception, for F16 decode positions: llama.cpp computed those one token per llama_decode,
// and for a single token llamafile_sgemm declines (n < 2), so ggml_vec_dot_f16 runs, which on the
// reference machine (AVX512-FP16) accumulates in half precision. Exact math (our reference path,
// double accumulation) is itself up to 0.011 away from those rows, so they get 1.5e-2; the test
// F16FastPathStaysCloseToExactMath below pins our own accuracy instead.
Tolerance tolerance_for(const std::string& model) {
  if (model.find("f32") != std::string::npos) return {1e-3, 1e-3, 0.0, 0.3};
  if (model.find("f16") != std::string::npos) return {1e-2, 1.5e-2, 0.0, 0.3};
  return {0.25, 0.25, 0.999, 0.3};
}

struct PositionStats {
  double max_abs = 0.0;
  double max_abs_decode = 0.0;
  double min_cosine = 1.0;
  int top1_mismatches = 0;
};

void compare_row(const float* ours, const float* ref, int64_t n_vocab, double top1_margin, bool decode_row,
                 PositionStats& stats) {
  double dot = 0, n_ours = 0, n_ref = 0;
  double& max_abs = decode_row ? stats.max_abs_decode : stats.max_abs;
  for (int64_t i = 0; i < n_vocab; ++i) {
    max_abs = std::max(max_abs, std::fabs(static_cast<double>(ours[i]) - ref[i]));
    dot += static_cast<double>(ours[i]) * ref[i];
    n_ours += static_cast<double>(ours[i]) * ours[i];
    n_ref += static_cast<double>(ref[i]) * ref[i];
  }
  stats.min_cosine = std::min(stats.min_cosine, dot / std::sqrt(n_ours * n_ref));
  // llama.cpp's top-2 margin
  std::vector<int64_t> order(static_cast<size_t>(n_vocab));
  for (int64_t i = 0; i < n_vocab; ++i) order[static_cast<size_t>(i)] = i;
  std::partial_sort(order.begin(), order.begin() + 2, order.end(), [&](int64_t a, int64_t b) { return ref[a] > ref[b]; });
  const double margin = ref[order[0]] - ref[order[1]];
  const int64_t our_top = std::max_element(ours, ours + n_vocab) - ours;
  if (margin > top1_margin && our_top != order[0]) ++stats.top1_mismatches;
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

void check_model(const std::string& model_name, MatmulPath path, const Tolerance& tol) {
  const std::string dir = data_path("llama/vectors/" + model_name + "/");
  const auto meta = nlohmann::json::parse(read_text_file(dir + "meta.json"));
  auto model = Model::load(data_path("models/" + model_name + ".gguf"));
  ASSERT_TRUE(model.has_value()) << model.error().to_string();
  auto file = GgufFile::open(data_path("models/" + model_name + ".gguf"));
  ASSERT_TRUE(file.has_value());
  auto tokenizer = Tokenizer::from_gguf(*file);
  ASSERT_TRUE(tokenizer.has_value()) << tokenizer.error().to_string();
  const int64_t n_vocab = (*model)->config().n_vocab;

  PositionStats stats;
  for (size_t prompt_idx = 0; prompt_idx < meta["prompts"].size(); ++prompt_idx) {
    const auto& p = meta["prompts"][prompt_idx];
    const auto prompt_ids = p["prompt_ids"].get<std::vector<int32_t>>();
    const auto gen_ids = p["gen_ids"].get<std::vector<int32_t>>();
    // Token ids equal llama.cpp's exactly.
    EXPECT_EQ(tokenizer->encode(p["text"].get<std::string>(), true, false), prompt_ids) << model_name;

    std::vector<int32_t> ids = prompt_ids;
    ids.insert(ids.end(), gen_ids.begin(), gen_ids.end());
    SessionOptions options;
    options.num_threads = 2;
    options.path = path;
    Session session(**model, options);
    auto logits = session.eval(ids, LogitsMode::kAll);
    ASSERT_TRUE(logits.has_value()) << logits.error().to_string();
    const auto ref_prompt = read_f32_file(dir + "p" + std::to_string(prompt_idx) + ".prompt_logits.f32");
    const auto ref_gen = read_f32_file(dir + "p" + std::to_string(prompt_idx) + ".gen_logits.f32");
    ASSERT_EQ(ref_prompt.size(), prompt_ids.size() * static_cast<size_t>(n_vocab));
    ASSERT_EQ(ref_gen.size(), gen_ids.size() * static_cast<size_t>(n_vocab));
    for (size_t row = 0; row < ids.size(); ++row) {
      const float* ours = logits->data() + row * static_cast<size_t>(n_vocab);
      const float* ref = row < prompt_ids.size() ? ref_prompt.data() + row * n_vocab
                                                 : ref_gen.data() + (row - prompt_ids.size()) * n_vocab;
      compare_row(ours, ref, n_vocab, tol.top1_margin, row >= prompt_ids.size(), stats);
    }
  }
  std::printf("[golden] %-16s %-9s max|d| prompt=%.3g decode=%.3g  min cosine=%.6f  top-1 mismatches=%d\n",
              model_name.c_str(), path == MatmulPath::kFast ? "fast" : "reference", stats.max_abs, stats.max_abs_decode,
              stats.min_cosine, stats.top1_mismatches);
  EXPECT_LE(stats.max_abs, tol.max_abs) << model_name;
  EXPECT_LE(stats.max_abs_decode, tol.max_abs_decode) << model_name;
  if (tol.min_cosine > 0) EXPECT_GE(stats.min_cosine, tol.min_cosine) << model_name;
  EXPECT_EQ(stats.top1_mismatches, 0) << model_name;
}

TEST_P(GoldenTest, TeacherForcedLogitsMatchLlamaCpp) { check_model(GetParam(), MatmulPath::kFast, tolerance_for(GetParam())); }

// The plain f32 reference path (weights dequantized, double accumulation) must be at least as
// close on float models; on quantized ones it differs from llama.cpp's Q8 activations by design.
TEST_P(GoldenTest, ReferencePathMatchesLlamaCpp) {
  Tolerance tol = tolerance_for(GetParam());
  if (tol.min_cosine > 0) tol = {0.25, 0.25, 0.999, 0.5};
  check_model(GetParam(), MatmulPath::kReference, tol);
}

// Greedy decoding through the public generate() reproduces llama.cpp's continuation wherever its
// top-2 margin is clear of our logit error; after the first near-tie, either of the top-2 is fine.
TEST_P(GoldenTest, GreedyContinuationMatches) {
  const std::string model_name = GetParam();
  const std::string dir = data_path("llama/vectors/" + model_name + "/");
  const auto meta = nlohmann::json::parse(read_text_file(dir + "meta.json"));
  auto model = Model::load(data_path("models/" + model_name + ".gguf"));
  ASSERT_TRUE(model.has_value());
  auto file = GgufFile::open(data_path("models/" + model_name + ".gguf"));
  auto tokenizer = Tokenizer::from_gguf(*file);
  ASSERT_TRUE(tokenizer.has_value());
  const double margin_needed = tolerance_for(model_name).min_cosine > 0 ? 0.3 : 0.03;
  for (const auto& p : meta["prompts"]) {
    SessionOptions options;
    options.num_threads = 2;
    Session session(**model, options);
    GenerateRequest request;
    request.prompt = p["prompt_ids"].get<std::vector<int32_t>>();
    request.sampling.temperature = 0.0f;
    request.max_tokens = 16;
    request.ignore_eos = true;
    auto result = generate(session, *tokenizer, request);
    ASSERT_TRUE(result.has_value()) << result.error().to_string();
    const auto gen_ids = p["gen_ids"].get<std::vector<int32_t>>();
    const auto margins = p["greedy_margins"].get<std::vector<double>>();
    ASSERT_EQ(result->tokens.size(), gen_ids.size());
    for (size_t k = 0; k < gen_ids.size(); ++k) {
      if (margins[k] <= margin_needed) break;  // near-tie: stop comparing
      EXPECT_EQ(result->tokens[k], gen_ids[k]) << model_name << " step " << k;
      if (result->tokens[k] != gen_ids[k]) break;
    }
  }
}

// Our F16 path (activations rounded to F16, f32 accumulation, like llama.cpp's batched path) stays
// within the F16 bound (1e-2) of exact math (weights dequantized, f32 activations, double accumulation).
TEST(GoldenF16, F16FastPathStaysCloseToExactMath) {
  for (const std::string model_name : {"tiny-f16", "small-f16"}) {
    auto model = Model::load(data_path("models/" + model_name + ".gguf"));
    ASSERT_TRUE(model.has_value());
    const auto meta = nlohmann::json::parse(read_text_file(data_path("llama/vectors/" + model_name + "/meta.json")));
    std::vector<int32_t> ids = meta["prompts"][2]["prompt_ids"].get<std::vector<int32_t>>();
    for (int32_t id : meta["prompts"][2]["gen_ids"]) ids.push_back(id);
    std::vector<float> by_path[2];
    for (int path_idx = 0; path_idx < 2; ++path_idx) {
      SessionOptions options;
      options.num_threads = 2;
      options.path = path_idx == 0 ? MatmulPath::kFast : MatmulPath::kReference;
      Session session(**model, options);
      auto logits = session.eval(ids, LogitsMode::kAll);
      ASSERT_TRUE(logits.has_value());
      by_path[path_idx] = std::move(*logits);
    }
    double max_diff = 0;
    for (size_t i = 0; i < by_path[0].size(); ++i) {
      max_diff = std::max(max_diff, std::fabs(static_cast<double>(by_path[0][i]) - by_path[1][i]));
    }
    std::printf("[golden] %-16s fast vs exact max|d|=%.3g\n", model_name.c_str(), max_diff);
    EXPECT_LE(max_diff, 1e-2) << model_name;
  }
}

INSTANTIATE_TEST_SUITE_P(AllReferenceModels, GoldenTest,
                         ::testing::Values("tiny-f32", "tiny-f16", "tiny-q8_0", "tiny-q4_0", "tiny-ff172-f32",
                                           "tiny-ff172-f16", "small-f32", "small-f16", "small-q8_0", "small-q4_0",
                                           // mixture of experts (frugal mkmodel presets tiny-*; see tests/data/llama/README.md)
                                           "tiny-mixtral-f32", "tiny-qwen2moe-f32", "tiny-qwen3moe-f32", "tiny-olmoe-f32"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// Quantized mixture-of-experts files. Routing is discrete: where two experts' router
// probabilities nearly tie, the last bits of the activations decide which one runs, so exact
// math (the reference path, f32 activations) picks differently from llama.cpp's Q8 activations at
// such positions (measured: |d| 0.77 at isolated positions of tiny-qwen2moe-q8_0). The fast path
// uses llama.cpp's numerics and must meet the quantized bounds everywhere.
class GoldenMoeQuantTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenMoeQuantTest, TeacherForcedLogitsMatchLlamaCpp) {
  check_model(GetParam(), MatmulPath::kFast, tolerance_for(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(MoeQuantized, GoldenMoeQuantTest, ::testing::Values("tiny-mixtral-q8_0", "tiny-qwen2moe-q8_0"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace frugal

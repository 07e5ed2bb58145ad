// compute_perplexity (engine/perplexity.h) checked on the bundled draft model against an
// independent computation: each window re-evaluated one token at a time (the incremental decode
// path, not the batched kAll path) with its own log-softmax.
#include "engine/perplexity.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

#include "common/test_data.h"
#include "engine/session.h"
#include "tokenizer/tokenizer.h"

namespace frugal {
namespace {

struct Draft {
  std::unique_ptr<Model> model;
  std::vector<int32_t> tokens;  // the held-out snippet, BOS first
  int32_t bos_id = -1;
};

Draft load_draft() {
  const std::string dir = testing::data_path("../../models");
  std::ifstream in(dir + "/model-card.json");
  CHECK(in.good(), "models/model-card.json missing");
  const nlohmann::json card = nlohmann::json::parse(in);
  auto model = Model::load(dir + "/" + card["models"]["draft"]["file"].get<std::string>());
  CHECK(model.has_value(), "cannot load the bundled draft model");
  auto tok = Tokenizer::from_gguf((*model)->file());
  CHECK(tok.has_value(), "cannot load its tokenizer");
  Draft d;
  d.model = std::move(*model);
  d.tokens = tok->encode(testing::read_text_file(dir + "/" + card["snippet"].get<std::string>()), true, false);
  d.bos_id = tok->bos_id();
  return d;
}

// Mean NLL of the predictions from position first_scored on, one token per eval() call.
double incremental_nll_sum(const Model& model, std::vector<int32_t> window, int32_t bos_id, int64_t first_scored,
                           int64_t& n_scored) {
  window[0] = bos_id;
  SessionOptions options;
  options.n_ctx = static_cast<int64_t>(window.size());
  Session session(model, options);
  double sum = 0.0;
  for (size_t pos_idx = 0; pos_idx + 1 < window.size(); ++pos_idx) {
    auto logits = session.eval({window[pos_idx]});
    CHECK(logits.has_value(), "eval failed");
    if (static_cast<int64_t>(pos_idx) < first_scored) continue;
    double z = 0.0;
    for (const float l : *logits) z += std::exp(static_cast<double>(l));
    sum += std::log(z) - (*logits)[static_cast<size_t>(window[pos_idx + 1])];
    ++n_scored;
  }
  return sum;
}

TEST(Perplexity, MatchesAnIncrementalRecomputation) {
  const Draft d = load_draft();
  for (const bool score_all : {false, true}) {
    PerplexityOptions options;
    options.n_ctx = 48;
    options.max_chunks = 3;
    options.score_all = score_all;
    std::vector<double> running;
    auto result = compute_perplexity(*d.model, d.tokens, d.bos_id, options,
                                     [&](const PerplexityChunk& c) { running.push_back(c.running_ppl); });
    ASSERT_TRUE(result.has_value()) << result.error().to_string();
    double sum = 0.0;
    int64_t n_scored = 0;
    for (int64_t chunk_idx = 0; chunk_idx < 3; ++chunk_idx) {
      const auto begin = d.tokens.begin() + chunk_idx * 48;
      sum += incremental_nll_sum(*d.model, std::vector<int32_t>(begin, begin + 48), d.bos_id, score_all ? 0 : 24, n_scored);
    }
    const double expected = std::exp(sum / static_cast<double>(n_scored));
    std::printf("score_all=%d: PPL %.5f, incremental %.5f\n", score_all, result->ppl, expected);
    EXPECT_EQ(result->n_scored, n_scored);
    EXPECT_EQ(result->n_scored, 3 * (score_all ? 47 : 23));
    EXPECT_EQ(result->n_chunks, 3);
    EXPECT_NEAR(result->ppl, expected, 1e-3 * expected);
    ASSERT_EQ(running.size(), 3u);
    EXPECT_DOUBLE_EQ(running.back(), result->ppl);
    EXPECT_GT(result->ppl_stderr, 0.0);
    EXPECT_LT(result->ppl_stderr, result->ppl);
  }
}

TEST(Perplexity, RejectsBadInput) {
  const Draft d = load_draft();
  PerplexityOptions options;
  options.n_ctx = 2;
  EXPECT_FALSE(compute_perplexity(*d.model, d.tokens, d.bos_id, options).has_value());
  options.n_ctx = 64;
  EXPECT_FALSE(compute_perplexity(*d.model, std::vector<int32_t>(d.tokens.begin(), d.tokens.begin() + 63), d.bos_id,
                                  options).has_value());
  std::vector<int32_t> bad(d.tokens.begin(), d.tokens.begin() + 64);
  bad[10] = static_cast<int32_t>(d.model->config().n_vocab);
  EXPECT_FALSE(compute_perplexity(*d.model, bad, d.bos_id, options).has_value());
  bad[10] = -1;
  EXPECT_FALSE(compute_perplexity(*d.model, bad, d.bos_id, options).has_value());
}

}  // namespace
}  // namespace frugal

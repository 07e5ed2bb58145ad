// Tests of the bundled demo models (models/*.gguf): they load, share one tokenizer, reproduce the
// perplexity in models/model-card.json (written once by tools/train/export.py and committed) within
// 2 %, rank target < draft < unigram < uniform, and reproduce the recorded greedy continuation.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <fstream>
#include <memory>
#include <string>

#include "common/test_data.h"
#include "engine/generate.h"
#include "engine/perplexity.h"
#include "engine/sampling_defaults.h"

namespace frugal {
namespace {

std::string models_dir() { return testing::data_path("../../models"); }

nlohmann::json read_card() {
  std::ifstream in(models_dir() + "/model-card.json");
  CHECK(in.good(), "models/model-card.json missing");
  return nlohmann::json::parse(in);
}

struct Bundled {
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
};

Bundled load_bundled(const nlohmann::json& card, const std::string& name) {
  const std::string path = models_dir() + "/" + card["models"][name]["file"].get<std::string>();
  auto model = Model::load(path);
  CHECK(model.has_value(), "cannot load bundled model");
  Bundled b;
  b.model = std::move(*model);
  auto tok = Tokenizer::from_gguf(b.model->file());
  CHECK(tok.has_value(), "cannot load bundled tokenizer");
  b.tokenizer = std::make_unique<Tokenizer>(std::move(*tok));
  return b;
}

double snippet_ppl(const nlohmann::json& card, const Bundled& b) {
  const std::string text = testing::read_text_file(models_dir() + "/" + card["snippet"].get<std::string>());
  EXPECT_FALSE(text.empty());
  PerplexityOptions options;
  options.n_ctx = card["n_ctx"].get<int64_t>();
  auto result = compute_perplexity(*b.model, b.tokenizer->encode(text, true, false), b.tokenizer->bos_id(), options);
  EXPECT_TRUE(result.has_value()) << result.error().to_string();
  return result ? result->ppl : 0.0;
}

TEST(BundledModels, LoadAsLlamaWithTheCardsShape) {
  const nlohmann::json card = read_card();
  for (const std::string name : {"target", "draft"}) {
    Bundled b = load_bundled(card, name);
    const nlohmann::json& cfg = card["models"][name]["config"];
    EXPECT_EQ(b.model->config().n_layer, cfg["n_layer"].get<int64_t>()) << name;
    EXPECT_EQ(b.model->config().n_embd, cfg["n_embd"].get<int64_t>()) << name;
    EXPECT_EQ(b.model->config().n_vocab, cfg["n_vocab"].get<int64_t>()) << name;
    EXPECT_EQ(b.model->config().n_ctx_train, card["n_ctx"].get<int64_t>()) << name;
  }
}

TEST(BundledModels, ShareOneTokenizerExactly) {
  const nlohmann::json card = read_card();
  Bundled target = load_bundled(card, "target");
  Bundled draft = load_bundled(card, "draft");
  auto target_tokens = target.model->file().get_string_array("tokenizer.ggml.tokens");
  auto draft_tokens = draft.model->file().get_string_array("tokenizer.ggml.tokens");
  auto target_merges = target.model->file().get_string_array("tokenizer.ggml.merges");
  auto draft_merges = draft.model->file().get_string_array("tokenizer.ggml.merges");
  ASSERT_TRUE(target_tokens && draft_tokens && target_merges && draft_merges);
  EXPECT_EQ(*target_tokens, *draft_tokens);
  EXPECT_EQ(*target_merges, *draft_merges);
  const std::string text = "And Jesus answered and said unto them, Verily I say unto you.";
  EXPECT_EQ(target.tokenizer->encode(text, true, false), draft.tokenizer->encode(text, true, false));
}

TEST(BundledModels, SnippetPerplexityMatchesTheCardWithinTwoPercent) {
  const nlohmann::json card = read_card();
  for (const std::string name : {"target", "draft"}) {
    const double expected = card["models"][name]["snippet_ppl"].get<double>();
    const double got = snippet_ppl(card, load_bundled(card, name));
    std::printf("%s: snippet PPL %.4f (card %.4f)\n", name.c_str(), got, expected);
    EXPECT_NEAR(got, expected, 0.02 * expected) << name;
  }
}

TEST(BundledModels, TargetBeatsDraftBeatsBaselines) {
  const nlohmann::json card = read_card();
  const double target = snippet_ppl(card, load_bundled(card, "target"));
  const double draft = snippet_ppl(card, load_bundled(card, "draft"));
  const double unigram = card["baselines"]["unigram_snippet_ppl"].get<double>();
  const double uniform = card["baselines"]["uniform_ppl"].get<double>();
  // The draft is distilled from the target (tools/train/distill.py), so it comes close to the
  // target's perplexity but must not pass it: it has 6x fewer parameters.
  EXPECT_LT(target, draft);
  EXPECT_LT(draft, 0.5 * unigram);
  EXPECT_LT(unigram, uniform);
}

TEST(BundledModels, GreedyContinuationIsStable) {
  const nlohmann::json card = read_card();
  for (const std::string name : {"target", "draft"}) {
    const nlohmann::json& greedy = card["models"][name]["greedy"];
    Bundled b = load_bundled(card, name);
    Session session(*b.model, SessionOptions{});
    GenerateRequest request;
    request.prompt = b.tokenizer->encode(greedy["prompt"].get<std::string>(), true, false);
    request.max_tokens = greedy["n_predict"].get<int64_t>();
    request.sampling.temperature = 0.0f;
    auto result = generate(session, *b.tokenizer, request);
    ASSERT_TRUE(result.has_value()) << result.error().to_string();
    EXPECT_EQ(result->text, greedy["text"].get<std::string>()) << name;
  }
}

// Share of the generated words (runs of letters after a space) that are one token of the
// 4,096-token BPE with their leading space: the corpus's common words are; the fragments that
// gibberish is made of are not.
double whole_word_share(const Tokenizer& tokenizer, const std::string& text) {
  int64_t words = 0, whole = 0;
  for (size_t at = 0; at < text.size();) {
    size_t end = at;
    while (end < text.size() && std::isalpha(static_cast<unsigned char>(text[end]))) ++end;
    if (end > at) {
      ++words;
      std::string word(1, ' ');  // (not " " + substr: GCC 12 warns -Wrestrict on that, wrongly)
      word.append(text, at, end - at);
      whole += tokenizer.encode(word, false, false).size() == 1;
      at = end;
    } else {
      ++at;
    }
  }
  return words > 0 ? static_cast<double>(whole) / static_cast<double>(words) : 0.0;
}

// The bundled models carry recommended sampling settings (general.sampling.*), and with them the
// demo's answer reads as English; OpenAI's defaults (temperature 1, no truncation) read as noise.
TEST(BundledModels, RecommendedSamplingReadsAsEnglish) {
  const nlohmann::json card = read_card();
  for (const std::string name : {"target", "draft"}) {
    Bundled b = load_bundled(card, name);
    auto defaults = read_sampling_defaults(b.model->file());
    ASSERT_TRUE(defaults) << defaults.error().to_string();
    ASSERT_TRUE(defaults->temperature && defaults->top_k && defaults->min_p && defaults->max_tokens) << name;
    EXPECT_EQ(*defaults->max_tokens, 64) << name;
    double recommended = 0, plain = 0;
    const int kSeeds = 3;
    for (int seed = 1; seed <= kSeeds; ++seed) {
      for (bool use_defaults : {true, false}) {
        Session session(*b.model, SessionOptions{});
        GenerateRequest request;
        request.prompt = b.tokenizer->encode("And God said", true, false);
        request.max_tokens = *defaults->max_tokens;
        request.sampling.seed = static_cast<uint64_t>(seed);
        request.sampling.temperature = 1.0f;  // OpenAI's defaults
        request.sampling.top_k = 0;
        request.sampling.top_p = 1.0f;
        request.sampling.min_p = 0.0f;
        if (use_defaults) apply_sampling_defaults(*defaults, SamplingGiven{}, request.sampling);
        auto result = generate(session, *b.tokenizer, request);
        ASSERT_TRUE(result.has_value()) << result.error().to_string();
        (use_defaults ? recommended : plain) += whole_word_share(*b.tokenizer, result->text) / kSeeds;
      }
    }
    EXPECT_GE(recommended, 0.9) << name;
    EXPECT_GT(recommended, plain) << name;
  }
}

}  // namespace
}  // namespace frugal

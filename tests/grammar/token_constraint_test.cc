// TokenConstraint over a synthetic vocabulary: random models (random logits) produce documents that
// parse and validate every time, finish within the token budget whenever it can hold the shortest
// document, end tokens only come once a document is complete, and a trigger leaves text free
// unless the output starts a tool call.
#include "grammar/token_constraint.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/json_schema_validator.h"
#include "grammar/json_schema.h"

namespace frugal {
namespace {

using ojson = nlohmann::ordered_json;

constexpr int32_t kEnd = 0;      // the end-of-generation token
constexpr int32_t kControl = 1;  // a control token: no text

std::shared_ptr<const TokenVocabulary> test_vocab() {
  std::vector<std::string> pieces = {"", ""};
  for (int b = 1; b < 256; ++b) pieces.emplace_back(1, static_cast<char>(b));
  for (const char* multi : {"{\"", "\":", "\": ", "\", \"", "\"}", "name", "true", "false", "null", "\n  ", "  ",
                            "12", "-3.5", "abc", "\xC3\xA9", "\"a\"", "<tool_call>", "<tool_call>\n{", "}}", "]}",
                            "\"]", "[\"", "e+7", "\\u00", "\\n", "id", "age", "tags", ", ", "0,", "true}", "\"\"",
                            "\xF0\x9F", "\x98\x80", "weather", "city", "unit", "\"}\n</tool_call>"}) {
    pieces.emplace_back(multi);
  }
  return std::make_shared<TokenVocabulary>(pieces, std::vector<int32_t>{kEnd});
}

struct Generated {
  std::string text;
  bool finished = false;  // ended by the grammar (complete document) or an end token
  int64_t tokens = 0;
};

// Samples uniformly among the allowed tokens (the argmax of random logits).
Generated generate(const std::shared_ptr<const Grammar>& grammar, const std::shared_ptr<const TokenVocabulary>& vocab,
             int64_t budget, uint32_t seed, std::string trigger = {}) {
  TokenConstraint constraint(grammar, vocab, budget, std::move(trigger));
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise;
  std::vector<float> logits(static_cast<size_t>(vocab->n_vocab()));
  Generated run;
  while (run.tokens < budget) {
    for (float& l : logits) l = noise(rng);
    EXPECT_GT(constraint.apply(logits.data(), run.tokens), 0);
    const int32_t token = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    EXPECT_TRUE(std::isfinite(logits[static_cast<size_t>(token)]));
    EXPECT_TRUE(constraint.accept(token));
    if (token == kEnd) {
      run.finished = true;
      break;
    }
    run.text += vocab->piece(token);
    ++run.tokens;
    if (constraint.finished()) {
      run.finished = true;
      break;
    }
  }
  return run;
}

const char* kSchemas[] = {
    R"({"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer"},
        "tags":{"type":"array","items":{"type":"string"},"maxItems":3}},"required":["name","age"],
        "additionalProperties":false})",
    R"({"type":"object","properties":{"city":{"type":"object","properties":{"name":{"type":"string"},
        "unit":{"enum":["c","f"]},"pos":{"type":"array","items":{"type":"number"},"minItems":2,"maxItems":2}},
        "required":["name","unit","pos"],"additionalProperties":false},"ok":{"type":"boolean"},
        "note":{"type":["string","null"]}},"required":["city","ok","note"],"additionalProperties":false})",
    R"({"type":"array","items":{"type":"object","properties":{"id":{"type":"integer"},"v":{"const":"x"}},
        "required":["id","v"]},"minItems":1,"maxItems":4})",
    R"({"type":"object","properties":{"any":{},"opt":{"type":"string","minLength":3}}})",
    R"({"enum":["red","green",{"rgb":[1,2,3]}]})",
};

TEST(TokenConstraint, RandomModelsAlwaysProduceValidDocumentsWithinTheBudget) {
  auto vocab = test_vocab();
  for (const char* schema : kSchemas) {
    auto grammar = json_schema_grammar(ojson::parse(schema), {});
    ASSERT_TRUE(grammar.has_value()) << grammar.error().to_string();
    const int64_t shortest = JsonMatcher(**grammar).min_remaining();
    for (uint32_t seed = 0; seed < 40; ++seed) {
      const int64_t budget = shortest + seed * 5;
      Generated run = generate(*grammar, vocab, budget, seed);
      ASSERT_TRUE(run.finished) << "budget " << budget << " did not finish: " << run.text;
      ASSERT_LE(run.tokens, budget);
      const ojson doc = ojson::parse(run.text, nullptr, false);
      ASSERT_FALSE(doc.is_discarded()) << run.text;
      EXPECT_EQ(testing::validate_json_schema(doc, ojson::parse(schema)), "") << run.text;
    }
  }
}

TEST(TokenConstraint, ABudgetOfTheShortestDocumentStillFinishes) {
  auto vocab = test_vocab();
  for (const char* schema : kSchemas) {
    auto grammar = json_schema_grammar(ojson::parse(schema), {});
    ASSERT_TRUE(grammar.has_value());
    const int64_t shortest = JsonMatcher(**grammar).min_remaining();
    for (uint32_t seed = 0; seed < 10; ++seed) {
      Generated run = generate(*grammar, vocab, shortest, seed);
      EXPECT_TRUE(run.finished) << schema << " in " << shortest << " tokens: " << run.text;
      EXPECT_TRUE(ojson::accept(run.text)) << run.text;
    }
  }
}

TEST(TokenConstraint, ABudgetTooSmallForAnyDocumentEndsCutOffButNeverInvalid) {
  auto vocab = test_vocab();
  auto grammar = json_schema_grammar(ojson::parse(kSchemas[1]), {});
  ASSERT_TRUE(grammar.has_value());
  const int64_t shortest = JsonMatcher(**grammar).min_remaining();
  ASSERT_GT(shortest, 20);
  Generated run = generate(*grammar, vocab, 8, 3);
  EXPECT_FALSE(run.finished);
  EXPECT_EQ(run.tokens, 8);
  JsonMatcher check(**grammar);
  EXPECT_TRUE(check.feed(run.text)) << run.text;  // a prefix of a valid document
}

TEST(TokenConstraint, EndTokensOnlyOnceTheDocumentIsComplete) {
  auto vocab = test_vocab();
  auto grammar = json_schema_grammar(ojson::parse(R"({"type":"integer"})"), {});
  ASSERT_TRUE(grammar.has_value());
  TokenConstraint c(*grammar, vocab, -1);
  std::vector<float> logits(static_cast<size_t>(vocab->n_vocab()), 0.0f);
  c.apply(logits.data(), 0);
  EXPECT_TRUE(std::isinf(logits[kEnd]));
  EXPECT_TRUE(std::isinf(logits[kControl]));
  EXPECT_FALSE(c.accept(kEnd));
  ASSERT_TRUE(c.accept(1 + static_cast<int32_t>('7')));  // the piece "7" (pieces 2.. are bytes 1..)
  std::fill(logits.begin(), logits.end(), 0.0f);
  c.apply(logits.data(), 1);
  EXPECT_FALSE(std::isinf(logits[kEnd]));
  EXPECT_FALSE(c.finished());  // more digits could follow
  EXPECT_TRUE(c.accept(kEnd));
  EXPECT_TRUE(c.finished());
}

TEST(TokenConstraint, ATriggerLeavesOtherTextFreeAndConstrainsWhatFollowsIt) {
  auto vocab = test_vocab();
  auto schema = json_schema_grammar(ojson::parse(R"({"type":"object","properties":{"city":{"type":"string"}},
      "required":["city"],"additionalProperties":false})"), {});
  ASSERT_TRUE(schema.has_value());
  // A tool-call-like grammar: "<tool_call>\n" + the object + "\n</tool_call>".
  auto grammar = std::make_shared<Grammar>();
  auto node = compile_json_schema(ojson::parse(R"({"type":"object","properties":{"city":{"type":"string"}},
      "required":["city"],"additionalProperties":false})"), {}, *grammar);
  ASSERT_TRUE(node.has_value());
  Node root;
  root.kind = NodeKind::kSequence;
  root.parts.push_back(Part{PartKind::kLiteral, LiteralSet::from({{"<tool_call>\n", 0}}), -1, {}});
  root.parts.push_back(Part{PartKind::kValue, {}, *node, {}});
  root.parts.push_back(Part{PartKind::kLiteral, LiteralSet::from({{"\n</tool_call>", 0}}), -1, {}});
  grammar->set_root(grammar->add(std::move(root)));
  grammar->finalize();
  std::shared_ptr<const Grammar> g = grammar;

  for (uint32_t seed = 0; seed < 30; ++seed) {
    Generated run = generate(g, vocab, 60, seed, "<tool_call>");
    if (run.text.rfind("<tool_call>", 0) == 0) {
      EXPECT_TRUE(run.finished) << run.text;
      const std::string inner = run.text.substr(12, run.text.size() - 12 - 13);
      EXPECT_TRUE(ojson::accept(inner)) << run.text;
    }
  }
  // Forced into the trigger: "<tool_call>\n{" is allowed (it goes on inside the grammar)...
  TokenConstraint c(g, vocab, -1, "<tool_call>");
  const auto id_of = [&](const std::string& piece) {
    for (int32_t id = 0; id < vocab->n_vocab(); ++id) {
      if (vocab->piece(id) == piece) return id;
    }
    return -1;
  };
  std::vector<float> logits(static_cast<size_t>(vocab->n_vocab()), 0.0f);
  c.apply(logits.data(), 0);
  EXPECT_FALSE(std::isinf(logits[static_cast<size_t>(id_of("<tool_call>\n{"))]));
  EXPECT_FALSE(std::isinf(logits[static_cast<size_t>(id_of("abc"))]));  // free text
  ASSERT_TRUE(c.accept(id_of("<tool_call>")));
  EXPECT_TRUE(c.constrained());
  std::fill(logits.begin(), logits.end(), 0.0f);
  c.apply(logits.data(), 1);
  EXPECT_TRUE(std::isinf(logits[static_cast<size_t>(id_of("abc"))]));  // inside the grammar now
  EXPECT_FALSE(std::isinf(logits[static_cast<size_t>(id_of("\n"))]));
}

}  // namespace
}  // namespace frugal

// JsonMatcher: byte-level acceptance of JSON texts under a schema, the end/continue decisions, and
// min_remaining() as an attainable completion length (the budget guarantee rests on it).
#include "grammar/json_matcher.h"

#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/json_schema_validator.h"
#include "grammar/json_schema.h"

namespace frugal {
namespace {

using ojson = nlohmann::ordered_json;

std::shared_ptr<const Grammar> compile(const char* schema, bool strict = false) {
  auto g = json_schema_grammar(ojson::parse(schema), SchemaOptions{strict});
  EXPECT_TRUE(g.has_value()) << g.error().to_string();
  return g ? *g : nullptr;
}

bool accepts(const Grammar& g, std::string_view text) {
  JsonMatcher m(g);
  return m.feed(text) && m.can_end();
}

bool accepts_prefix(const Grammar& g, std::string_view text) {
  JsonMatcher m(g);
  return m.feed(text);
}

constexpr const char* kPerson = R"({"type":"object","properties":{
  "name":{"type":"string","minLength":1,"maxLength":8},
  "age":{"type":"integer"},
  "tags":{"type":"array","items":{"enum":["a","bb",3,null]},"minItems":1,"maxItems":2},
  "nick":{"type":["string","null"]}},
  "required":["name","age","tags"],"additionalProperties":false})";

TEST(JsonMatcher, ObjectsFollowSchemaOrderAndSkipOnlyOptionalProperties) {
  auto g = compile(kPerson);
  EXPECT_TRUE(accepts(*g, R"({"name":"Al","age":3,"tags":["a"]})"));
  EXPECT_TRUE(accepts(*g, R"({ "name" : "Al",
  "age": -12, "tags": [ "bb" , 3 ], "nick": null })"));
  EXPECT_TRUE(accepts(*g, R"({"name":"Al","age":0,"tags":[null],"nick":"x"})"));
  EXPECT_FALSE(accepts_prefix(*g, R"({"age")"));                       // required name must come first
  EXPECT_FALSE(accepts_prefix(*g, R"({"name":"Al","age":1,"tags":["a"],"x")"));  // no extra keys
  EXPECT_FALSE(accepts_prefix(*g, R"({"name":"Al","age":1})"));          // tags is required
  EXPECT_FALSE(accepts_prefix(*g, R"({"name":"")"));                     // minLength 1
  EXPECT_FALSE(accepts_prefix(*g, R"({"name":"123456789)"));             // maxLength 8
  EXPECT_FALSE(accepts_prefix(*g, R"({"name":"A","age":1.5)"));          // integer
  EXPECT_FALSE(accepts_prefix(*g, R"({"name":"A","age":01)"));           // no leading zeros
  EXPECT_FALSE(accepts_prefix(*g, R"({"name":"A","age":1,"tags":[])"));  // minItems 1
  EXPECT_FALSE(accepts_prefix(*g, R"({"name":"A","age":1,"tags":["a","a","a")"));  // maxItems 2
  EXPECT_FALSE(accepts_prefix(*g, R"({"name":"A","age":1,"tags":["c")"));  // enum
  EXPECT_FALSE(accepts(*g, R"({"name":"Al","age":3,"tags":["a"]} )"));    // nothing after the document
}

TEST(JsonMatcher, StringsAreValidUtf8WithoutRawControlsOrLoneSurrogates) {
  auto g = compile(R"({"type":"string","maxLength":3})");
  EXPECT_TRUE(accepts(*g, "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\""));  // 3 code points
  EXPECT_FALSE(accepts_prefix(*g, "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80x"));
  EXPECT_TRUE(accepts(*g, R"("\n\u00e9\"")"));
  EXPECT_TRUE(accepts(*g, R"("\ud7ff")"));
  EXPECT_FALSE(accepts_prefix(*g, R"("\ud800)"));  // a lone surrogate would not parse
  EXPECT_FALSE(accepts_prefix(*g, R"("\x)"));
  EXPECT_FALSE(accepts_prefix(*g, "\"\n"));
  EXPECT_FALSE(accepts_prefix(*g, "\"\xC0\x80"));   // overlong
  EXPECT_FALSE(accepts_prefix(*g, "\"\xED\xA0\x80"));  // encoded surrogate
  EXPECT_FALSE(accepts_prefix(*g, "\"\xF5"));
  EXPECT_FALSE(accepts_prefix(*g, "\"\x80"));
}

TEST(JsonMatcher, NumbersFollowTheJsonGrammarWithBoundedDigits) {
  auto g = compile(R"({"type":"number"})");
  for (const char* ok : {"0", "-0", "12", "1.5", "-3.25e+10", "7E2", "0.0"}) EXPECT_TRUE(accepts(*g, ok)) << ok;
  for (const char* bad : {"-", "1.", "1e", "1e+", ".5", "+1", "01", "--1"}) EXPECT_FALSE(accepts(*g, bad)) << bad;
  EXPECT_FALSE(accepts_prefix(*g, "1234567890123456"));  // 16 integer digits
  EXPECT_FALSE(accepts_prefix(*g, "1e123"));
  JsonMatcher m(*g);
  ASSERT_TRUE(m.feed("12"));
  EXPECT_TRUE(m.can_end());
  EXPECT_TRUE(m.can_continue());  // more digits may follow a root number
}

TEST(JsonMatcher, LiteralsThatArePrefixesOfEachOtherEndOnTheNextByte) {
  auto g = compile(R"({"type":"array","items":{"enum":[1,12,123]}})");
  EXPECT_TRUE(accepts(*g, "[1,12,123,1]"));
  EXPECT_FALSE(accepts_prefix(*g, "[1234"));
  EXPECT_FALSE(accepts_prefix(*g, "[2"));
}

TEST(JsonMatcher, AnyOfAndTypeListsDispatchOnTheFirstByte) {
  auto g = compile(R"({"anyOf":[{"type":"object","properties":{"a":{"type":"boolean"}},"required":["a"]},
                                 {"type":"array","items":{"type":"integer"}}, {"type":"null"}]})");
  EXPECT_TRUE(accepts(*g, R"({"a":true})"));
  EXPECT_TRUE(accepts(*g, "[1,2]"));
  EXPECT_TRUE(accepts(*g, "null"));
  EXPECT_FALSE(accepts_prefix(*g, "\""));
}

TEST(JsonMatcher, WhitespaceRunsAndNestingAreBounded) {
  auto g = compile(R"({})");
  EXPECT_TRUE(accepts(*g, "[ 1 , {\"a\" : [true, null, \"x\"]} ]"));
  EXPECT_TRUE(accepts_prefix(*g, "[" + std::string(kMaxWhitespaceRun, ' ')));
  EXPECT_FALSE(accepts_prefix(*g, "[" + std::string(kMaxWhitespaceRun + 1, ' ')));
  EXPECT_TRUE(accepts_prefix(*g, std::string(kMaxNestingDepth, '[')));
  EXPECT_FALSE(accepts_prefix(*g, std::string(kMaxNestingDepth + 1, '[')));
  EXPECT_FALSE(accepts_prefix(*g, " "));  // the document starts at its first byte
}

TEST(JsonMatcher, JsonObjectModeAcceptsAnyObjectOnly) {
  auto g = any_object_grammar();
  EXPECT_TRUE(accepts(*g, R"({"a":[1,{"b":"c"}],"a":-1e5})"));
  EXPECT_TRUE(accepts(*g, "{}"));
  EXPECT_FALSE(accepts_prefix(*g, "["));
}

// From random reachable states, a completion of at most min_remaining() bytes exists: some byte
// always lowers the estimate, so following such bytes ends the document within the estimate.
TEST(JsonMatcher, MinRemainingIsAttainableFromRandomStates) {
  const char* schemas[] = {kPerson,
                           R"({"type":"object","properties":{"o":{"type":"object","properties":{"x":{"type":"number"},
                              "y":{"type":"array","items":{"type":"string","minLength":2},"minItems":2}},"required":["y"]}},
                              "required":["o"]})",
                           R"({"type":"array","items":{"type":"object","properties":{"k":{"enum":["long-value","s"]}},
                              "required":["k"]},"minItems":3})",
                           R"({})"};
  std::mt19937 rng(7);
  for (const char* schema : schemas) {
    auto g = compile(schema);
    for (int trial = 0; trial < 200; ++trial) {
      JsonMatcher m(*g);
      std::string text;
      const int walk = static_cast<int>(rng() % 40);
      for (int step = 0; step < walk && m.can_continue(); ++step) {
        std::vector<uint8_t> options;
        for (int b = 0; b < 256; ++b) {
          JsonMatcher probe = m;
          if (probe.feed(static_cast<uint8_t>(b))) options.push_back(static_cast<uint8_t>(b));
        }
        const uint8_t b = options[rng() % options.size()];
        text += static_cast<char>(b);
        ASSERT_TRUE(m.feed(b));
      }
      int64_t left = m.min_remaining();
      ASSERT_LT(left, 10000) << schema;
      while (left > 0) {
        bool moved = false;
        for (int b = 0; b < 256 && !moved; ++b) {
          JsonMatcher probe = m;
          if (probe.feed(static_cast<uint8_t>(b)) && probe.min_remaining() <= left - 1) {
            left = probe.min_remaining();
            text += static_cast<char>(b);
            m = probe;
            moved = true;
          }
        }
        ASSERT_TRUE(moved) << "no byte completes within the estimate " << left << " after " << text;
      }
      EXPECT_TRUE(m.can_end()) << text;
      EXPECT_EQ(testing::validate_json_schema(ojson::parse(text), ojson::parse(schema)), "") << text;
    }
  }
}

}  // namespace
}  // namespace frugal

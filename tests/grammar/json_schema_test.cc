// JSON Schema compilation: supported keywords build grammars; anything else is an error that names
// the keyword and where it is (never silently ignored); OpenAI's strict-mode rule is enforced.
#include "grammar/json_schema.h"

#include <gtest/gtest.h>

#include "grammar/json_matcher.h"

namespace frugal {
namespace {

using ojson = nlohmann::ordered_json;

std::string compile_error(const char* schema, bool strict = false) {
  auto g = json_schema_grammar(ojson::parse(schema), SchemaOptions{strict});
  return g ? "" : g.error().message();
}

TEST(JsonSchema, UnsupportedKeywordsAreNamedWithTheirPath) {
  EXPECT_EQ(compile_error(R"({"type":"object","properties":{"zip":{"type":"string","pattern":"^[0-9]+$"}}})"),
            "unsupported JSON Schema keyword 'pattern' at #/properties/zip");
  EXPECT_NE(compile_error(R"({"$ref":"#/$defs/a"})").find("'$ref'"), std::string::npos);
  EXPECT_NE(compile_error(R"({"type":"number","minimum":3})").find("'minimum'"), std::string::npos);
  EXPECT_NE(compile_error(R"({"type":"string","format":"email"})").find("'format'"), std::string::npos);
  EXPECT_NE(compile_error(R"({"oneOf":[{"type":"string"}]})").find("'oneOf'"), std::string::npos);
  EXPECT_NE(compile_error(R"({"type":"array","items":{"type":"integer"},"uniqueItems":true})").find("'uniqueItems'"),
            std::string::npos);
}

TEST(JsonSchema, MalformedSchemasAreErrors) {
  EXPECT_NE(compile_error(R"({"type":"thing"})").find("unknown type 'thing'"), std::string::npos);
  EXPECT_NE(compile_error(R"({"type":"object","properties":{"a":{}},"required":["b"]})").find("'b'"), std::string::npos);
  EXPECT_NE(compile_error(R"({"type":"array","minItems":3,"maxItems":2})").find("maxItems"), std::string::npos);
  EXPECT_NE(compile_error(R"({"enum":[]})").find("enum"), std::string::npos);
  EXPECT_NE(compile_error(R"({"type":"string","enum":[1,2]})").find("no 'enum'"), std::string::npos);
  EXPECT_NE(compile_error(R"(7)").find("must be an object"), std::string::npos);
  EXPECT_NE(compile_error(R"({"anyOf":[{"type":"object"},{"type":"object","properties":{}}]})").find("same JSON type"),
            std::string::npos);
  std::string deep = R"({"type":"string"})";
  for (int i = 0; i < 70; ++i) deep = R"({"type":"array","items":)" + deep + "}";
  EXPECT_NE(compile_error(deep.c_str()).find("deeper"), std::string::npos);
}

TEST(JsonSchema, StrictModeRequiresClosedObjects) {
  EXPECT_NE(compile_error(R"({"type":"object","properties":{"a":{"type":"string"}},"required":["a"]})", true)
                .find("additionalProperties"),
            std::string::npos);
  EXPECT_EQ(compile_error(R"({"type":"object","properties":{"a":{"type":"string"}},"required":["a"],
                              "additionalProperties":false})", true), "");
}

TEST(JsonSchema, EnumValuesKeepOnlyThoseOfTheGivenType) {
  auto g = json_schema_grammar(ojson::parse(R"({"type":"string","enum":["x",1,"y"]})"), {});
  ASSERT_TRUE(g.has_value());
  JsonMatcher m(**g);
  EXPECT_FALSE(JsonMatcher(m).feed("1"));
  EXPECT_TRUE(m.feed("\"y\""));
  EXPECT_TRUE(m.can_end());
}

TEST(JsonSchema, PropertiesAreGeneratedInTheClientsOrder) {
  auto g = json_schema_grammar(ojson::parse(R"({"type":"object","properties":{"zeta":{"type":"integer"},
      "alpha":{"type":"integer"}},"required":["zeta","alpha"]})"), {});
  ASSERT_TRUE(g.has_value());
  EXPECT_TRUE(JsonMatcher(**g).feed(R"({"zeta":1,"alpha":2})"));
  EXPECT_FALSE(JsonMatcher(**g).feed(R"({"alpha")"));
}

// zod's `.int()` writes minimum/maximum of +-(2^53 - 1): every generated number (at most 15 integer
// digits) is inside, so the bounds are accepted; a bound the generator could break is refused.
TEST(JsonSchema, NumericBoundsAreAcceptedOnlyWhereEveryGeneratedNumberMeetsThem) {
  auto g = json_schema_grammar(ojson::parse(R"({"type":"integer","minimum":-9007199254740991,
      "maximum":9007199254740991})"), {});
  ASSERT_TRUE(g.has_value()) << g.error().message();
  EXPECT_TRUE(JsonMatcher(**g).feed("-999999999999999"));
  EXPECT_TRUE(JsonMatcher(**g).feed("42"));
  EXPECT_FALSE(JsonMatcher(**g).feed("9999999999999999")) << "16 digits could pass a bound of 1e15";
  EXPECT_EQ(compile_error(R"({"type":"number","exclusiveMinimum":-1e15,"exclusiveMaximum":1e16})"), "");
  EXPECT_NE(compile_error(R"({"type":"integer","minimum":0})").find("'minimum' narrower"), std::string::npos);
  EXPECT_NE(compile_error(R"({"type":"integer","maximum":100})").find("'maximum' narrower"), std::string::npos);
  EXPECT_NE(compile_error(R"({"type":"number","exclusiveMaximum":1e14})").find("'exclusiveMaximum'"),
            std::string::npos);
  EXPECT_NE(compile_error(R"({"type":"number","minimum":"0"})").find("must be a number"), std::string::npos);
}

}  // namespace
}  // namespace frugal

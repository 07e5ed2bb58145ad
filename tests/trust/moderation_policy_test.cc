// The policy file: a good one loads; every kind of mistake is an error naming the file and the
// field (or line:column), never a silent fallback.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "trust/moderator.h"

namespace frugal::trust {
namespace {

// The error a policy text gives, through both the parser and the compiler (terms, patterns).
std::string error_of(const std::string& text) {
  auto policy = parse_moderation_policy(text, "policy.json");
  if (!policy) return policy.error().message();
  auto moderator = Moderator::create(std::move(*policy), nullptr);
  return moderator ? "" : moderator.error().message();
}

TEST(ModerationPolicy, TheShippedDefaultAndTheTestPolicyLoad) {
  for (const std::string& path : {std::string(FRUGAL_TEST_DATA_DIR) + "/trust/test-policy.json",
                                 std::string(FRUGAL_TEST_DATA_DIR) + "/../../data/trust/moderation-policy.json"}) {
    auto policy = load_moderation_policy(path);
    ASSERT_TRUE(policy) << policy.error().to_string();
    EXPECT_FALSE(policy->categories.empty());
    auto moderator = Moderator::create(std::move(*policy), nullptr);
    EXPECT_TRUE(moderator) << moderator.error().to_string();
  }
}

TEST(ModerationPolicy, ReadsEveryField) {
  auto policy = parse_moderation_policy(R"({"version": 1, "categories": [
      {"name": "a", "action": "hold", "description": "d", "terms": ["x y"], "patterns": ["z+"], "guard_categories": ["S3"]}],
      "guard": {"unmapped": "block", "unparseable": "allow"}})", "p.json");
  ASSERT_TRUE(policy) << policy.error().to_string();
  ASSERT_EQ(policy->categories.size(), 1u);
  const PolicyCategory& category = policy->categories[0];
  EXPECT_EQ(category.name, "a");
  EXPECT_EQ(category.action, ModerationAction::kHold);
  EXPECT_EQ(category.terms, std::vector<std::string>{"x y"});
  EXPECT_EQ(category.patterns, std::vector<std::string>{"z+"});
  EXPECT_EQ(category.guard_categories, std::vector<std::string>{"S3"});
  EXPECT_EQ(policy->guard_unmapped, ModerationAction::kBlock);
  EXPECT_EQ(policy->guard_unparseable, ModerationAction::kAllow);
}

TEST(ModerationPolicy, MalformedFilesNameTheFileAndTheField) {
  struct Case {
    std::string text;
    std::string expected;  // a substring of the error
  };
  const std::vector<Case> cases = {
      {"{\"version\": 1,\n  \"categories\": [\n    {\"name\": \"a\" \"action\": \"block\"}]}", "policy.json:3:25: not valid JSON"},
      {"", "policy.json:1:1: not valid JSON"},
      {"[]", "policy.json: (top level): expected a JSON object"},
      {"111111111e111111112", "policy.json: not valid JSON"},  // out of range (found by moderation_fuzz)
      {R"({"categories": []})", "policy.json: version: expected 1"},
      {R"({"version": 2, "categories": []})", "version: expected 1; got 2"},
      {R"({"version": 1})", "categories: an array of categories is required"},
      {R"({"version": 1, "categories": [], "extra": 1})", "policy.json: extra: unknown field"},
      {R"({"version": 1, "categories": [7]})", "categories[0]: expected an object"},
      {R"({"version": 1, "categories": [{"action": "block", "terms": ["x"]}]})", "categories[0].name: a non-empty string is required"},
      {R"({"version": 1, "categories": [{"name": "Bad Name", "action": "block", "terms": ["x"]}]})", "categories[0].name: use lower-case"},
      {R"({"version": 1, "categories": [{"name": "a", "terms": ["x"]}]})", "categories[0].action: required"},
      {R"({"version": 1, "categories": [{"name": "a", "action": "deny", "terms": ["x"]}]})",
       "categories[0].action: expected one of \"allow\", \"block\", \"hold\"; got \"deny\""},
      {R"({"version": 1, "categories": [{"name": "a", "action": "block", "terms": "x"}]})", "categories[0].terms: expected an array"},
      {R"({"version": 1, "categories": [{"name": "a", "action": "block", "terms": ["x", ""]}]})", "categories[0].terms[1]: expected a non-empty string"},
      {R"({"version": 1, "categories": [{"name": "a", "action": "block", "term": ["x"]}]})", "categories[0].term: unknown field"},
      {R"({"version": 1, "categories": [{"name": "a", "action": "block"}]})", "categories[0]: category \"a\" has no terms"},
      {R"({"version": 1, "categories": [{"name": "a", "action": "block", "terms": ["x"]}, {"name": "a", "action": "hold", "terms": ["y"]}]})",
       "categories[1].name: \"a\" is named twice"},
      {R"({"version": 1, "categories": [{"name": "a", "action": "block", "guard_categories": ["S1", "violence"]}]})",
       "categories[0].guard_categories[1]: expected a Llama Guard code"},
      {R"({"version": 1, "categories": [{"name": "a", "action": "block", "terms": ["x", "..."]}]})",
       "policy.json: categories[0].terms[1]: the term '...' has no letters or digits"},
      {R"({"version": 1, "categories": [{"name": "a", "action": "block", "patterns": ["ok", "(unclosed"]}]})",
       "policy.json: categories[0].patterns[1]: missing closing parenthesis"},
      {R"({"version": 1, "categories": [{"name": "a", "action": "block", "terms": ["x"]}], "guard": {"unparseable": "maybe"}})",
       "guard.unparseable: expected one of"},
      {R"({"version": 1, "categories": [{"name": "a", "action": "block", "terms": ["x"]}], "guard": {"fallback": "hold"}})",
       "guard.fallback: unknown field"},
  };
  for (const Case& c : cases) {
    const std::string error = error_of(c.text);
    EXPECT_NE(error.find(c.expected), std::string::npos) << "policy: " << c.text << "\nerror: " << error;
  }
}

TEST(ModerationPolicy, AMissingFileIsNotFound) {
  auto policy = load_moderation_policy("/nonexistent/policy.json");
  ASSERT_FALSE(policy);
  EXPECT_EQ(policy.error().code(), StatusCode::kNotFound);
  EXPECT_NE(policy.error().message().find("/nonexistent/policy.json"), std::string::npos);
}

}  // namespace
}  // namespace frugal::trust

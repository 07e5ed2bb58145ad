// The served-model set: --model NAME=PATH and --route specs, and one KV budget split across engines.
#include "server/model_set.h"

#include <gtest/gtest.h>

#include <numeric>

namespace frugal {
namespace {

TEST(ModelSet, SingleModelFormKeepsTheOldFlags) {
  auto specs = parse_model_specs({"/models/kjv-target-f16.gguf"}, "");
  ASSERT_TRUE(specs) << specs.error().to_string();
  ASSERT_EQ(specs->size(), 1u);
  EXPECT_EQ((*specs)[0].name, "kjv-target-f16");
  specs = parse_model_specs({"/m/x.gguf"}, "small");
  ASSERT_TRUE(specs);
  EXPECT_EQ((*specs)[0].name, "small");
}

TEST(ModelSet, SeveralNamedModels) {
  auto specs = parse_model_specs({"big=/m/a.gguf", "small=/m/b=c.gguf"}, "");
  ASSERT_TRUE(specs) << specs.error().to_string();
  ASSERT_EQ(specs->size(), 2u);
  EXPECT_EQ((*specs)[0].name, "big");
  EXPECT_EQ((*specs)[1].path, "/m/b=c.gguf") << "only the first '=' separates";
}

TEST(ModelSet, BadModelSpecsAreClearErrors) {
  const std::pair<std::vector<std::string>, std::string> bad[] = {
      {{}, "no model"},
      {{"big=/a.gguf", "/b.gguf"}, "NAME=PATH"},
      {{"big=/a.gguf", "big=/b.gguf"}, "used twice"},
      {{"auto=/a.gguf"}, "used twice"},
      {{"=/a.gguf"}, "not valid"},
      {{"a b=/a.gguf"}, "not valid"},
      {{"big="}, "empty path"},
  };
  for (const auto& [values, needle] : bad) {
    auto specs = parse_model_specs(values, "");
    ASSERT_FALSE(specs) << needle;
    EXPECT_EQ(specs.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(specs.error().message().find(needle), std::string::npos) << specs.error().message();
  }
}

TEST(ModelSet, RoutesNameServedTiers) {
  const std::vector<ModelSpec> models = {{"big", "a"}, {"small", "b"}};
  auto routes = parse_route_specs({"chat=small,big", "precise=big"}, models);
  ASSERT_TRUE(routes) << routes.error().to_string();
  ASSERT_EQ(routes->size(), 2u);
  EXPECT_EQ((*routes)[0].tiers, (std::vector<std::string>{"small", "big"}));
  const std::pair<std::string, std::string> bad[] = {
      {"chat=small,huge", "'huge' is not a served model"},
      {"chat", "NAME=TIER"},
      {"big=small", "used twice"},
      {"auto=small", "used twice"},
      {"chat=small,small", "listed twice"},
      {"chat=", "'' is not a served model"},
  };
  for (const auto& [value, needle] : bad) {
    auto parsed = parse_route_specs({value}, models);
    ASSERT_FALSE(parsed) << value;
    EXPECT_NE(parsed.error().message().find(needle), std::string::npos) << parsed.error().message();
  }
  EXPECT_FALSE(parse_route_specs({"r=small", "r=big"}, models)) << "duplicate route names";
}

TEST(ModelSet, KvBudgetSplitNeverExceedsTheBudget) {
  const std::vector<int64_t> wanted = {3'000'000, 1'000'000, 7};
  const std::vector<int64_t> budgets = {0, 1, 999, 1'000'000, 3'999'999, 4'000'007, 50'000'000};
  for (int64_t budget : budgets) {
    const std::vector<int64_t> shares = split_kv_budget(budget, wanted);
    ASSERT_EQ(shares.size(), wanted.size());
    const int64_t sum = std::accumulate(shares.begin(), shares.end(), int64_t{0});
    EXPECT_LE(sum, budget) << budget;
    for (size_t idx = 0; idx < wanted.size(); ++idx) EXPECT_LE(shares[idx], wanted[idx]);
  }
  // In proportion: a budget of half of everything wanted gives each engine half of its want.
  const std::vector<int64_t> half = split_kv_budget(2'000'000, {3'000'000, 1'000'000});
  EXPECT_EQ(half, (std::vector<int64_t>{1'500'000, 500'000}));
  // Enough for all: each gets exactly what it wants.
  EXPECT_EQ(split_kv_budget(50'000'000, {3'000'000, 1'000'000}), (std::vector<int64_t>{3'000'000, 1'000'000}));
}

}  // namespace
}  // namespace frugal

// The routing policy (router.h) over hand-made tier estimates, the request's routing fields and
// the prompt difficulty heuristic (route_request.h), and the live tier statistics (tier_stats.h).
#include "server/router.h"

#include <gtest/gtest.h>

#include "server/route_request.h"
#include "server/tier_stats.h"

namespace frugal {
namespace {

using json = nlohmann::json;

// Three tiers, cheapest (and least capable) first: small, medium, big.
std::vector<TierEstimate> three_tiers() {
  return {TierEstimate{"small", 0, 1.0, 5.0}, TierEstimate{"medium", 1, 4.0, 10.0}, TierEstimate{"big", 2, 9.0, 20.0}};
}

std::string chosen(const std::vector<TierEstimate>& tiers, const RouteNeeds& needs, RouteReason* reason = nullptr) {
  auto decision = choose_tier(tiers, needs);
  if (!decision) return "error: " + decision.error().message();
  if (reason != nullptr) *reason = decision->reason;
  return tiers[decision->tier_idx].name;
}

TEST(Router, NoNeedsPicksTheCheapestTierWhateverItsPosition) {
  RouteReason reason = RouteReason::kNamed;
  EXPECT_EQ(chosen(three_tiers(), {}, &reason), "small");
  EXPECT_EQ(reason, RouteReason::kCheapest);
  auto tiers = three_tiers();
  tiers[1].usd_per_million_tokens = 0.5;  // the live meter says medium is cheapest now
  EXPECT_EQ(chosen(tiers, {}, &reason), "medium");
  EXPECT_EQ(reason, RouteReason::kCheapest);
}

TEST(Router, EqualCostsPreferTheLessCapableTier) {
  std::vector<TierEstimate> tiers = {TierEstimate{"big", 2, 0, 1}, TierEstimate{"small", 0, 0, 1}};
  EXPECT_EQ(chosen(tiers, {}), "small");
}

TEST(Router, HardPromptsNeedTheMostCapableTier) {
  RouteNeeds needs;
  needs.difficulty = Difficulty::kHard;
  RouteReason reason = RouteReason::kNamed;
  EXPECT_EQ(chosen(three_tiers(), needs, &reason), "big");
  EXPECT_EQ(reason, RouteReason::kDifficulty);
}

TEST(Router, LatencySloExcludesSlowTiers) {
  auto tiers = three_tiers();
  tiers[0].ms_per_output_token = 50;  // small is queued up
  RouteNeeds needs;
  needs.latency_slo_ms = 12;
  RouteReason reason = RouteReason::kNamed;
  EXPECT_EQ(chosen(tiers, needs, &reason), "medium");
  EXPECT_EQ(reason, RouteReason::kLatencySlo);
  needs.latency_slo_ms = 60;  // loose enough for all: the cheapest again
  EXPECT_EQ(chosen(tiers, needs, &reason), "small");
  EXPECT_EQ(reason, RouteReason::kCheapest);
}

TEST(Router, CostCapIsHardAndRefusesWhenNothingFits) {
  RouteNeeds needs;
  needs.max_usd_per_million_tokens = 5.0;
  needs.difficulty = Difficulty::kHard;  // big is above the cap: best effort is medium
  RouteReason reason = RouteReason::kNamed;
  EXPECT_EQ(chosen(three_tiers(), needs, &reason), "medium");
  EXPECT_EQ(reason, RouteReason::kBestEffort);
  needs.max_usd_per_million_tokens = 0.5;
  auto decision = choose_tier(three_tiers(), needs);
  ASSERT_FALSE(decision);
  EXPECT_EQ(decision.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(decision.error().message().find("cheapest is 1"), std::string::npos) << decision.error().message();
}

TEST(Router, UnmeetableSloFallsBackToTheFastestCapableTier) {
  auto tiers = three_tiers();
  RouteNeeds needs;
  needs.latency_slo_ms = 1;  // nobody is that fast
  RouteReason reason = RouteReason::kNamed;
  EXPECT_EQ(chosen(tiers, needs, &reason), "small");
  EXPECT_EQ(reason, RouteReason::kBestEffort);
  tiers[2].ms_per_output_token = 2;
  tiers[0].ms_per_output_token = 30;
  EXPECT_EQ(chosen(tiers, needs, &reason), "big");
  EXPECT_EQ(reason, RouteReason::kBestEffort);
}

TEST(RouteRequest, ParsesTheExtensionFieldsAndNamesBadOnes) {
  ParsedRouteNeeds parsed;
  ASSERT_FALSE(parse_route_needs(json{{"max_usd_per_million_tokens", 2.5}, {"latency_slo_ms", 40},
                                      {"difficulty", "hard"}}, parsed));
  EXPECT_EQ(parsed.needs.max_usd_per_million_tokens, 2.5);
  EXPECT_EQ(parsed.needs.latency_slo_ms, 40);
  EXPECT_EQ(parsed.needs.difficulty, Difficulty::kHard);
  EXPECT_TRUE(parsed.difficulty_hinted);
  ASSERT_FALSE(parse_route_needs(json{{"difficulty", "auto"}}, parsed));
  EXPECT_FALSE(parsed.difficulty_hinted);
  EXPECT_FALSE(parsed.needs.max_usd_per_million_tokens);

  const std::pair<json, std::string> bad[] = {
      {json{{"max_usd_per_million_tokens", -1}}, "max_usd_per_million_tokens"},
      {json{{"max_usd_per_million_tokens", "cheap"}}, "max_usd_per_million_tokens"},
      {json{{"latency_slo_ms", 0}}, "latency_slo_ms"},
      {json{{"difficulty", "medium"}}, "difficulty"},
      {json{{"difficulty", 3}}, "difficulty"},
  };
  for (const auto& [body, param] : bad) {
    auto error = parse_route_needs(body, parsed);
    ASSERT_TRUE(error) << body.dump();
    EXPECT_EQ(error->param, param);
  }
}

TEST(RouteRequest, DifficultyHeuristic) {
  EXPECT_EQ(estimate_difficulty_of_text("What is the capital of France?"), Difficulty::kEasy);
  EXPECT_EQ(estimate_difficulty_of_text("Prove that there are infinitely many primes."), Difficulty::kHard);
  EXPECT_EQ(estimate_difficulty_of_text("Think STEP BY STEP"), Difficulty::kHard);
  EXPECT_EQ(estimate_difficulty_of_text("fix this:\n```\nint main() {}\n```"), Difficulty::kHard);
  EXPECT_EQ(estimate_difficulty_of_text(std::string(kHardPromptBytes, 'a')), Difficulty::kEasy);
  EXPECT_EQ(estimate_difficulty_of_text(std::string(kHardPromptBytes + 1, 'a')), Difficulty::kHard);
  ApiRequest chat;
  chat.endpoint = ApiEndpoint::kChatCompletions;
  chat.messages = {{"system", "You are terse."}, {"user", "Hello there"}};
  EXPECT_EQ(estimate_difficulty(chat), Difficulty::kEasy);
  chat.messages.push_back({"user", "Now derive the formula."});
  EXPECT_EQ(estimate_difficulty(chat), Difficulty::kHard);
}

TEST(TierStats, PriorUntilTrafficThenTheLiveWindow) {
  const TierPrior prior = tier_prior(/*weight_bytes=*/1'000'000'000, /*usd_per_hour=*/3.6);
  EXPECT_DOUBLE_EQ(prior.ms_per_output_token, 100.0);  // 1 GB at 10 GB/s
  EXPECT_DOUBLE_EQ(prior.usd_per_million_tokens, 0.1 * 3.6 / 3600 * 1e6);
  TierStats stats(prior, /*window_requests=*/2);
  EXPECT_DOUBLE_EQ(stats.usd_per_million_tokens(), prior.usd_per_million_tokens);
  Usage usage;
  usage.prompt_tokens = 10;
  usage.completion_tokens = 10;
  usage.cost_usd = 2e-5;  // 1 USD per million tokens
  stats.record(usage, 0.5);  // 50 ms per output token
  EXPECT_DOUBLE_EQ(stats.usd_per_million_tokens(), 1.0);
  EXPECT_DOUBLE_EQ(stats.ms_per_output_token(), 50.0);
  usage.cost_usd = 6e-5;
  stats.record(usage, 1.5);
  EXPECT_DOUBLE_EQ(stats.usd_per_million_tokens(), 2.0);
  EXPECT_DOUBLE_EQ(stats.ms_per_output_token(), 100.0);
  stats.record(usage, 1.5);  // the first sample leaves the window of 2
  EXPECT_DOUBLE_EQ(stats.usd_per_million_tokens(), 3.0);
  EXPECT_EQ(stats.num_recorded(), 3);
}

}  // namespace
}  // namespace frugal

#include "server/router.h"

#include <algorithm>
#include <cstdio>

#include "core/check.h"

namespace frugal {
namespace {

// Cheaper first; equal cost: the less capable tier (it reads fewer weight bytes per token).
bool cheaper(const TierEstimate& a, const TierEstimate& b) {
  if (a.usd_per_million_tokens != b.usd_per_million_tokens) return a.usd_per_million_tokens < b.usd_per_million_tokens;
  return a.capability_rank < b.capability_rank;
}

// The cheapest tier among `candidates` (indices into tiers); candidates is not empty.
size_t cheapest_of(const std::vector<TierEstimate>& tiers, const std::vector<size_t>& candidates) {
  return *std::min_element(candidates.begin(), candidates.end(),
                           [&](size_t a, size_t b) { return cheaper(tiers[a], tiers[b]); });
}

bool meets_slo(const TierEstimate& tier, const RouteNeeds& needs) {
  return !needs.latency_slo_ms || tier.ms_per_output_token <= *needs.latency_slo_ms;
}

std::string format_usd(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.6g", value);
  return text;
}

}  // namespace

const char* difficulty_name(Difficulty difficulty) {
  switch (difficulty) {
    case Difficulty::kEasy: return "easy";
    case Difficulty::kHard: return "hard";
  }
  return "easy";
}

const char* route_reason_name(RouteReason reason) {
  switch (reason) {
    case RouteReason::kCheapest: return "cheapest";
    case RouteReason::kDifficulty: return "difficulty";
    case RouteReason::kLatencySlo: return "latency_slo";
    case RouteReason::kBestEffort: return "best_effort";
    case RouteReason::kOverflow: return "overflow";
    case RouteReason::kNamed: return "named";
  }
  return "cheapest";
}

Expected<RouteDecision> choose_tier(const std::vector<TierEstimate>& tiers, const RouteNeeds& needs) {
  CHECK(!tiers.empty(), "choose_tier: a route has at least one tier");
  std::vector<size_t> under_cap;
  for (size_t tier_idx = 0; tier_idx < tiers.size(); ++tier_idx) {
    const auto& cap = needs.max_usd_per_million_tokens;
    if (!cap || tiers[tier_idx].usd_per_million_tokens <= *cap) under_cap.push_back(tier_idx);
  }
  if (under_cap.empty()) {
    double lowest = tiers[0].usd_per_million_tokens;
    for (const TierEstimate& tier : tiers) lowest = std::min(lowest, tier.usd_per_million_tokens);
    return invalid_argument("no tier of the route costs at most " + format_usd(*needs.max_usd_per_million_tokens) +
                            " USD per million tokens (the cheapest is " + format_usd(lowest) + ")");
  }
  int32_t top_rank = tiers[under_cap[0]].capability_rank;
  for (size_t tier_idx : under_cap) top_rank = std::max(top_rank, tiers[tier_idx].capability_rank);
  int32_t max_rank_overall = tiers[0].capability_rank;
  for (const TierEstimate& tier : tiers) max_rank_overall = std::max(max_rank_overall, tier.capability_rank);
  const bool hard = needs.difficulty == Difficulty::kHard;

  std::vector<size_t> capable;  // meets the cap and the difficulty
  std::vector<size_t> eligible;  // meets every need
  for (size_t tier_idx : under_cap) {
    if (hard && tiers[tier_idx].capability_rank < max_rank_overall) continue;
    capable.push_back(tier_idx);
    if (meets_slo(tiers[tier_idx], needs)) eligible.push_back(tier_idx);
  }
  const size_t cheapest_allowed = cheapest_of(tiers, under_cap);
  if (!eligible.empty()) {
    const size_t chosen = cheapest_of(tiers, eligible);
    if (chosen == cheapest_allowed) return RouteDecision{chosen, RouteReason::kCheapest};
    // Something excluded the cheaper tier: difficulty first (it is decided before latency).
    const bool cheapest_capable = std::find(capable.begin(), capable.end(), cheapest_allowed) != capable.end();
    return RouteDecision{chosen, cheapest_capable ? RouteReason::kLatencySlo : RouteReason::kDifficulty};
  }
  if (!capable.empty()) {  // relax the SLO: the fastest capable tier
    const size_t fastest = *std::min_element(capable.begin(), capable.end(), [&](size_t a, size_t b) {
      return tiers[a].ms_per_output_token < tiers[b].ms_per_output_token;
    });
    return RouteDecision{fastest, RouteReason::kBestEffort};
  }
  // Relax the difficulty: the most capable tier under the cap (cheapest among equals).
  std::vector<size_t> top;
  for (size_t tier_idx : under_cap) {
    if (tiers[tier_idx].capability_rank == top_rank) top.push_back(tier_idx);
  }
  return RouteDecision{cheapest_of(tiers, top), RouteReason::kBestEffort};
}

}  // namespace frugal

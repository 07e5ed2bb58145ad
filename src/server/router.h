// Cost-aware routing policy (server layer, pure: no engine, no HTTP). Given the tiers a route may
// use (with live cost and latency estimates) and a request's stated needs, picks the cheapest tier
// that meets them all.
//
// NOTE (the policy, in order):
//   1. A maximum $/Mtoken is a hard cap: tiers above it are out; if every tier is above it the
//      request is refused (kInvalidArgument -> HTTP 400, code "route_cost_cap_unmet"), because
//      serving it would spend more than the client allowed.
//   2. Difficulty sets a minimum tier: "hard" needs the route's most capable tier (highest
//      capability rank: the biggest model); "easy" accepts any.
//   3. A latency SLO (milliseconds per output token) removes tiers whose estimate is above it.
//   4. The cheapest remaining tier wins (ties: the less capable one, which reads fewer bytes).
//   When 2 and 3 leave nothing, the SLO is relaxed first (the fastest tier meeting 1 and 2), then
//   the difficulty (the most capable tier meeting 1): reason "best_effort".
// The reason names what decided: "cheapest" (the route's cheapest allowed tier), "difficulty" or
// "latency_slo" (that need excluded cheaper tiers), "best_effort"; the server adds "overflow" and
// "named" (a request naming a model directly).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/expected.h"

namespace frugal {

enum class Difficulty { kEasy, kHard };

const char* difficulty_name(Difficulty difficulty);

// What the router knows about one tier when it decides.
struct TierEstimate {
  std::string name;
  int32_t capability_rank = 0;               // larger = more capable (ordered by weight bytes)
  double usd_per_million_tokens = 0;         // live meter estimate (or the prior before traffic)
  double ms_per_output_token = 0;            // live estimate including the tier's queue
};

// The needs a request states (OpenAI extension fields; absent = no constraint).
struct RouteNeeds {
  std::optional<double> max_usd_per_million_tokens;
  std::optional<double> latency_slo_ms;      // per output token
  Difficulty difficulty = Difficulty::kEasy;
};

enum class RouteReason { kCheapest, kDifficulty, kLatencySlo, kBestEffort, kOverflow, kNamed };

// The label value used in the X-Frugal-Route header and in /metrics.
const char* route_reason_name(RouteReason reason);

struct RouteDecision {
  size_t tier_idx = 0;
  RouteReason reason = RouteReason::kCheapest;
};

// Precondition (CHECKed): tiers is not empty. Errors: kInvalidArgument when no tier is under the
// cost cap.
Expected<RouteDecision> choose_tier(const std::vector<TierEstimate>& tiers, const RouteNeeds& needs);

}  // namespace frugal

// A request's routing needs (server layer): the OpenAI-extension fields other servers ignore, and
// the prompt difficulty estimate.
//
// Fields (all optional):
//   "max_usd_per_million_tokens": number >= 0  hard cap on the tier's live $/Mtoken (router.h)
//   "latency_slo_ms": number > 0               target milliseconds per output token, arrival to last
//                                              token divided by the output tokens (queueing included)
//   "difficulty": "easy" | "hard" | "auto"     an explicit hint; "auto" (the default) estimates it
// NOTE (the difficulty heuristic, transparent on purpose): a prompt is "hard" when its text is
// longer than kHardPromptBytes, or it contains a code fence or one of a few reasoning markers
// ("step by step", "prove", "derive", "explain why", "analyze", "analyse", "debug", "algorithm"),
// case-insensitively. Everything else is "easy". The estimate only sets a minimum tier.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "server/openai_schema.h"
#include "server/router.h"

namespace frugal {

// Prompts longer than this (bytes of user-visible text) count as hard: long contexts are where a
// small model's quality drops first.
inline constexpr size_t kHardPromptBytes = 2000;

struct ParsedRouteNeeds {
  RouteNeeds needs;
  bool difficulty_hinted = false;  // "difficulty" was "easy" or "hard"
};

// Reads the extension fields of a parsed request body; an InvalidField names a bad one.
std::optional<InvalidField> parse_route_needs(const nlohmann::json& body, ParsedRouteNeeds& out);

// The heuristic above over the request's prompt text (completions prompts or chat messages).
Difficulty estimate_difficulty(const ApiRequest& request);
Difficulty estimate_difficulty_of_text(const std::string& text);

}  // namespace frugal

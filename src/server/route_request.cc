#include "server/route_request.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>

namespace frugal {
namespace {

using json = nlohmann::json;

constexpr std::array<const char*, 9> kHardMarkers = {"```",         "step by step", "prove",   "derive", "explain why",
                                                     "analyze",     "analyse",      "debug",   "algorithm"};

std::optional<InvalidField> read_number(const json& body, const char* field, bool allow_zero,
                                        std::optional<double>& out) {
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) return InvalidField{field, std::string(field) + " must be a number"};
  const double value = it->get<double>();
  if (!std::isfinite(value) || value < 0 || (!allow_zero && value == 0)) {
    return InvalidField{field, std::string(field) + (allow_zero ? " must be >= 0" : " must be > 0")};
  }
  out = value;
  return std::nullopt;
}

}  // namespace

std::optional<InvalidField> parse_route_needs(const json& body, ParsedRouteNeeds& out) {
  out = ParsedRouteNeeds{};
  if (auto e = read_number(body, "max_usd_per_million_tokens", /*allow_zero=*/true, out.needs.max_usd_per_million_tokens)) {
    return e;
  }
  if (auto e = read_number(body, "latency_slo_ms", /*allow_zero=*/false, out.needs.latency_slo_ms)) return e;
  const auto it = body.find("difficulty");
  if (it == body.end() || it->is_null()) return std::nullopt;
  const std::string hint = it->is_string() ? it->get<std::string>() : "";
  if (hint == "easy" || hint == "hard") {
    out.needs.difficulty = hint == "hard" ? Difficulty::kHard : Difficulty::kEasy;
    out.difficulty_hinted = true;
  } else if (hint != "auto") {
    return InvalidField{"difficulty", "difficulty must be \"easy\", \"hard\" or \"auto\""};
  }
  return std::nullopt;
}

Difficulty estimate_difficulty_of_text(const std::string& text) {
  if (text.size() > kHardPromptBytes) return Difficulty::kHard;
  std::string lower(text.size(), ' ');
  std::transform(text.begin(), text.end(), lower.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  for (const char* marker : kHardMarkers) {
    if (lower.find(marker) != std::string::npos) return Difficulty::kHard;
  }
  return Difficulty::kEasy;
}

Difficulty estimate_difficulty(const ApiRequest& request) {
  std::string text;
  for (const PromptInput& prompt : request.prompts) {
    if (!prompt.is_tokens) text += prompt.text + "\n";
  }
  for (const ChatMessage& message : request.messages) text += message.content + "\n";
  return estimate_difficulty_of_text(text);
}

}  // namespace frugal

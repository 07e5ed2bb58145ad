// The operator's moderation policy (trust layer): categories of terms and patterns, each with an
// action, and how a guard model's answers map onto them. Read from a JSON file at start-up; any
// mistake in the file is an error that names the file and the field (or line and column), never a
// silent fallback. Format and semantics: docs/design/trust-moderation.md.
//
//   {"version": 1,
//    "categories": [
//      {"name": "weapons", "action": "block",                 // allow | block | hold
//       "description": "...",                                 // optional, for people
//       "terms": ["pipe bomb", "nerve agent"],                // whole-word, evasion-normalised
//       "patterns": ["\\bbuild(ing)? an? bomb\\b"],           // PCRE2 over the folded text
//       "guard_categories": ["S9"]}],                         // Llama Guard codes that mean this category
//    "guard": {"unmapped": "hold", "unparseable": "hold"}}    // optional; both default to hold
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"

namespace frugal::trust {

// Ordered by severity: a verdict is the most severe action among everything that matched.
enum class ModerationAction { kAllow = 0, kHold = 1, kBlock = 2 };

const char* moderation_action_name(ModerationAction action);  // "allow", "hold", "block"

struct PolicyCategory {
  std::string name;
  ModerationAction action = ModerationAction::kBlock;
  std::string description;
  std::vector<std::string> terms;
  std::vector<std::string> patterns;
  std::vector<std::string> guard_categories;  // "S1".."S14"
};

struct ModerationPolicy {
  std::string source;  // the file it came from (for messages)
  std::vector<PolicyCategory> categories;
  ModerationAction guard_unmapped = ModerationAction::kHold;     // "unsafe" with codes no category names
  ModerationAction guard_unparseable = ModerationAction::kHold;  // an answer that is neither safe nor unsafe
};

// Parses policy JSON; `source` names it in errors ("policy.json:3:14: ..." or
// "policy.json: categories[1].action: ..."). Errors: kInvalidArgument.
Expected<ModerationPolicy> parse_moderation_policy(std::string_view json_text, const std::string& source);
// Reads and parses a file. Errors: kNotFound (unreadable), kInvalidArgument (malformed).
Expected<ModerationPolicy> load_moderation_policy(const std::string& path);
// The shipped policy's JSON text (data/trust/moderation-policy.json, compiled in by CMake into
// generated/built_in_moderation_policy.cc): what `frugal serve` moderates with when no file is named.
std::string_view built_in_moderation_policy_json();

}  // namespace frugal::trust

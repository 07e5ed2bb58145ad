#include "trust/moderation_policy.h"

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace frugal::trust {
namespace {

using json = nlohmann::json;

// "FILE:LINE:COL" of a byte offset, for JSON syntax errors.
std::string position_of(std::string_view text, size_t byte_offset, const std::string& source) {
  size_t line = 1, column = 1;
  for (size_t byte_idx = 0; byte_idx < byte_offset && byte_idx < text.size(); ++byte_idx) {
    if (text[byte_idx] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return source + ":" + std::to_string(line) + ":" + std::to_string(column);
}

Status field_error(const ModerationPolicy& policy, const std::string& field, const std::string& message) {
  return invalid_argument("moderation policy " + policy.source + ": " + field + ": " + message);
}

Expected<ModerationAction> parse_action(const json& value, const ModerationPolicy& policy, const std::string& field) {
  if (value.is_string()) {
    const std::string name = value.get<std::string>();
    if (name == "allow") return ModerationAction::kAllow;
    if (name == "block") return ModerationAction::kBlock;
    if (name == "hold") return ModerationAction::kHold;
  }
  return field_error(policy, field, "expected one of \"allow\", \"block\", \"hold\"; got " + value.dump());
}

Status check_keys(const json& object, const std::set<std::string>& known, const ModerationPolicy& policy,
                  const std::string& field) {
  for (const auto& [key, value] : object.items()) {
    if (known.count(key) == 0) return field_error(policy, field + (field.empty() ? "" : ".") + key, "unknown field");
  }
  return Status::ok();
}

Status read_strings(const json& category, const char* key, std::vector<std::string>& out,
                    const ModerationPolicy& policy, const std::string& field) {
  if (!category.contains(key)) return Status::ok();
  const json& list = category[key];
  if (!list.is_array()) return field_error(policy, field + "." + key, "expected an array of strings");
  for (size_t item_idx = 0; item_idx < list.size(); ++item_idx) {
    const std::string item_field = field + "." + key + "[" + std::to_string(item_idx) + "]";
    if (!list[item_idx].is_string() || list[item_idx].get<std::string>().empty()) {
      return field_error(policy, item_field, "expected a non-empty string; got " + list[item_idx].dump());
    }
    out.push_back(list[item_idx].get<std::string>());
  }
  return Status::ok();
}

Status read_category(const json& entry, size_t category_idx, ModerationPolicy& policy) {
  const std::string field = "categories[" + std::to_string(category_idx) + "]";
  if (!entry.is_object()) return field_error(policy, field, "expected an object");
  if (Status s = check_keys(entry, {"name", "action", "description", "terms", "patterns", "guard_categories"}, policy, field); !s) {
    return s;
  }
  PolicyCategory category;
  if (!entry.contains("name") || !entry["name"].is_string() || entry["name"].get<std::string>().empty()) {
    return field_error(policy, field + ".name", "a non-empty string is required");
  }
  category.name = entry["name"];
  static const std::regex kName("[a-z0-9_]+");
  if (!std::regex_match(category.name, kName)) {
    return field_error(policy, field + ".name", "use lower-case letters, digits and '_' (it is a metric label); got \"" + category.name + "\"");
  }
  for (const PolicyCategory& other : policy.categories) {
    if (other.name == category.name) return field_error(policy, field + ".name", "\"" + category.name + "\" is named twice");
  }
  if (!entry.contains("action")) return field_error(policy, field + ".action", "required (allow, block or hold)");
  auto action = parse_action(entry["action"], policy, field + ".action");
  if (!action) return action.error();
  category.action = *action;
  if (entry.contains("description")) {
    if (!entry["description"].is_string()) return field_error(policy, field + ".description", "expected a string");
    category.description = entry["description"];
  }
  for (const char* key : {"terms", "patterns", "guard_categories"}) {
    std::vector<std::string>& out = std::string(key) == "terms" ? category.terms
                                    : std::string(key) == "patterns" ? category.patterns : category.guard_categories;
    if (Status s = read_strings(entry, key, out, policy, field); !s) return s;
  }
  static const std::regex kGuardCode("S[1-9][0-9]?");
  for (size_t code_idx = 0; code_idx < category.guard_categories.size(); ++code_idx) {
    if (!std::regex_match(category.guard_categories[code_idx], kGuardCode)) {
      return field_error(policy, field + ".guard_categories[" + std::to_string(code_idx) + "]",
                         "expected a Llama Guard code such as \"S1\"; got \"" + category.guard_categories[code_idx] + "\"");
    }
  }
  if (category.terms.empty() && category.patterns.empty() && category.guard_categories.empty()) {
    return field_error(policy, field, "category \"" + category.name + "\" has no terms, patterns or guard_categories");
  }
  policy.categories.push_back(std::move(category));
  return Status::ok();
}

Status read_guard(const json& guard, ModerationPolicy& policy) {
  if (!guard.is_object()) return field_error(policy, "guard", "expected an object");
  if (Status s = check_keys(guard, {"unmapped", "unparseable"}, policy, "guard"); !s) return s;
  if (guard.contains("unmapped")) {
    auto action = parse_action(guard["unmapped"], policy, "guard.unmapped");
    if (!action) return action.error();
    policy.guard_unmapped = *action;
  }
  if (guard.contains("unparseable")) {
    auto action = parse_action(guard["unparseable"], policy, "guard.unparseable");
    if (!action) return action.error();
    policy.guard_unparseable = *action;
  }
  return Status::ok();
}

}  // namespace

const char* moderation_action_name(ModerationAction action) {
  switch (action) {
    case ModerationAction::kAllow: return "allow";
    case ModerationAction::kHold: return "hold";
    case ModerationAction::kBlock: return "block";
  }
  return "allow";
}

Expected<ModerationPolicy> parse_moderation_policy(std::string_view json_text, const std::string& source) {
  ModerationPolicy policy;
  policy.source = source;
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& e) {
    return invalid_argument("moderation policy " + position_of(json_text, e.byte > 0 ? e.byte - 1 : 0, source) +
                            ": not valid JSON (" + e.what() + ")");
  } catch (const json::exception& e) {  // e.g. a number out of range: no byte position
    return invalid_argument("moderation policy " + source + ": not valid JSON (" + e.what() + ")");
  }
  if (!root.is_object()) return field_error(policy, "(top level)", "expected a JSON object");
  if (Status s = check_keys(root, {"version", "categories", "guard"}, policy, ""); !s) return s;
  if (!root.contains("version") || root["version"] != 1) {
    return field_error(policy, "version", "expected 1; got " + (root.contains("version") ? root["version"].dump() : "nothing"));
  }
  if (!root.contains("categories") || !root["categories"].is_array()) {
    return field_error(policy, "categories", "an array of categories is required");
  }
  for (size_t category_idx = 0; category_idx < root["categories"].size(); ++category_idx) {
    if (Status s = read_category(root["categories"][category_idx], category_idx, policy); !s) return s;
  }
  if (root.contains("guard")) {
    if (Status s = read_guard(root["guard"], policy); !s) return s;
  }
  return policy;
}

Expected<ModerationPolicy> load_moderation_policy(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return not_found("cannot open moderation policy file " + path);
  std::ostringstream text;
  text << file.rdbuf();
  return parse_moderation_policy(text.str(), path);
}

}  // namespace frugal::trust

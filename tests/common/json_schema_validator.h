// An independent JSON Schema validator for tests (header-only): checks a parsed document against
// the keywords frugal's grammar compiler supports, written from the JSON Schema spec without any
// of the grammar code, so a bug in the grammar cannot hide itself in the check.
// Returns "" when the value validates, else the first violation with its JSON path.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace frugal::testing {

inline bool schema_type_matches(const nlohmann::ordered_json& v, const std::string& t) {
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "string") return v.is_string();
  if (t == "number") return v.is_number();
  if (t == "integer") return v.is_number_integer() || (v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<int64_t>(v.get<double>())));
  if (t == "boolean") return v.is_boolean();
  if (t == "null") return v.is_null();
  return false;
}

// Code points of a UTF-8 string.
inline int64_t utf8_length(const std::string& s) {
  int64_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

inline std::string validate_json_schema(const nlohmann::ordered_json& value, const nlohmann::ordered_json& schema,
                                        const std::string& path = "$") {
  using ojson = nlohmann::ordered_json;
  if (schema.is_boolean()) return schema.get<bool>() ? "" : path + ": schema false";
  if (schema.contains("const") && value != schema["const"]) return path + ": not the const " + schema["const"].dump();
  if (schema.contains("enum")) {
    bool found = false;
    for (const ojson& e : schema["enum"]) found = found || e == value;
    if (!found) return path + ": " + value.dump() + " not in enum";
  }
  if (schema.contains("anyOf")) {
    bool any = false;
    for (const ojson& alt : schema["anyOf"]) any = any || validate_json_schema(value, alt, path).empty();
    if (!any) return path + ": matches no anyOf alternative";
  }
  if (schema.contains("type")) {
    const ojson& t = schema["type"];
    bool ok = false;
    if (t.is_string()) ok = schema_type_matches(value, t.get<std::string>());
    for (const ojson& one : t.is_array() ? t : ojson::array()) ok = ok || schema_type_matches(value, one.get<std::string>());
    if (!ok) return path + ": " + value.dump() + " is not of type " + t.dump();
  }
  if (value.is_object()) {
    if (schema.contains("required")) {
      for (const ojson& name : schema["required"]) {
        if (!value.contains(name.get<std::string>())) return path + ": missing required '" + name.get<std::string>() + "'";
      }
    }
    const ojson props = schema.value("properties", ojson::object());
    for (const auto& [key, member] : value.items()) {
      if (props.contains(key)) {
        std::string e = validate_json_schema(member, props[key], path + "." + key);
        if (!e.empty()) return e;
      } else if (schema.contains("additionalProperties")) {
        const ojson& extra = schema["additionalProperties"];
        if (extra.is_boolean() && !extra.get<bool>()) return path + ": unexpected property '" + key + "'";
        if (extra.is_object()) {
          std::string e = validate_json_schema(member, extra, path + "." + key);
          if (!e.empty()) return e;
        }
      }
    }
  }
  if (value.is_array()) {
    if (schema.contains("minItems") && value.size() < schema["minItems"].get<size_t>()) return path + ": too few items";
    if (schema.contains("maxItems") && value.size() > schema["maxItems"].get<size_t>()) return path + ": too many items";
    if (schema.contains("items")) {
      for (size_t i = 0; i < value.size(); ++i) {
        std::string e = validate_json_schema(value[i], schema["items"], path + "[" + std::to_string(i) + "]");
        if (!e.empty()) return e;
      }
    }
  }
  if (value.is_string()) {
    const int64_t n = utf8_length(value.get<std::string>());
    if (schema.contains("minLength") && n < schema["minLength"].get<int64_t>()) return path + ": string too short";
    if (schema.contains("maxLength") && n > schema["maxLength"].get<int64_t>()) return path + ": string too long";
  }
  return "";
}

}  // namespace frugal::testing

#include "grammar/json_schema.h"

#include <array>
#include <set>
#include <string>
#include <string_view>

namespace frugal {
namespace {

using ojson = nlohmann::ordered_json;

constexpr int kMaxSchemaDepth = 64;
constexpr size_t kMaxSchemaNodes = 20000;
constexpr size_t kMaxEnumValues = 4096;

constexpr std::array<const char*, 23> kKnownKeywords = {
    "type",  "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
    "minLength", "maxLength", "enum", "const", "anyOf", "title", "description", "default", "examples",
    "$schema", "$id", "$comment", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"};

// Every number the matcher generates has at most kMaxNumberDigits (15) integer digits, so
// |value| < 1e15. A numeric bound at or beyond that (zod's `.int()` says +-(2^53 - 1)) holds for
// every generated value and is accepted; a narrower one would need range-aware matching, which
// the grammar does not do, so it is refused rather than ignored.
constexpr double kGeneratedMagnitude = 1e15;

Status check_numeric_bounds(const ojson& schema, const std::string& path) {
  for (const char* key : {"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"}) {
    const auto it = schema.find(key);
    if (it == schema.end()) continue;
    if (!it->is_number()) return invalid_argument(std::string("'") + key + "' must be a number at " + path);
    const double bound = it->get<double>();
    const bool lower = std::string_view(key).ends_with("inimum");
    if (lower ? bound > -kGeneratedMagnitude : bound < kGeneratedMagnitude) {
      return invalid_argument(std::string("'") + key +
                              "' narrower than +-1e15 is not supported (numbers are generated without range "
                              "checks) at " + path);
    }
  }
  return Status::ok();
}

class Compiler {
 public:
  Compiler(const SchemaOptions& options, Grammar& grammar) : options_(options), g_(grammar) {}

  Expected<int32_t> compile(const ojson& schema, const std::string& path, int depth) {
    if (depth > kMaxSchemaDepth) return fail(path, "the schema nests deeper than " + std::to_string(kMaxSchemaDepth));
    if (g_.num_nodes() > kMaxSchemaNodes) return fail(path, "the schema is too large");
    if (schema.is_boolean()) {
      if (schema.get<bool>()) return g_.builtins().any;
      return fail(path, "the schema 'false' accepts no value");
    }
    if (!schema.is_object()) return fail(path, "a schema must be an object");
    for (const auto& [key, value] : schema.items()) {
      bool known = false;
      for (const char* k : kKnownKeywords) known = known || key == k;
      if (!known) return fail(path, "unsupported JSON Schema keyword '" + key + "'");
    }
    if (auto e = check_numeric_bounds(schema, path); !e.is_ok()) return e;
    if (schema.contains("enum") || schema.contains("const")) return compile_literals(schema, path);
    if (const auto it = schema.find("anyOf"); it != schema.end()) {
      if (schema.contains("type")) return fail(path, "'anyOf' together with 'type' is not supported");
      return compile_any_of(*it, path, depth);
    }
    std::vector<std::string> types;
    if (auto e = read_types(schema, path, types); !e.is_ok()) return e;
    if (types.empty()) {
      if (schema.contains("properties") || schema.contains("additionalProperties") || schema.contains("required")) {
        types = {"object"};
      } else if (schema.contains("items") || schema.contains("minItems") || schema.contains("maxItems")) {
        types = {"array"};
      } else if (schema.contains("minLength") || schema.contains("maxLength")) {
        types = {"string"};
      } else {
        return g_.builtins().any;
      }
    }
    std::vector<int32_t> alternatives;
    for (const std::string& type : types) {
      Expected<int32_t> node = compile_type(schema, type, path, depth);
      if (!node) return node;
      alternatives.push_back(*node);
    }
    if (alternatives.size() == 1) return alternatives[0];
    Node un;
    un.kind = NodeKind::kUnion;
    un.alternatives = std::move(alternatives);
    return g_.add(std::move(un));
  }

 private:
  static Status fail(const std::string& path, const std::string& message) {
    return invalid_argument(message + " at " + path);
  }

  Status read_types(const ojson& schema, const std::string& path, std::vector<std::string>& out) {
    const auto it = schema.find("type");
    if (it == schema.end()) return Status::ok();
    std::vector<ojson> raw;
    if (it->is_string()) raw.push_back(*it);
    else if (it->is_array()) raw.assign(it->begin(), it->end());
    else return fail(path, "'type' must be a string or an array of strings");
    if (raw.empty()) return fail(path, "'type' must not be empty");
    bool number = false, integer = false;
    for (const ojson& t : raw) {
      if (!t.is_string()) return fail(path, "'type' must be a string or an array of strings");
      const std::string name = t.get<std::string>();
      if (name != "object" && name != "array" && name != "string" && name != "number" && name != "integer" &&
          name != "boolean" && name != "null") {
        return fail(path, "unknown type '" + name + "'");
      }
      number = number || name == "number";
      integer = integer || name == "integer";
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
    }
    if (number && integer) std::erase(out, std::string("integer"));  // every integer is a number
    return Status::ok();
  }

  Status read_count(const ojson& schema, const char* key, const std::string& path, int64_t& out) {
    const auto it = schema.find(key);
    if (it == schema.end()) return Status::ok();
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 100000) {
      return fail(path, std::string("'") + key + "' must be an integer between 0 and 100000");
    }
    out = it->get<int64_t>();
    return Status::ok();
  }

  Expected<int32_t> compile_type(const ojson& schema, const std::string& type, const std::string& path, int depth) {
    Node n;
    if (type == "object") return compile_object(schema, path, depth);
    if (type == "array") {
      n.kind = NodeKind::kArray;
      if (auto e = read_count(schema, "minItems", path, n.min_items); !e.is_ok()) return e;
      n.max_items = -1;
      if (schema.contains("maxItems")) {
        if (auto e = read_count(schema, "maxItems", path, n.max_items); !e.is_ok()) return e;
        if (n.max_items < n.min_items) return fail(path, "'maxItems' is below 'minItems'");
      }
      n.items = g_.builtins().any;
      if (const auto it = schema.find("items"); it != schema.end()) {
        if (it->is_array()) return fail(path, "tuple 'items' (an array of schemas) is not supported");
        Expected<int32_t> items = compile(*it, path + "/items", depth + 1);
        if (!items) return items;
        n.items = *items;
      }
      return g_.add(std::move(n));
    }
    if (type == "string") {
      n.kind = NodeKind::kString;
      if (auto e = read_count(schema, "minLength", path, n.min_length); !e.is_ok()) return e;
      n.max_length = -1;
      if (schema.contains("maxLength")) {
        if (auto e = read_count(schema, "maxLength", path, n.max_length); !e.is_ok()) return e;
        if (n.max_length < n.min_length) return fail(path, "'maxLength' is below 'minLength'");
      }
      return g_.add(std::move(n));
    }
    if (type == "number" || type == "integer") {
      n.kind = type == "number" ? NodeKind::kNumber : NodeKind::kInteger;
      return g_.add(std::move(n));
    }
    n.kind = NodeKind::kLiteral;
    n.literal = type == "boolean" ? LiteralSet::from({{"false", 0}, {"true", 0}}) : LiteralSet::from({{"null", 0}});
    return g_.add(std::move(n));
  }

  Expected<int32_t> compile_object(const ojson& schema, const std::string& path, int depth) {
    Node n;
    n.kind = NodeKind::kObject;
    bool additional = true;
    if (const auto it = schema.find("additionalProperties"); it != schema.end()) {
      if (it->is_boolean()) {
        additional = it->get<bool>();
      } else if (!it->is_object()) {
        return fail(path, "'additionalProperties' must be a boolean or a schema");
      } else if (!schema.contains("properties")) {
        return fail(path, "'additionalProperties' as a schema without 'properties' is not supported");
      }
    }
    if (options_.strict && additional) {
      return fail(path, "strict mode requires \"additionalProperties\": false on every object");
    }
    const auto props = schema.find("properties");
    if (props == schema.end()) {
      if (schema.contains("required") && !schema["required"].empty()) {
        return fail(path, "'required' names properties that 'properties' does not declare");
      }
      n.free_form = additional;  // additionalProperties false and no properties: only {}
      return g_.add(std::move(n));
    }
    if (!props->is_object()) return fail(path, "'properties' must be an object");
    std::set<std::string> required;
    if (const auto it = schema.find("required"); it != schema.end()) {
      if (!it->is_array()) return fail(path, "'required' must be an array of strings");
      for (const ojson& name : *it) {
        if (!name.is_string()) return fail(path, "'required' must be an array of strings");
        if (!props->contains(name.get<std::string>())) {
          return fail(path, "required property '" + name.get<std::string>() + "' is not in 'properties'");
        }
        required.insert(name.get<std::string>());
      }
    }
    for (const auto& [key, sub] : props->items()) {
      Expected<int32_t> value = compile(sub, path + "/properties/" + key, depth + 1);
      if (!value) return value;
      n.properties.push_back(Property{*value, required.count(key) > 0, json_quote(key)});
    }
    return g_.add(std::move(n));
  }

  // enum / const: the values (canonical JSON texts) that also satisfy "type" when it is given.
  Expected<int32_t> compile_literals(const ojson& schema, const std::string& path) {
    std::vector<ojson> values;
    if (const auto it = schema.find("const"); it != schema.end()) values.push_back(*it);
    if (const auto it = schema.find("enum"); it != schema.end()) {
      if (!it->is_array() || it->empty()) return fail(path, "'enum' must be a non-empty array");
      if (it->size() > kMaxEnumValues) return fail(path, "'enum' has more than " + std::to_string(kMaxEnumValues) + " values");
      if (schema.contains("const")) return fail(path, "'enum' together with 'const' is not supported");
      values.assign(it->begin(), it->end());
    }
    std::vector<std::string> types;
    if (auto e = read_types(schema, path, types); !e.is_ok()) return e;
    std::vector<std::pair<std::string, int32_t>> texts;
    for (const ojson& value : values) {
      if (!types.empty() && !matches_type(value, types)) continue;
      texts.emplace_back(value.dump(), 0);
    }
    if (texts.empty()) return fail(path, "no 'enum'/'const' value has the schema's 'type'");
    Node n;
    n.kind = NodeKind::kLiteral;
    n.literal = LiteralSet::from(std::move(texts));
    return g_.add(std::move(n));
  }

  static bool matches_type(const ojson& value, const std::vector<std::string>& types) {
    for (const std::string& t : types) {
      if ((t == "object" && value.is_object()) || (t == "array" && value.is_array()) ||
          (t == "string" && value.is_string()) || (t == "number" && value.is_number()) ||
          (t == "integer" && value.is_number_integer()) || (t == "boolean" && value.is_boolean()) ||
          (t == "null" && value.is_null())) {
        return true;
      }
    }
    return false;
  }

  // The bytes a node's text can start with: anyOf alternatives must not share one.
  void first_bytes(int32_t index, std::array<bool, 256>& out) const {
    const Node& n = g_.node(index);
    switch (n.kind) {
      case NodeKind::kAny:
        for (char c : std::string("{[\"-0123456789tfn")) out[static_cast<uint8_t>(c)] = true;
        break;
      case NodeKind::kObject: out['{'] = true; break;
      case NodeKind::kArray: out['['] = true; break;
      case NodeKind::kString: out['"'] = true; break;
      case NodeKind::kNumber:
      case NodeKind::kInteger:
        for (char c : std::string("-0123456789")) out[static_cast<uint8_t>(c)] = true;
        break;
      case NodeKind::kLiteral:
        for (const std::string& text : n.literal.texts) out[static_cast<uint8_t>(text[0])] = true;
        break;
      case NodeKind::kUnion:
        for (int32_t alt : n.alternatives) first_bytes(alt, out);
        break;
      case NodeKind::kSequence: break;
    }
  }

  Expected<int32_t> compile_any_of(const ojson& list, const std::string& path, int depth) {
    if (!list.is_array() || list.empty()) return fail(path, "'anyOf' must be a non-empty array of schemas");
    Node un;
    un.kind = NodeKind::kUnion;
    std::array<bool, 256> seen{};
    for (size_t alt_idx = 0; alt_idx < list.size(); ++alt_idx) {
      const std::string alt_path = path + "/anyOf/" + std::to_string(alt_idx);
      Expected<int32_t> alt = compile(list[alt_idx], alt_path, depth + 1);
      if (!alt) return alt;
      std::array<bool, 256> first{};
      first_bytes(*alt, first);
      for (size_t b = 0; b < first.size(); ++b) {
        if (first[b] && seen[b]) {
          return fail(alt_path, "'anyOf' alternatives of the same JSON type (both can start with '" +
                                    std::string(1, static_cast<char>(b)) + "') are not supported");
        }
        seen[b] = seen[b] || first[b];
      }
      un.alternatives.push_back(*alt);
    }
    if (un.alternatives.size() == 1) return un.alternatives[0];
    return g_.add(std::move(un));
  }

  SchemaOptions options_;
  Grammar& g_;
};

}  // namespace

Expected<int32_t> compile_json_schema(const nlohmann::ordered_json& schema, const SchemaOptions& options,
                                      Grammar& grammar) {
  Compiler compiler(options, grammar);
  return compiler.compile(schema, "#", 0);
}

Expected<std::shared_ptr<const Grammar>> json_schema_grammar(const nlohmann::ordered_json& schema,
                                                             const SchemaOptions& options) {
  auto grammar = std::make_shared<Grammar>();
  Expected<int32_t> node = compile_json_schema(schema, options, *grammar);
  if (!node) return node.error();
  add_document_root(*grammar, *node);
  grammar->finalize();
  return std::shared_ptr<const Grammar>(std::move(grammar));
}

}  // namespace frugal

// Grammar: the compiled, immutable form of a structured-output constraint (grammar layer). A
// grammar is a tree of schema nodes (JSON values constrained by a JSON Schema subset) wrapped in a
// top-level sequence of parts (literal text such as "<tool_call>\n", values, a choice of tool name
// that selects the arguments' schema). JsonMatcher walks it byte by byte; json_schema.h builds it.
// Thread-safety: immutable after build; shared (shared_ptr<const Grammar>) by every request using it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace frugal {

// A set of exact byte strings (enum values, object keys, literal text), sorted so that the strings
// sharing a prefix form one contiguous range: a matcher narrows [lo, hi) one byte at a time.
struct LiteralSet {
  std::vector<std::string> texts;  // sorted, unique
  std::vector<int32_t> payload;    // [texts.size()]: what a text selects (property index, variant)
  int64_t min_length = 0;          // bytes of the shortest text

  // Builds from unsorted (text, payload) pairs; duplicate texts keep the first payload.
  static LiteralSet from(std::vector<std::pair<std::string, int32_t>> items);
};

enum class NodeKind : uint8_t {
  kAny,       // any JSON value (json_object mode, "{}", objects without "properties")
  kObject,    // declared properties, generated in schema order; optional ones may be skipped
  kArray,
  kString,
  kNumber,
  kInteger,
  kLiteral,   // one of a fixed set of JSON texts: enum, const, boolean, null
  kUnion,     // alternatives of different JSON kinds, chosen by the value's first byte
  kSequence,  // parts in order (a tool call object, the document's top level)
};

struct Property {
  int32_t value = -1;      // node index
  bool required = false;
  std::string key;         // JSON-encoded with quotes: "\"name\""
};

enum class PartKind : uint8_t {
  kLiteral,      // `literal` exactly
  kValue,        // a value of node `node`
  kChoice,       // one text of `literal` (e.g. a quoted tool name); its payload is the variant
  kChoiceValue,  // a value of node `variants[variant chosen by the kChoice before it]`
};

struct Part {
  PartKind kind = PartKind::kLiteral;
  LiteralSet literal;             // kLiteral (one text), kChoice
  int32_t node = -1;              // kValue
  std::vector<int32_t> variants;  // kChoiceValue: node per choice payload
};

struct Node {
  NodeKind kind = NodeKind::kAny;
  int64_t min_bytes = 1;  // bytes of the shortest text of this node (computed by finalize())

  // kObject: properties in generation order, and for each next-property index i the keys that may
  // come next (property j >= i with no required property in [i, j)), payload j.
  std::vector<Property> properties;
  std::vector<LiteralSet> next_keys;     // [properties.size() + 1]; next_keys.back() is empty
  std::vector<uint8_t> closable;         // [properties.size() + 1]: no required property at >= i
  std::vector<int64_t> required_tail;    // [properties.size() + 1]: bytes of ",key:min" over required >= i
  bool free_form = false;                // any keys (strings), any values; properties unused

  // kArray
  int32_t items = -1;
  int64_t min_items = 0;
  int64_t max_items = -1;  // -1: unbounded

  // kString (lengths in code points, as JSON Schema counts them)
  int64_t min_length = 0;
  int64_t max_length = -1;  // -1: unbounded

  // kLiteral
  LiteralSet literal;

  // kUnion
  std::vector<int32_t> alternatives;

  // kSequence
  std::vector<Part> parts;
  bool whitespace_between_parts = false;
};

// Limits that keep every document finite and every parser happy.
inline constexpr int32_t kMaxWhitespaceRun = 16;    // bytes of whitespace in a row (indentation)
inline constexpr int32_t kMaxNestingDepth = 32;     // containers inside containers (free-form values)
inline constexpr int32_t kMaxNumberDigits = 15;     // digits per integer/fraction part (exact in double)
inline constexpr int32_t kMaxExponentDigits = 2;

class Grammar {
 public:
  // Node indices are stable; root() is a kSequence.
  const Node& node(int32_t index) const { return nodes_[static_cast<size_t>(index)]; }
  int32_t root() const { return root_; }
  // Nodes every grammar has, for free-form (kAny) values.
  struct Builtins {
    int32_t any = -1;          // kAny
    int32_t object = -1;       // free-form kObject
    int32_t array = -1;        // kArray of kAny
    int32_t string = -1;       // kString without limits
    int32_t number = -1;       // kNumber
    int32_t constants = -1;    // kLiteral {false, null, true}
  };
  const Builtins& builtins() const { return builtins_; }
  size_t num_nodes() const { return nodes_.size(); }

  // Building (json_schema.cc, tool grammars): add nodes, then finalize() once.
  Grammar();
  int32_t add(Node node);
  Node& mutable_node(int32_t index) { return nodes_[static_cast<size_t>(index)]; }
  void set_root(int32_t index) { root_ = index; }
  // Computes min_bytes, next_keys, closable and required_tail for every node.
  void finalize();

 private:
  int64_t compute_min(int32_t index, std::vector<uint8_t>& state);
  std::vector<Node> nodes_;
  int32_t root_ = -1;
  Builtins builtins_;
};

// The root sequence of a grammar that is one value of `node`.
int32_t add_document_root(Grammar& grammar, int32_t node);
// json_object mode: any JSON object.
std::shared_ptr<const Grammar> any_object_grammar();

// The JSON encoding of a string, quotes included (what keys and enum strings look like in output).
std::string json_quote(const std::string& text);

}  // namespace frugal

#include "grammar/grammar.h"

#include "grammar/sequence_min.h"

#include <algorithm>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/check.h"

namespace frugal {
namespace {

constexpr int64_t kUnreachable = std::numeric_limits<int64_t>::max() / 4;

int64_t saturating_add(int64_t a, int64_t b) { return std::min(kUnreachable, a + b); }

}  // namespace

LiteralSet LiteralSet::from(std::vector<std::pair<std::string, int32_t>> items) {
  std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  LiteralSet set;
  for (auto& [text, payload] : items) {
    if (!set.texts.empty() && set.texts.back() == text) continue;
    set.texts.push_back(std::move(text));
    set.payload.push_back(payload);
  }
  set.min_length = kUnreachable;
  for (const std::string& text : set.texts) set.min_length = std::min<int64_t>(set.min_length, text.size());
  return set;
}

std::string json_quote(const std::string& text) { return nlohmann::json(text).dump(); }

Grammar::Grammar() {
  Node any;
  any.kind = NodeKind::kAny;
  builtins_.any = add(any);
  Node object;
  object.kind = NodeKind::kObject;
  object.free_form = true;
  builtins_.object = add(object);
  Node array;
  array.kind = NodeKind::kArray;
  array.items = builtins_.any;
  builtins_.array = add(array);
  Node string;
  string.kind = NodeKind::kString;
  builtins_.string = add(string);
  Node number;
  number.kind = NodeKind::kNumber;
  builtins_.number = add(number);
  Node constants;
  constants.kind = NodeKind::kLiteral;
  constants.literal = LiteralSet::from({{"false", 0}, {"null", 0}, {"true", 0}});
  builtins_.constants = add(constants);
}

int32_t Grammar::add(Node node) {
  nodes_.push_back(std::move(node));
  return static_cast<int32_t>(nodes_.size() - 1);
}

// Shortest text of each node. Schema nodes form a tree below the builtins, whose only cycle
// (any -> object/array -> any) is cut by kAny's fixed minimum ("0").
int64_t Grammar::compute_min(int32_t index, std::vector<uint8_t>& state) {
  Node& n = nodes_[static_cast<size_t>(index)];
  if (state[static_cast<size_t>(index)] == 2) return n.min_bytes;
  CHECK(state[static_cast<size_t>(index)] == 0, "grammar: a schema node refers to itself");
  state[static_cast<size_t>(index)] = 1;
  int64_t min = 1;
  switch (n.kind) {
    case NodeKind::kAny:
    case NodeKind::kNumber:
    case NodeKind::kInteger: min = 1; break;
    case NodeKind::kString: min = 2 + n.min_length; break;
    case NodeKind::kLiteral: min = n.literal.min_length; break;
    case NodeKind::kArray: {
      const int64_t item = compute_min(n.items, state);
      min = 2 + n.min_items * item + std::max<int64_t>(0, n.min_items - 1);
      break;
    }
    case NodeKind::kUnion: {
      min = kUnreachable;
      for (int32_t alt : n.alternatives) min = std::min(min, compute_min(alt, state));
      break;
    }
    case NodeKind::kObject: {
      const size_t count = n.properties.size();
      n.required_tail.assign(count + 1, 0);
      n.closable.assign(count + 1, 1);
      for (size_t i = count; i-- > 0;) {
        const Property& p = n.properties[i];
        const int64_t member = 1 + static_cast<int64_t>(p.key.size()) + 1 + compute_min(p.value, state);
        n.required_tail[i] = n.required_tail[i + 1] + (p.required ? member : 0);
        n.closable[i] = n.closable[i + 1] && !p.required;
      }
      n.next_keys.assign(count + 1, LiteralSet{});
      for (size_t i = 0; i < count; ++i) {
        std::vector<std::pair<std::string, int32_t>> keys;
        for (size_t j = i; j < count; ++j) {
          keys.emplace_back(n.properties[j].key, static_cast<int32_t>(j));
          if (n.properties[j].required) break;
        }
        n.next_keys[i] = LiteralSet::from(std::move(keys));
      }
      // "{" + members without the first one's comma + "}"; the free-form minimum is "{}".
      min = n.free_form || n.required_tail[0] == 0 ? 2 : 2 + n.required_tail[0] - 1;
      break;
    }
    case NodeKind::kSequence: {
      for (const Part& part : n.parts) {
        if (part.kind == PartKind::kValue) compute_min(part.node, state);
        for (int32_t variant : part.variants) compute_min(variant, state);
      }
      state[static_cast<size_t>(index)] = 2;  // sequence_min_bytes reads the parts' minimums
      min = sequence_min_bytes(*this, n, 0, -1);
      break;
    }
  }
  n.min_bytes = min;
  state[static_cast<size_t>(index)] = 2;
  return min;
}

int64_t sequence_min_bytes(const Grammar& grammar, const Node& sequence, size_t from, int32_t variant) {
  int64_t total = 0;
  bool value_counted = false;  // a choice counts its value with it: the cheapest (name, value) pair
  for (size_t i = from; i < sequence.parts.size(); ++i) {
    const Part& part = sequence.parts[i];
    switch (part.kind) {
      case PartKind::kLiteral: total = saturating_add(total, part.literal.min_length); break;
      case PartKind::kValue: total = saturating_add(total, grammar.node(part.node).min_bytes); break;
      case PartKind::kChoice: {
        size_t value_idx = i + 1;
        while (value_idx < sequence.parts.size() && sequence.parts[value_idx].kind != PartKind::kChoiceValue) ++value_idx;
        CHECK(value_idx < sequence.parts.size(), "grammar: a choice needs a kChoiceValue after it");
        const Part& value = sequence.parts[value_idx];
        int64_t best = kUnreachable;
        for (size_t k = 0; k < part.literal.texts.size(); ++k) {
          const int32_t node = value.variants[static_cast<size_t>(part.literal.payload[k])];
          best = std::min(best, static_cast<int64_t>(part.literal.texts[k].size()) + grammar.node(node).min_bytes);
        }
        total = saturating_add(total, best);
        value_counted = true;
        break;
      }
      case PartKind::kChoiceValue:
        if (!value_counted) {
          CHECK(variant >= 0, "grammar: a choice value before its choice was made");
          total = saturating_add(total, grammar.node(part.variants[static_cast<size_t>(variant)]).min_bytes);
        }
        break;
    }
  }
  return total;
}

void Grammar::finalize() {
  std::vector<uint8_t> state(nodes_.size(), 0);
  for (size_t index = 0; index < nodes_.size(); ++index) compute_min(static_cast<int32_t>(index), state);
}

int32_t add_document_root(Grammar& grammar, int32_t node) {
  Node root;
  root.kind = NodeKind::kSequence;
  Part part;
  part.kind = PartKind::kValue;
  part.node = node;
  root.parts.push_back(std::move(part));
  const int32_t index = grammar.add(std::move(root));
  grammar.set_root(index);
  return index;
}

std::shared_ptr<const Grammar> any_object_grammar() {
  auto grammar = std::make_shared<Grammar>();
  add_document_root(*grammar, grammar->builtins().object);
  grammar->finalize();
  return grammar;
}

}  // namespace frugal

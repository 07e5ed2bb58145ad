#include "grammar/json_matcher.h"

#include "grammar/sequence_min.h"

#include <algorithm>
#include <limits>

namespace frugal {
namespace {

using Frame = JsonMatcher::Frame;
using FrameKind = JsonMatcher::FrameKind;

constexpr int64_t kNever = std::numeric_limits<int64_t>::max() / 4;

// Object phases.
enum : uint8_t { kObjOpen, kObjKey, kObjColon, kObjValue, kObjAfter, kObjNeedKey };
// Array phases.
enum : uint8_t { kArrOpen, kArrValue, kArrAfter, kArrNeed };
// Number phases: after '-', after a leading '0', in integer digits, after '.', in fraction digits,
// after 'e', after the exponent's sign, in exponent digits.
enum : uint8_t { kNumStart, kNumMinus, kNumZero, kNumInt, kNumDot, kNumFrac, kNumExp, kNumExpSign, kNumExpDigits };
// String escape states: none, after '\', then the four hex digits of \uXXXX (the second one
// restricted to 0-7 after a 'd', which keeps lone surrogates out).
enum : uint8_t { kStrPlain, kStrEscape, kStrHex1, kStrHex2, kStrHex2AfterD, kStrHex3, kStrHex4 };

bool is_ws(uint8_t byte) { return byte == ' ' || byte == '\n' || byte == '\t' || byte == '\r'; }
bool is_digit(uint8_t byte) { return byte >= '0' && byte <= '9'; }
bool is_hex(uint8_t byte) {
  return is_digit(byte) || (byte >= 'a' && byte <= 'f') || (byte >= 'A' && byte <= 'F');
}

bool starts_value(const Grammar& g, int32_t index, uint8_t byte) {
  const Node& n = g.node(index);
  switch (n.kind) {
    case NodeKind::kAny:
      return byte == '{' || byte == '[' || byte == '"' || byte == '-' || is_digit(byte) || byte == 't' ||
             byte == 'f' || byte == 'n';
    case NodeKind::kObject: return byte == '{';
    case NodeKind::kArray: return byte == '[';
    case NodeKind::kString: return byte == '"';
    case NodeKind::kNumber:
    case NodeKind::kInteger: return byte == '-' || is_digit(byte);
    case NodeKind::kLiteral:
      for (const std::string& text : n.literal.texts) {
        if (!text.empty() && static_cast<uint8_t>(text[0]) == byte) return true;
      }
      return false;
    case NodeKind::kUnion:
      for (int32_t alt : n.alternatives) {
        if (starts_value(g, alt, byte)) return true;
      }
      return false;
    case NodeKind::kSequence: return !n.parts.empty();  // the sequence's first part decides
  }
  return false;
}

int64_t after_members(const Node& object, int32_t next) {
  return object.required_tail[static_cast<size_t>(next)] + 1;  // the remaining ",key:min" and "}"
}

}  // namespace

JsonMatcher::JsonMatcher(const Grammar& grammar) : grammar_(&grammar) {
  Frame root;
  root.kind = FrameKind::kSequence;
  root.node = grammar.root();
  stack_.push_back(root);
}

bool JsonMatcher::feed(std::string_view bytes) {
  for (char c : bytes) {
    if (!feed(static_cast<uint8_t>(c))) return false;
  }
  return true;
}

bool JsonMatcher::feed(uint8_t byte) {
  for (;;) {
    Frame& f = stack_.back();
    const Outcome outcome = step(f, byte);
    if (outcome == Outcome::kConsumed) return true;
    if (outcome == Outcome::kReject) return false;
    if (outcome == Outcome::kPushed) continue;  // the new top frame sees the byte
    const int32_t result = f.kind == FrameKind::kLiteral ? f.literals->payload[static_cast<size_t>(f.a)] : -1;
    if (f.kind == FrameKind::kObject || f.kind == FrameKind::kArray) --depth_;
    stack_.pop_back();
    child_done(result);
    if (outcome == Outcome::kDoneConsumed) return true;
  }
}

void JsonMatcher::child_done(int32_t result) {
  for (;;) {
    Frame& f = stack_.back();
    f.ws = 0;
    if (f.kind == FrameKind::kObject) {
      const Node& n = grammar_->node(f.node);
      if (f.phase == kObjKey) {
        if (!n.free_form) f.a = result;
        f.phase = kObjColon;
      } else {
        if (!n.free_form) ++f.a;
        f.phase = kObjAfter;
      }
      return;
    }
    if (f.kind == FrameKind::kArray) {
      ++f.a;
      f.phase = kArrAfter;
      return;
    }
    // A sequence: the part is done. A nested sequence (a tool call) ends with its last part.
    const Node& n = grammar_->node(f.node);
    if (n.parts[static_cast<size_t>(f.a)].kind == PartKind::kChoice) f.b = result;
    ++f.a;
    f.phase = 0;
    if (stack_.size() == 1 || static_cast<size_t>(f.a) < n.parts.size()) return;
    stack_.pop_back();
    result = -1;
  }
}

void JsonMatcher::push_value(int32_t node, bool allow_ws) {
  Frame f;
  f.kind = FrameKind::kValue;
  f.node = node;
  f.allow_ws = allow_ws;
  stack_.push_back(f);
}

void JsonMatcher::push_literal(const LiteralSet& set, int32_t node) {
  Frame f;
  f.kind = FrameKind::kLiteral;
  f.node = node;
  f.literals = &set;
  f.a = 0;
  f.b = static_cast<int32_t>(set.texts.size());
  stack_.push_back(f);
}

bool JsonMatcher::whitespace(Frame& f, uint8_t byte) {
  if (!is_ws(byte) || f.ws >= kMaxWhitespaceRun) return false;
  ++f.ws;
  return true;
}

JsonMatcher::Outcome JsonMatcher::step(Frame& f, uint8_t byte) {
  switch (f.kind) {
    case FrameKind::kValue: return step_value(f, byte);
    case FrameKind::kObject: return step_object(f, byte);
    case FrameKind::kArray: return step_array(f, byte);
    case FrameKind::kString: return step_string(f, byte);
    case FrameKind::kNumber: return step_number(f, byte);
    case FrameKind::kLiteral: return step_literal(f, byte);
    case FrameKind::kSequence: return step_sequence(f, byte);
  }
  return Outcome::kReject;
}

// A value not yet begun: its first byte picks what it becomes (the frame is replaced in place).
JsonMatcher::Outcome JsonMatcher::step_value(Frame& f, uint8_t byte) {
  if (f.allow_ws && is_ws(byte)) return whitespace(f, byte) ? Outcome::kConsumed : Outcome::kReject;
  int32_t index = f.node;
  const Grammar::Builtins& builtins = grammar_->builtins();
  for (;;) {
    const Node& n = grammar_->node(index);
    if (n.kind == NodeKind::kUnion) {
      const auto alt = std::find_if(n.alternatives.begin(), n.alternatives.end(),
                                    [&](int32_t a) { return starts_value(*grammar_, a, byte); });
      if (alt == n.alternatives.end()) return Outcome::kReject;
      index = *alt;
      continue;
    }
    if (n.kind != NodeKind::kAny) break;
    if (byte == '{') index = builtins.object;
    else if (byte == '[') index = builtins.array;
    else if (byte == '"') index = builtins.string;
    else if (byte == '-' || is_digit(byte)) index = builtins.number;
    else index = builtins.constants;
  }
  const Node& n = grammar_->node(index);
  if (!starts_value(*grammar_, index, byte)) return Outcome::kReject;
  Frame next;
  next.node = index;
  switch (n.kind) {
    case NodeKind::kObject:
    case NodeKind::kArray:
      if (depth_ >= kMaxNestingDepth) return Outcome::kReject;
      ++depth_;
      next.kind = n.kind == NodeKind::kObject ? FrameKind::kObject : FrameKind::kArray;
      f = next;
      return Outcome::kConsumed;
    case NodeKind::kString:
      next.kind = FrameKind::kString;
      f = next;
      return Outcome::kConsumed;
    case NodeKind::kNumber:
    case NodeKind::kInteger:
      next.kind = FrameKind::kNumber;
      f = next;
      return step_number(f, byte);
    case NodeKind::kLiteral:
      next.kind = FrameKind::kLiteral;
      next.literals = &n.literal;
      next.b = static_cast<int32_t>(n.literal.texts.size());
      f = next;
      return step_literal(f, byte);
    case NodeKind::kSequence:
      next.kind = FrameKind::kSequence;
      f = next;
      return step_sequence(f, byte);
    case NodeKind::kAny:
    case NodeKind::kUnion: break;
  }
  return Outcome::kReject;
}

JsonMatcher::Outcome JsonMatcher::step_object(Frame& f, uint8_t byte) {
  const Node& n = grammar_->node(f.node);
  const bool open = f.phase == kObjOpen, need_key = f.phase == kObjNeedKey;
  if (open || need_key || f.phase == kObjColon || f.phase == kObjAfter) {
    if (is_ws(byte)) return whitespace(f, byte) ? Outcome::kConsumed : Outcome::kReject;
  }
  const bool closable = n.free_form || n.closable[static_cast<size_t>(f.a)];
  if ((open || need_key) && byte == '"') {
    f.phase = kObjKey;
    f.ws = 0;
    if (n.free_form) {
      push_value(grammar_->builtins().string, false);
      return Outcome::kPushed;
    }
    const LiteralSet& keys = n.next_keys[static_cast<size_t>(f.a)];
    if (keys.texts.empty()) return Outcome::kReject;
    push_literal(keys, -1);
    return Outcome::kPushed;
  }
  if ((open || f.phase == kObjAfter) && byte == '}') return closable ? Outcome::kDoneConsumed : Outcome::kReject;
  if (f.phase == kObjColon && byte == ':') {
    f.phase = kObjValue;
    f.ws = 0;
    push_value(n.free_form ? grammar_->builtins().any : n.properties[static_cast<size_t>(f.a)].value, true);
    return Outcome::kConsumed;
  }
  if (f.phase == kObjAfter && byte == ',') {
    if (!n.free_form && n.next_keys[static_cast<size_t>(f.a)].texts.empty()) return Outcome::kReject;
    f.phase = kObjNeedKey;
    f.ws = 0;
    return Outcome::kConsumed;
  }
  return Outcome::kReject;
}

JsonMatcher::Outcome JsonMatcher::step_array(Frame& f, uint8_t byte) {
  const Node& n = grammar_->node(f.node);
  if (is_ws(byte) && f.phase != kArrValue) return whitespace(f, byte) ? Outcome::kConsumed : Outcome::kReject;
  const bool room = n.max_items < 0 || f.a < n.max_items;
  if ((f.phase == kArrOpen || f.phase == kArrAfter) && byte == ']') {
    return f.a >= n.min_items ? Outcome::kDoneConsumed : Outcome::kReject;
  }
  if (f.phase == kArrAfter) {
    if (byte != ',' || !room) return Outcome::kReject;
    f.phase = kArrNeed;
    f.ws = 0;
    return Outcome::kConsumed;
  }
  if (!room) return Outcome::kReject;
  f.phase = kArrValue;
  f.ws = 0;
  push_value(n.items, false);
  return Outcome::kPushed;
}

JsonMatcher::Outcome JsonMatcher::step_string(Frame& f, uint8_t byte) {
  const Node& n = grammar_->node(f.node);
  if (f.b > 0) {  // inside a multi-byte UTF-8 sequence
    const int lo = f.d & 0xFF, hi = (f.d >> 8) & 0xFF;
    if (byte < lo || byte > hi) return Outcome::kReject;
    f.d = 0x80 | (0xBF << 8);
    if (--f.b == 0) ++f.a;
    return Outcome::kConsumed;
  }
  switch (f.c) {
    case kStrEscape:
      if (byte == 'u') {
        f.c = kStrHex1;
      } else if (byte == '"' || byte == '\\' || byte == '/' || byte == 'b' || byte == 'f' || byte == 'n' ||
                 byte == 'r' || byte == 't') {
        f.c = kStrPlain;
        ++f.a;
      } else {
        return Outcome::kReject;
      }
      return Outcome::kConsumed;
    case kStrHex1:
      if (!is_hex(byte)) return Outcome::kReject;
      f.c = byte == 'd' || byte == 'D' ? kStrHex2AfterD : kStrHex2;
      return Outcome::kConsumed;
    case kStrHex2AfterD:
      if (byte < '0' || byte > '7') return Outcome::kReject;
      f.c = kStrHex3;
      return Outcome::kConsumed;
    case kStrHex2:
    case kStrHex3:
      if (!is_hex(byte)) return Outcome::kReject;
      f.c = f.c == kStrHex2 ? kStrHex3 : kStrHex4;
      return Outcome::kConsumed;
    case kStrHex4:
      if (!is_hex(byte)) return Outcome::kReject;
      f.c = kStrPlain;
      ++f.a;
      return Outcome::kConsumed;
    default: break;
  }
  if (byte == '"') return f.a >= n.min_length ? Outcome::kDoneConsumed : Outcome::kReject;
  if (n.max_length >= 0 && f.a >= n.max_length) return Outcome::kReject;
  if (byte == '\\') {
    f.c = kStrEscape;
    return Outcome::kConsumed;
  }
  if (byte < 0x20) return Outcome::kReject;  // control characters must be escaped
  if (byte < 0x80) {
    ++f.a;
    return Outcome::kConsumed;
  }
  // UTF-8 lead bytes and the range of the first continuation byte (no overlongs, no surrogates,
  // nothing above U+10FFFF).
  int pending = 0, lo = 0x80, hi = 0xBF;
  if (byte >= 0xC2 && byte <= 0xDF) {
    pending = 1;
  } else if (byte >= 0xE0 && byte <= 0xEF) {
    pending = 2;
    if (byte == 0xE0) lo = 0xA0;
    if (byte == 0xED) hi = 0x9F;
  } else if (byte >= 0xF0 && byte <= 0xF4) {
    pending = 3;
    if (byte == 0xF0) lo = 0x90;
    if (byte == 0xF4) hi = 0x8F;
  } else {
    return Outcome::kReject;
  }
  f.b = pending;
  f.d = lo | (hi << 8);
  return Outcome::kConsumed;
}

JsonMatcher::Outcome JsonMatcher::step_number(Frame& f, uint8_t byte) {
  const bool integer = grammar_->node(f.node).kind == NodeKind::kInteger;
  const bool digit = is_digit(byte);
  const bool exp = (byte == 'e' || byte == 'E') && !integer;
  switch (f.phase) {
    case kNumStart:
      if (byte == '-') { f.phase = kNumMinus; return Outcome::kConsumed; }
      [[fallthrough]];
    case kNumMinus:
      if (!digit) return Outcome::kReject;
      f.phase = byte == '0' ? kNumZero : kNumInt;
      f.a = 1;
      return Outcome::kConsumed;
    case kNumZero:
    case kNumInt:
      if (digit && f.phase == kNumInt && f.a < kMaxNumberDigits) { ++f.a; return Outcome::kConsumed; }
      if (byte == '.' && !integer) { f.phase = kNumDot; return Outcome::kConsumed; }
      if (exp) { f.phase = kNumExp; return Outcome::kConsumed; }
      return Outcome::kDoneRefeed;
    case kNumDot:
      if (!digit) return Outcome::kReject;
      f.phase = kNumFrac;
      f.a = 1;
      return Outcome::kConsumed;
    case kNumFrac:
      if (digit && f.a < kMaxNumberDigits) { ++f.a; return Outcome::kConsumed; }
      if (exp) { f.phase = kNumExp; return Outcome::kConsumed; }
      return Outcome::kDoneRefeed;
    case kNumExp:
      if (byte == '+' || byte == '-') { f.phase = kNumExpSign; return Outcome::kConsumed; }
      [[fallthrough]];
    case kNumExpSign:
      if (!digit) return Outcome::kReject;
      f.phase = kNumExpDigits;
      f.a = 1;
      return Outcome::kConsumed;
    case kNumExpDigits:
      if (digit && f.a < kMaxExponentDigits) { ++f.a; return Outcome::kConsumed; }
      return Outcome::kDoneRefeed;
    default: return Outcome::kReject;
  }
}

JsonMatcher::Outcome JsonMatcher::step_literal(Frame& f, uint8_t byte) {
  const std::vector<std::string>& texts = f.literals->texts;
  const size_t pos = static_cast<size_t>(f.c);
  // Texts in [a, b) share the first `pos` bytes; the one of exactly that length (if any) sorts first.
  const auto begin = texts.begin() + f.a + (texts[static_cast<size_t>(f.a)].size() == pos ? 1 : 0);
  const auto end = texts.begin() + f.b;
  const auto lo = std::partition_point(begin, end, [&](const std::string& t) { return static_cast<uint8_t>(t[pos]) < byte; });
  const auto hi = std::partition_point(lo, end, [&](const std::string& t) { return static_cast<uint8_t>(t[pos]) <= byte; });
  if (lo == hi) {
    return texts[static_cast<size_t>(f.a)].size() == pos ? Outcome::kDoneRefeed : Outcome::kReject;
  }
  f.a = static_cast<int32_t>(lo - texts.begin());
  f.b = static_cast<int32_t>(hi - texts.begin());
  f.c = static_cast<int32_t>(pos + 1);
  // Nothing longer can follow: the literal ends with this byte.
  if (f.b == f.a + 1 && lo->size() == pos + 1) return Outcome::kDoneConsumed;
  return Outcome::kConsumed;
}

JsonMatcher::Outcome JsonMatcher::step_sequence(Frame& f, uint8_t byte) {
  const Node& n = grammar_->node(f.node);
  if (static_cast<size_t>(f.a) >= n.parts.size()) return Outcome::kReject;
  if (n.whitespace_between_parts && f.a > 0 && is_ws(byte)) {
    return whitespace(f, byte) ? Outcome::kConsumed : Outcome::kReject;
  }
  const Part& part = n.parts[static_cast<size_t>(f.a)];
  f.phase = 1;
  f.ws = 0;
  switch (part.kind) {
    case PartKind::kLiteral:
    case PartKind::kChoice: push_literal(part.literal, -1); break;
    case PartKind::kValue: push_value(part.node, false); break;
    case PartKind::kChoiceValue: push_value(part.variants[static_cast<size_t>(f.b)], false); break;
  }
  return Outcome::kPushed;
}

bool JsonMatcher::complete_leaf(const Frame& f) const {
  if (f.kind == FrameKind::kNumber) {
    return f.phase == kNumZero || f.phase == kNumInt || f.phase == kNumFrac || f.phase == kNumExpDigits;
  }
  if (f.kind == FrameKind::kLiteral) return f.literals->texts[static_cast<size_t>(f.a)].size() == static_cast<size_t>(f.c);
  return false;
}

bool JsonMatcher::can_end() const {
  size_t i = stack_.size() - 1;
  const Frame& top = stack_[i];
  bool done = false;
  if (top.kind == FrameKind::kSequence && top.phase == 0) {
    done = static_cast<size_t>(top.a) >= grammar_->node(top.node).parts.size();
  } else {
    done = complete_leaf(top);
  }
  while (done && i > 0) {
    const Frame& parent = stack_[--i];
    if (parent.kind != FrameKind::kSequence) return false;
    done = static_cast<size_t>(parent.a) + 1 >= grammar_->node(parent.node).parts.size();
  }
  return done && i == 0;
}

bool JsonMatcher::can_continue() const {
  JsonMatcher probe(*this);
  for (int byte = 0; byte < 256; ++byte) {
    probe = *this;
    if (probe.feed(static_cast<uint8_t>(byte))) return true;
  }
  return false;
}

static int64_t sequence_rest(const Grammar& g, const Node& n, size_t from, int32_t variant) {
  return sequence_min_bytes(g, n, from, variant);
}

// What the parent of a finished key / tool-name literal still needs once that text is chosen.
int64_t JsonMatcher::choice_cost(const Frame& parent, int32_t payload) const {
  const Node& n = grammar_->node(parent.node);
  if (parent.kind == FrameKind::kObject) {
    const Property& p = n.properties[static_cast<size_t>(payload)];
    return 1 + grammar_->node(p.value).min_bytes + after_members(n, payload + 1);
  }
  return sequence_rest(*grammar_, n, static_cast<size_t>(parent.a) + 1, payload);
}

int64_t JsonMatcher::frame_cost(const Frame& f, bool child_on_top) const {
  const Node& n = grammar_->node(f.node >= 0 ? f.node : 0);
  switch (f.kind) {
    case FrameKind::kValue: return n.min_bytes;
    case FrameKind::kNumber: return complete_leaf(f) ? 0 : 1;
    case FrameKind::kLiteral: {
      int64_t best = kNever;
      for (int32_t k = f.a; k < f.b; ++k) {
        best = std::min<int64_t>(best, static_cast<int64_t>(f.literals->texts[static_cast<size_t>(k)].size()) - f.c);
      }
      return best;
    }
    case FrameKind::kString: {
      static constexpr int kEscapeLeft[] = {0, 1, 4, 3, 3, 2, 1};
      return 1 + f.b + kEscapeLeft[f.c] + std::max<int64_t>(0, n.min_length - f.a);
    }
    case FrameKind::kArray: {
      const int64_t item = grammar_->node(n.items).min_bytes;
      const int64_t done = f.a + (child_on_top ? 1 : 0);
      if (child_on_top || f.phase == kArrAfter) return std::max<int64_t>(0, n.min_items - done) * (1 + item) + 1;
      if (f.phase == kArrNeed) return item + std::max<int64_t>(0, n.min_items - f.a - 1) * (1 + item) + 1;
      return n.min_items == 0 ? 1 : n.min_items * item + (n.min_items - 1) + 1;  // kArrOpen
    }
    case FrameKind::kSequence: {
      if (!child_on_top) return sequence_rest(*grammar_, n, static_cast<size_t>(f.a), f.b);
      if (n.parts[static_cast<size_t>(f.a)].kind == PartKind::kChoice) {
        return sequence_rest(*grammar_, n, static_cast<size_t>(f.a), f.b);  // choice in progress: whole pair
      }
      return sequence_rest(*grammar_, n, static_cast<size_t>(f.a) + 1, f.b);
    }
    case FrameKind::kObject: {
      if (n.free_form) {
        switch (f.phase) {
          case kObjKey:
          case kObjColon: return 3;  // ":0}"
          case kObjNeedKey: return 5;  // "\"\":0}"
          default: return 1;           // "}"
        }
      }
      const auto key_path = [&](int32_t next) {
        const LiteralSet& keys = n.next_keys[static_cast<size_t>(next)];
        int64_t best = kNever;
        for (size_t k = 0; k < keys.texts.size(); ++k) {
          best = std::min<int64_t>(best, static_cast<int64_t>(keys.texts[k].size()) + choice_cost(f, keys.payload[k]));
        }
        return best;
      };
      switch (f.phase) {
        case kObjOpen: return n.closable[static_cast<size_t>(f.a)] ? 1 : key_path(f.a);
        case kObjNeedKey: return key_path(f.a);
        case kObjKey: return key_path(f.a);
        case kObjColon: return choice_cost(f, f.a);
        case kObjValue: return after_members(n, f.a + 1);
        default: return after_members(n, f.a);  // kObjAfter
      }
    }
  }
  return kNever;
}

int64_t JsonMatcher::min_remaining() const {
  if (can_end()) return 0;
  size_t i = stack_.size() - 1;
  const Frame& top = stack_[i];
  int64_t total = 0;
  bool joint = false;
  if (top.kind == FrameKind::kLiteral && i > 0) {
    const Frame& parent = stack_[i - 1];
    const Node& pn = grammar_->node(parent.node);
    joint = (parent.kind == FrameKind::kObject && parent.phase == kObjKey && !pn.free_form) ||
            (parent.kind == FrameKind::kSequence && pn.parts[static_cast<size_t>(parent.a)].kind == PartKind::kChoice);
    if (joint) {
      int64_t best = kNever;
      for (int32_t k = top.a; k < top.b; ++k) {
        const int64_t left = static_cast<int64_t>(top.literals->texts[static_cast<size_t>(k)].size()) - top.c;
        best = std::min(best, left + choice_cost(parent, top.literals->payload[static_cast<size_t>(k)]));
      }
      total = best;
      i -= 1;  // the parent is accounted for
    }
  }
  if (!joint) total = frame_cost(top, false);
  while (i-- > 0) total = std::min(kNever, total + frame_cost(stack_[i], true));
  return total;
}

}  // namespace frugal

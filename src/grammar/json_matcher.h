// JsonMatcher: a byte-level pushdown automaton over a Grammar (grammar layer). feed() accepts a
// byte only if some continuation of everything fed so far is in the grammar's language; can_end()
// says whether the text so far is a complete document; min_remaining() bounds how many more bytes
// the shortest completion needs (an upper bound that a real completion attains, so "fits the
// budget" is never promised wrongly).
// JSON texts it accepts are parsed by any conforming parser: strings are valid UTF-8 with no raw
// control bytes and no lone surrogate escapes; numbers have at most kMaxNumberDigits digits per part.
// Copyable value type (the token mask tries candidate tokens on copies); single-threaded.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "grammar/grammar.h"

namespace frugal {

class JsonMatcher {
 public:
  // `grammar` must outlive the matcher.
  explicit JsonMatcher(const Grammar& grammar);

  // Advances over one byte. On false the byte is not allowed and the matcher is left in an
  // unspecified state: test candidates on a copy.
  bool feed(uint8_t byte);
  bool feed(std::string_view bytes);
  // The bytes so far form a complete document (the root sequence is done, or its last value is a
  // number or literal that is complete as it stands).
  bool can_end() const;
  // Some byte can follow.
  bool can_continue() const;
  // Bytes of the shortest completion from here (0 when can_end()).
  int64_t min_remaining() const;

  JsonMatcher(const JsonMatcher&) = default;
  JsonMatcher& operator=(const JsonMatcher&) = default;  // reuses capacity: no allocation when warm

  enum class FrameKind : uint8_t { kValue, kObject, kArray, kString, kNumber, kLiteral, kSequence };
  struct Frame {
    FrameKind kind = FrameKind::kValue;
    uint8_t phase = 0;
    uint8_t ws = 0;          // whitespace bytes in the current run
    bool allow_ws = false;   // kValue: leading whitespace allowed
    int32_t node = -1;       // grammar node (kLiteral: -1 when `literals` is a key set or a part)
    int32_t a = 0;           // object: next property; array: items done; string: code points;
                             // number: digits in the current part; literal: lo; sequence: part
    int32_t b = 0;           // literal: hi; sequence: chosen variant; string: UTF-8 bytes pending
    int32_t c = 0;           // literal: bytes matched; string: escape state
    int32_t d = 0;           // string: allowed range of the next UTF-8 continuation byte (lo | hi << 8)
    const LiteralSet* literals = nullptr;
  };

 private:
  enum class Outcome : uint8_t { kConsumed, kReject, kPushed, kDoneRefeed, kDoneConsumed };
  Outcome step(Frame& f, uint8_t byte);
  Outcome step_value(Frame& f, uint8_t byte);
  Outcome step_object(Frame& f, uint8_t byte);
  Outcome step_array(Frame& f, uint8_t byte);
  Outcome step_string(Frame& f, uint8_t byte);
  Outcome step_number(Frame& f, uint8_t byte);
  Outcome step_literal(Frame& f, uint8_t byte);
  Outcome step_sequence(Frame& f, uint8_t byte);
  bool whitespace(Frame& f, uint8_t byte);
  void push_value(int32_t node, bool allow_ws);
  void push_literal(const LiteralSet& set, int32_t node);
  // The frame on top finished with `result` (a literal's payload): its parent moves on.
  void child_done(int32_t result);
  int64_t frame_cost(const Frame& f, bool child_on_top) const;
  int64_t choice_cost(const Frame& parent, int32_t payload) const;
  bool complete_leaf(const Frame& f) const;

  const Grammar* grammar_;
  std::vector<Frame> stack_;
  int32_t depth_ = 0;  // open containers
};

}  // namespace frugal

// Unicode-aware pre-tokenization by regex (tokenizer layer): a thin PCRE2 wrapper (UTF + UCP,
// JIT when available) that cuts text into the matches and the gaps between them.
// Thread-safety: split() is const and safe to call concurrently (match data is per call).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "core/expected.h"

namespace frugal {

class RegexSplitter {
 public:
  static Expected<RegexSplitter> create(std::string_view pattern);

  RegexSplitter(RegexSplitter&&) noexcept;
  RegexSplitter& operator=(RegexSplitter&&) noexcept;
  ~RegexSplitter();

  // Appends the pieces of `text` in order; their concatenation is `text`. Precondition: `text` is
  // valid UTF-8 (utf8::sanitize it first); it is not re-checked.
  void split(std::string_view text, std::vector<std::string_view>* pieces) const;

 private:
  struct Code;
  explicit RegexSplitter(std::unique_ptr<Code> code);
  std::unique_ptr<Code> code_;
};

}  // namespace frugal

// Splits input text around special-token texts before model tokenization (tokenizer layer).
// Control and unknown tokens are matched only when parse_special is set; user-defined tokens
// (type 4) are always matched, as llama.cpp and HF tokenizers do for added non-special tokens.
// Longer texts take precedence everywhere (llama.cpp's tokenizer_st_partition order).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/text_span.h"
#include "tokenizer/vocab.h"

namespace frugal {

struct TextFragment {
  int32_t token = -1;  // a special token id, or -1 for raw text
  std::string_view text;  // raw text when token == -1 (a view into the caller's input)
};

class SpecialTokenMatcher {
 public:
  static SpecialTokenMatcher create(const Vocab& vocab);

  // plain_spans: byte ranges of `text` that are plain text even when parse_special is set (chat
  // message content); a control or unknown token text overlapping one is not matched there.
  std::vector<TextFragment> partition(const Vocab& vocab, std::string_view text, bool parse_special,
                                      const std::vector<TextSpan>& plain_spans = {}) const;

 private:
  std::vector<int32_t> ids_;  // control, user-defined and unknown tokens, longest text first
};

}  // namespace frugal

// UTF-8 scanning helpers shared by the tokenizers and the streaming decoder (tokenizer layer).
// Validation is strict (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF); an invalid
// "maximal subpart" (Unicode 15 §3.9, D93b) is one unit that becomes one U+FFFD.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace frugal::utf8 {

inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

enum class SeqKind {
  kValid,       // a complete, well-formed code point
  kIncomplete,  // a well-formed prefix cut off by the end of the input
  kInvalid,     // ill-formed: replace `length` bytes by one U+FFFD
};

struct SeqScan {
  SeqKind kind = SeqKind::kValid;
  size_t length = 1;   // bytes consumed (>= 1 when text is not empty)
  uint32_t cpt = 0;    // the code point when kind == kValid
};

// Scans the sequence starting at text[0]. Precondition: !text.empty().
SeqScan scan(std::string_view text);

// Bytes a sequence with this lead byte claims (1 for ASCII and for stray continuation bytes,
// as SentencePiece splitting does); never more than the lead byte promises.
size_t lead_length(uint8_t lead);

// Replaces every ill-formed subpart (including a truncated sequence at the end) with U+FFFD.
std::string sanitize(std::string_view text);

// Emits the longest prefix of `text` that ends on a code point boundary, with ill-formed parts
// replaced by U+FFFD; returns how many bytes were consumed. A well-formed but incomplete tail is
// left unconsumed unless `final_chunk` is true, in which case it becomes U+FFFD.
size_t sanitize_prefix(std::string_view text, bool final_chunk, std::string* out);

bool is_valid(std::string_view text);

void append_cpt(uint32_t cpt, std::string* out);

}  // namespace frugal::utf8

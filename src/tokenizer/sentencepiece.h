// SentencePiece-BPE encoder for GGUF "llama" vocabularies (Llama 2, TinyLlama, Mistral) (tokenizer
// layer): merges adjacent pieces by vocab score, falls back to <0xXX> byte tokens.
// Thread-safety: immutable after create(); encode() is const and safe to call concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace frugal {

inline constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // U+2581 "▁", SentencePiece's space

class SpmEncoder {
 public:
  static SpmEncoder create(const Vocab& vocab);

  // Appends the ids of `escaped` (spaces already replaced by "▁", prefix already added).
  void encode(const Vocab& vocab, std::string_view escaped, std::vector<int32_t>* out) const;

 private:
  void append_bytes(std::string_view piece, std::vector<int32_t>* out) const;

  std::array<int32_t, 256> byte_ids_{};  // <0xXX> token (else the 1-byte text token, else unk, else -1)
};

// Replaces every ' ' with "▁".
std::string spm_escape_whitespace(std::string_view text);

}  // namespace frugal

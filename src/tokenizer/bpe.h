// Byte-level BPE encoder for GGUF "gpt2" vocabularies (tokenizer layer): regex pre-tokenization,
// GPT-2 byte mapping, then merges applied lowest rank first.
// Thread-safety: immutable after create(); encode() is const and safe to call concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"
#include "tokenizer/flat_index.h"
#include "tokenizer/regex_splitter.h"
#include "tokenizer/vocab.h"

namespace frugal {

class BpeEncoder {
 public:
  // `merges` is tokenizer.ggml.merges: "left right" per entry, rank = index (0 merges first).
  static Expected<BpeEncoder> create(const Vocab& vocab, const std::vector<std::string>& merges);

  // Appends the ids of one raw-text fragment (special tokens already split out). Ill-formed
  // UTF-8 is replaced by U+FFFD before pre-tokenization.
  void encode(const Vocab& vocab, std::string_view text, std::vector<int32_t>* out) const;

  size_t num_merges() const { return merges_.size(); }

 private:
  struct Scratch;

  BpeEncoder(RegexSplitter splitter, bool ignore_merges);
  void encode_word(const Vocab& vocab, std::string_view word, Scratch* scratch, std::vector<int32_t>* out) const;

  RegexSplitter splitter_;
  bool ignore_merges_;
  PairIndex merges_;                     // (left id, right id) -> (rank, merged id)
  std::array<int32_t, 256> byte_ids_{};  // token of each single byte, -1 when absent
};

}  // namespace frugal

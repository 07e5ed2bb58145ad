// Pre-tokenizer catalogue for byte-level BPE vocabularies (tokenizer layer): maps a GGUF
// tokenizer.ggml.pre name to its split regex and the flags llama.cpp ties to it.
#pragma once

#include <string_view>

namespace frugal {

struct PreTokenizerSpec {
  std::string_view name;   // canonical name reported by Tokenizer::pre_name()
  std::string_view regex;  // PCRE2 pattern, compiled with PCRE2_UTF | PCRE2_UCP
  bool ignore_merges = false;
  bool clean_spaces = true;       // decode applies clean_up_tokenization_spaces
  bool default_add_bos = false;   // when tokenizer.ggml.add_bos_token is absent
};

// Spec for a tokenizer.ggml.pre value (aliases included), or nullptr when unknown.
const PreTokenizerSpec* find_pre_tokenizer(std::string_view gguf_pre_name);

}  // namespace frugal

// Vocabulary tables read from a GGUF's tokenizer.* metadata (tokenizer layer): token texts, scores,
// types, special ids and the flags that steer encoding/decoding. Immutable after load_vocab().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"
#include "gguf/gguf_reader.h"
#include "tokenizer/flat_index.h"

namespace frugal {

enum class VocabType {
  kBpe,  // tokenizer.ggml.model = "gpt2": byte-level BPE with merge ranks
  kSpm,  // tokenizer.ggml.model = "llama": SentencePiece BPE with scores and byte fallback
};

// tokenizer.ggml.token_type values (the gguf-py TokenType enum).
enum class TokenType : uint8_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct TokenData {
  std::string text;
  float score = 0.0f;
  TokenType type = TokenType::kNormal;
};

struct Vocab {
  VocabType type = VocabType::kBpe;
  std::string model_name;  // "gpt2" | "llama"
  std::string pre_name;    // canonical pre-tokenizer name ("llama-bpe", "qwen2", "default")
  std::vector<TokenData> tokens;  // [n_vocab]
  TextIndex token_index;  // text -> id over `tokens`

  int32_t bos_id = -1;
  int32_t eos_id = -1;
  int32_t eot_id = -1;
  int32_t eom_id = -1;
  int32_t unk_id = -1;
  std::vector<int32_t> eog_ids;  // sorted, unique: eos, eot, eom and known end-of-turn texts

  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = false;  // SPM: prepend " " to the text (and strip it when decoding)
  bool clean_spaces = false;      // decode applies clean_up_tokenization_spaces
  bool ignore_merges = false;     // BPE: a pre-token that is a whole vocab entry is kept as is

  int32_t n_vocab() const { return static_cast<int32_t>(tokens.size()); }
  bool valid_id(int32_t id) const { return id >= 0 && id < n_vocab(); }
  int32_t find(std::string_view text) const {
    return token_index.find(text, [this](int32_t id) -> std::string_view { return tokens[id].text; });
  }
  TokenType type_of(int32_t id) const { return valid_id(id) ? tokens[id].type : TokenType::kUndefined; }
};

// Reads tokenizer.ggml.{model,pre,tokens,scores,token_type} and the special-token keys. Every
// error names the offending key. Unknown models and pre-tokenizers are kUnimplemented errors.
Expected<Vocab> load_vocab(const GgufFile& file);

}  // namespace frugal

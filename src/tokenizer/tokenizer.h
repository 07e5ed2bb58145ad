// Text <-> token ids for GGUF models, with llama.cpp's llama_tokenize / llama_token_to_piece /
// llama_detokenize semantics (tokenizer layer). Supports "gpt2" byte-level BPE (pre-tokenizers
// llama-bpe and aliases, qwen2, default) and "llama" SentencePiece BPE vocabularies.
// Thread-safety: a Tokenizer is immutable after from_gguf(); every const method may be called
// concurrently. A StreamingDecoder is single-threaded state over a Tokenizer that must outlive it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"
#include "gguf/gguf_reader.h"
#include "tokenizer/text_span.h"

namespace frugal {

class Tokenizer {
 public:
  // Errors name the missing/invalid tokenizer.* key. An unknown tokenizer.ggml.model or a present
  // but unknown tokenizer.ggml.pre is kUnimplemented (never a silent fallback: a wrong regex
  // changes ids without any other symptom); a missing pre key means "default", as in llama.cpp.
  static Expected<Tokenizer> from_gguf(const GgufFile& file);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // add_special: prepend BOS when add_bos(), append EOS when add_eos().
  // parse_special: match control/unknown token texts (e.g. "<|eot_id|>") in `text`; user-defined
  // tokens are matched either way (llama.cpp behaviour). Ill-formed UTF-8 never fails: BPE
  // replaces it by U+FFFD, SPM byte-falls-back.
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;
  // As above, but the byte ranges plain_spans of `text` are plain text even with parse_special:
  // a rendered chat prompt whose template markers are control tokens and whose message content is
  // not (no prompt injection of control tokens through content).
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special,
                              const std::vector<TextSpan>& plain_spans) const;

  // Raw bytes of one token (may be a partial UTF-8 sequence). special=false renders control and
  // unknown tokens as "". Out-of-range ids render as "".
  std::string token_to_piece(int32_t id, bool special = true) const;

  // llama_detokenize: remove_special drops a leading BOS / trailing EOS (when add_bos / add_eos);
  // unparse_special renders control tokens' text. SPM strips one leading space of the first piece
  // (unless a BOS was removed); gpt2 vocabs with clean-up enabled apply
  // clean_up_tokenization_spaces (" ." -> ".", " 's" -> "'s", ...).
  std::string decode(const std::vector<int32_t>& ids, bool remove_special = false,
                     bool unparse_special = true) const;

  int32_t n_vocab() const;
  int32_t bos_id() const;  // -1 if none
  int32_t eos_id() const;  // -1 if none
  int32_t eot_id() const;  // -1 if none
  bool add_bos() const;
  bool add_eos() const;
  bool is_eog(int32_t id) const;  // eos, eot, eom and the end-of-turn texts llama.cpp recognises
  bool is_control(int32_t id) const;
  int32_t token_id(std::string_view text) const;  // exact vocab lookup, -1 if absent
  const std::string& token_text(int32_t id) const;  // "" for an out-of-range id
  std::string_view model_name() const;  // "gpt2" | "llama"
  std::string_view pre_name() const;    // canonical: "llama-bpe" | "qwen2" | "default"

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Streams detokenized text safely: push() returns only complete UTF-8 code points (a partial
// sequence is held back until completed); flush() returns the rest, with ill-formed leftovers
// replaced by U+FFFD. Pieces are concatenated raw (no SPM leading-space strip, no clean-up).
class StreamingDecoder {
 public:
  explicit StreamingDecoder(const Tokenizer& tokenizer, bool special = true);
  std::string push(int32_t id);
  std::string flush();

 private:
  const Tokenizer* tokenizer_;
  bool special_;
  std::string pending_;  // bytes of an incomplete trailing sequence (at most 3)
};

}  // namespace frugal

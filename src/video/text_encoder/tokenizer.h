// UmT5Tokenizer: Wan2.1's prompt → token ids for umT5 (video text_encoder layer), as
// T5EncoderModel's HuggingfaceTokenizer('google/umt5-xxl', seq_len=text_len, clean='whitespace') with
// add_special_tokens=True: clean the prompt (prompt_clean.h), SentencePiece-encode it with the
// model's spiece.model (libsentencepiece), append </s>, truncate, pad.
//
// Decisions:
// * Truncation keeps </s> last, as HF does: at most text_len − 1 pieces, then </s>.
// * An empty (or all-whitespace) prompt is allowed, as the reference allows it: it encodes to just
//   [</s>] (L = 1). Refusing empty prompts is the caller's (the CLI's/server's) policy.
// * The ids come from libsentencepiece on spiece.model; HF's tokenizer.json (the "fast" tokenizer
//   AutoTokenizer picks) is the same unigram model with the same NFKC charsmap and metaspace rule;
//   the two agree on ordinary text.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"

namespace sentencepiece {
class SentencePieceProcessor;
}  // namespace sentencepiece

namespace frugal::video {

// Wan2.1's text_len: the DiT's cross-attention sees 512 context rows.
inline constexpr int64_t kWanTextLen = 512;

// One prompt ready for UmT5Encoder::encode.
struct UmT5Tokens {
  std::vector<int32_t> ids;   // [text_len] pieces, then </s>, then pad ids
  std::vector<int32_t> mask;  // [text_len] 1 for the pieces and </s>, 0 for padding
  int64_t num_tokens = 0;     // L = Σ mask (>= 1: </s> is always there)
  bool truncated = false;     // pieces were dropped to fit text_len
};

// Threading contract: immutable after load(); tokenize()/encode() may run concurrently.
class UmT5Tokenizer {
 public:
  // `path` is a spiece.model file, or a folder holding one (the google/umt5-xxl tokenizer folder Wan
  // ships). kNotFound when it is missing; kDataLoss when it is not a valid SentencePiece model or has
  // no </s> piece.
  static Expected<UmT5Tokenizer> load(const std::string& path);
  UmT5Tokenizer(UmT5Tokenizer&&) noexcept;
  UmT5Tokenizer& operator=(UmT5Tokenizer&&) noexcept;
  ~UmT5Tokenizer();

  int64_t vocab_size() const;  // pieces in spiece.model (the embedding may have more rows)
  int32_t eos_id() const { return eos_id_; }  // </s>: 1 in umT5
  int32_t pad_id() const { return pad_id_; }  // <pad>: 0 in umT5

  // The cleaned prompt's pieces followed by </s>, not truncated. kInvalidArgument on invalid UTF-8.
  Expected<std::vector<int32_t>> tokenize(std::string_view prompt) const;
  // tokenize(), truncated to text_len (</s> kept last) and padded to text_len. text_len >= 1.
  Expected<UmT5Tokens> encode(std::string_view prompt, int64_t text_len = kWanTextLen) const;

 private:
  UmT5Tokenizer();
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
  int32_t eos_id_ = 1;
  int32_t pad_id_ = 0;
};

}  // namespace frugal::video

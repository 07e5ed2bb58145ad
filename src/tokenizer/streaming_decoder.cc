// StreamingDecoder: UTF-8-safe incremental detokenization (tokenizer layer).
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace frugal {

StreamingDecoder::StreamingDecoder(const Tokenizer& tokenizer, bool special)
    : tokenizer_(&tokenizer), special_(special) {}

std::string StreamingDecoder::push(int32_t id) {
  pending_.append(tokenizer_->token_to_piece(id, special_));
  std::string out;
  const size_t consumed = utf8::sanitize_prefix(pending_, /*final_chunk=*/false, &out);
  pending_.erase(0, consumed);
  return out;
}

std::string StreamingDecoder::flush() {
  std::string out;
  utf8::sanitize_prefix(pending_, /*final_chunk=*/true, &out);
  pending_.clear();
  return out;
}

}  // namespace frugal

// Tokenizer: token pieces and detokenization (tokenizer layer), following llama.cpp's
// llama_token_to_piece and llama_detokenize.
#include <cstdlib>

#include "tokenizer/byte_unicode.h"
#include "tokenizer/sentencepiece.h"
#include "tokenizer/tokenizer_impl.h"

namespace frugal {
namespace {

// "<0xAB>" -> 0xAB, or -1 when the text is not of that form.
int parse_byte_token(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
  int value = 0;
  for (char c : text.substr(3, 2)) {
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

std::string spm_unescape_whitespace(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (size_t hit = text.find(kSpmSpace); hit != std::string_view::npos; hit = text.find(kSpmSpace, pos)) {
    out.append(text.substr(pos, hit - pos)).push_back(' ');
    pos = hit + kSpmSpace.size();
  }
  out.append(text.substr(pos));
  return out;
}

std::string piece_of(const Vocab& vocab, const TokenData& token) {
  switch (token.type) {
    case TokenType::kControl:
    case TokenType::kUnknown:
    case TokenType::kUserDefined:
      return token.text;
    case TokenType::kNormal:
      return vocab.type == VocabType::kBpe ? byte_unicode::decode(token.text) : spm_unescape_whitespace(token.text);
    case TokenType::kByte:
      if (vocab.type == VocabType::kSpm) {
        const int byte = parse_byte_token(token.text);
        return byte >= 0 ? std::string(1, static_cast<char>(byte)) : token.text;
      }
      return {};  // llama.cpp renders byte-typed tokens of BPE vocabs as nothing
    case TokenType::kUndefined:
    case TokenType::kUnused:
      return {};
  }
  return {};
}

// Each pass reads the input as it was before the pass (llama.cpp's in-place loops only ever read
// characters they have not overwritten).
std::string drop_space_before_punctuation(const std::string& in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char x = in[i];
    if (i > 0 && in[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) out.pop_back();
    out.push_back(x);
  }
  return out;
}

std::string join_lone_apostrophe(const std::string& in) {
  std::string out;
  out.reserve(in.size());
  bool prev_dropped = false;  // the previous input char was a space swallowed by " ' "
  for (size_t i = 0; i < in.size(); ++i) {
    const char x = in[i];
    const bool prev_space = i > 0 && in[i - 1] == ' ' && !prev_dropped;
    prev_dropped = false;
    if (x == '\'' && i + 1 < in.size() && prev_space && in[i + 1] == ' ') {
      out.pop_back();
      out.push_back(x);
      ++i;  // swallow the following space
      prev_dropped = true;
      continue;
    }
    out.push_back(x);
  }
  return out;
}

std::string attach_contractions(const std::string& in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char x = in[i];
    if (i > 0 && in[i - 1] == ' ' && x == '\'' && i + 1 < in.size()) {
      const char x1 = in[i + 1];
      const char x2 = i + 2 < in.size() ? in[i + 2] : '\0';
      const bool attach = x1 == 's' || x1 == 'm' || (x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e');
      if (attach) out.pop_back();
    }
    out.push_back(x);
  }
  return out;
}

}  // namespace

std::vector<std::string> build_token_pieces(const Vocab& vocab) {
  std::vector<std::string> pieces(vocab.tokens.size());
  for (size_t id = 0; id < vocab.tokens.size(); ++id) pieces[id] = piece_of(vocab, vocab.tokens[id]);
  return pieces;
}

void clean_up_tokenization_spaces(std::string* text) {
  *text = attach_contractions(join_lone_apostrophe(drop_space_before_punctuation(*text)));
}

std::string Tokenizer::token_to_piece(int32_t id, bool special) const {
  const Vocab& vocab = impl_->vocab;
  if (!vocab.valid_id(id)) return {};
  const TokenType type = vocab.tokens[id].type;
  if (!special && (type == TokenType::kControl || type == TokenType::kUnknown)) return {};
  return impl_->pieces[id];
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool remove_special, bool unparse_special) const {
  const Vocab& vocab = impl_->vocab;
  size_t begin = 0;
  size_t end = ids.size();
  bool remove_space = vocab.add_space_prefix;  // strip the space SPM encoding prefixed
  if (remove_special && vocab.add_bos && end > begin && ids[begin] == vocab.bos_id) {
    remove_space = false;  // llama.cpp keeps the space once the BOS is dropped
    ++begin;
  }
  if (remove_special && vocab.add_eos && end > begin && ids[end - 1] == vocab.eos_id) --end;
  std::string text;
  for (size_t i = begin; i < end; ++i) {
    const std::string piece = token_to_piece(ids[i], unparse_special);
    const size_t skip = (remove_space && !piece.empty() && piece[0] == ' ') ? 1 : 0;
    text.append(piece, skip, std::string::npos);
    remove_space = false;
  }
  if (vocab.clean_spaces) clean_up_tokenization_spaces(&text);
  return text;
}

}  // namespace frugal

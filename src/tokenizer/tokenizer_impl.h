// Internal state behind Tokenizer's pimpl (tokenizer layer; not part of the public API).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tokenizer/bpe.h"
#include "tokenizer/sentencepiece.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace frugal {

struct Tokenizer::Impl {
  Vocab vocab;
  std::optional<BpeEncoder> bpe;  // set for VocabType::kBpe
  std::optional<SpmEncoder> spm;  // set for VocabType::kSpm
  SpecialTokenMatcher special;
  std::vector<std::string> pieces;  // [n_vocab] piece of each token rendered with special=true
};

// Builds Impl::pieces (llama.cpp's token_to_piece with special=true for every id).
std::vector<std::string> build_token_pieces(const Vocab& vocab);

// clean_up_tokenization_spaces as llama.cpp applies it: " ?", " !", " .", " ," lose the space;
// " ' " becomes "'"; " 's", " 'm", " 're", " 've" lose the space.
void clean_up_tokenization_spaces(std::string* text);

}  // namespace frugal

// SentencePiece ("llama") tokenizer on a hand-built vocabulary: every expectation below is derived
// by hand from the scores in make_spm_vocab() (there is no SPM reference vector in the shared set).
#include <gtest/gtest.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "gguf/gguf_writer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace frugal {
namespace {

constexpr int32_t kUnk = 0;
constexpr int32_t kBos = 1;
constexpr int32_t kEos = 2;
constexpr int32_t kByte0 = 3;  // <0x00>; <0xXX> = kByte0 + XX
constexpr int32_t kSpace = 259;
constexpr int32_t kL = 262;
constexpr int32_t kD = 266;
constexpr int32_t kHello = 270;
constexpr int32_t kSpaceHello = 271;
constexpr int32_t kSpaceWor = 275;
constexpr int32_t kTool = 276;

struct SpmToken {
  std::string text;
  float score;
  int32_t type;
};

std::vector<SpmToken> spm_tokens() {
  std::vector<SpmToken> tokens = {{"<unk>", 0, 2}, {"<s>", 0, 3}, {"</s>", 0, 3}};
  for (int byte = 0; byte < 256; ++byte) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", byte);
    tokens.push_back({name, 0, 6});
  }
  // ids 259..: single characters score lowest; "ll" beats "lo", which beats "he", so "hello" must
  // merge ll, he, hell, hello, ▁hello in that order.
  const std::vector<std::pair<std::string, float>> normal = {
      {"\xE2\x96\x81", -10}, {"h", -10},  {"e", -10},     {"l", -10},     {"o", -10},
      {"w", -10},            {"r", -10},  {"d", -10},     {"ll", -1},     {"he", -2},
      {"hell", -3},          {"hello", -4}, {"\xE2\x96\x81hello", -5}, {"lo", -1.5f},
      {"\xE2\x96\x81w", -6}, {"or", -7},  {"\xE2\x96\x81wor", -8},
  };
  for (const auto& [text, score] : normal) tokens.push_back({text, score, 1});
  tokens.push_back({"<tool>", 0, 4});  // user-defined
  return tokens;
}

std::vector<uint8_t> make_spm_gguf(bool add_space_prefix) {
  GgufWriter writer;
  std::vector<std::string> texts;
  std::vector<float> scores;
  std::vector<int32_t> types;
  for (const SpmToken& token : spm_tokens()) {
    texts.push_back(token.text);
    scores.push_back(token.score);
    types.push_back(token.type);
  }
  writer.set_string("tokenizer.ggml.model", "llama");
  writer.set_string_array("tokenizer.ggml.tokens", texts);
  writer.set_float32_array("tokenizer.ggml.scores", scores);
  writer.set_int32_array("tokenizer.ggml.token_type", types);
  writer.set_uint32("tokenizer.ggml.bos_token_id", kBos);
  writer.set_uint32("tokenizer.ggml.eos_token_id", kEos);
  writer.set_uint32("tokenizer.ggml.unknown_token_id", kUnk);
  writer.set_bool("tokenizer.ggml.add_space_prefix", add_space_prefix);
  return writer.serialize();
}

class SentencePieceTest : public ::testing::Test {
 protected:
  void load(bool add_space_prefix) {
    bytes_ = make_spm_gguf(add_space_prefix);
    auto file = GgufFile::parse(MappedFile::borrow(bytes_.data(), bytes_.size()));
    ASSERT_TRUE(file) << file.error().to_string();
    auto tokenizer = Tokenizer::from_gguf(*file);
    ASSERT_TRUE(tokenizer) << tokenizer.error().to_string();
    tokenizer_.emplace(std::move(*tokenizer));
  }
  void SetUp() override { load(/*add_space_prefix=*/true); }
  const Tokenizer& tok() const { return *tokenizer_; }

  std::vector<uint8_t> bytes_;
  std::optional<Tokenizer> tokenizer_;
};

TEST_F(SentencePieceTest, Metadata) {
  EXPECT_EQ(tok().model_name(), "llama");
  EXPECT_EQ(tok().bos_id(), kBos);
  EXPECT_EQ(tok().eos_id(), kEos);
  EXPECT_EQ(tok().eot_id(), -1);
  EXPECT_TRUE(tok().add_bos());  // SPM default
  EXPECT_FALSE(tok().add_eos());
  EXPECT_TRUE(tok().is_eog(kEos));
  EXPECT_FALSE(tok().is_eog(kBos));
}

TEST_F(SentencePieceTest, MergesByScore) {
  EXPECT_EQ(tok().encode("hello", false, false), std::vector<int32_t>{kSpaceHello});
  EXPECT_EQ(tok().encode("hello world", false, false), (std::vector<int32_t>{kSpaceHello, kSpaceWor, kL, kD}));
  EXPECT_EQ(tok().encode(" hello", false, false), (std::vector<int32_t>{kSpace, kSpaceHello}));
}

TEST_F(SentencePieceTest, ByteFallbackForUnseenCharacters) {
  // "ñ" = C3 B1 is not in the vocab; "z" neither.
  EXPECT_EQ(tok().encode("hello ñ", false, false),
            (std::vector<int32_t>{kSpaceHello, kSpace, kByte0 + 0xC3, kByte0 + 0xB1}));
  EXPECT_EQ(tok().encode("z", false, false), (std::vector<int32_t>{kSpace, kByte0 + 'z'}));
  EXPECT_EQ(tok().token_to_piece(kByte0 + 0xC3), "\xC3");
}

TEST_F(SentencePieceTest, SpecialTokens) {
  EXPECT_EQ(tok().encode("hello", true, false), (std::vector<int32_t>{kBos, kSpaceHello}));
  EXPECT_EQ(tok().encode("", true, false), std::vector<int32_t>{kBos});
  EXPECT_TRUE(tok().encode("", false, false).empty());
  // parse_special: control text becomes the token, and the text after it gets a space prefix.
  EXPECT_EQ(tok().encode("<s>hello", false, true), (std::vector<int32_t>{kBos, kSpaceHello}));
  EXPECT_EQ(tok().encode("<s>hello", false, false),
            (std::vector<int32_t>{kSpace, kByte0 + '<', kByte0 + 's', kByte0 + '>', kHello}));
  // User-defined tokens are split out even without parse_special (llama.cpp behaviour).
  EXPECT_EQ(tok().encode("hello<tool>hello", false, false), (std::vector<int32_t>{kSpaceHello, kTool, kSpaceHello}));
}

TEST_F(SentencePieceTest, DecodeStripsThePrefixSpace) {
  const std::vector<int32_t> ids = {kSpaceHello, kSpaceWor, kL, kD};
  EXPECT_EQ(tok().decode(ids), "hello world");
  EXPECT_EQ(tok().decode({kSpaceHello, kSpace, kByte0 + 0xC3, kByte0 + 0xB1}), "hello ñ");
  // With a BOS in front, llama_detokenize strips only from the BOS piece, so the space stays;
  // removing the BOS (remove_special) also keeps it.
  const std::vector<int32_t> with_bos = {kBos, kSpaceHello, kSpaceWor, kL, kD};
  EXPECT_EQ(tok().decode(with_bos, false, true), "<s> hello world");
  EXPECT_EQ(tok().decode(with_bos, false, false), " hello world");
  EXPECT_EQ(tok().decode(with_bos, true, true), " hello world");
  EXPECT_EQ(tok().token_to_piece(kUnk, true), "<unk>");
  EXPECT_EQ(tok().token_to_piece(kUnk, false), "");
  EXPECT_EQ(tok().token_to_piece(kTool, false), "<tool>");
}

TEST_F(SentencePieceTest, NoSpacePrefixWhenDisabled) {
  load(/*add_space_prefix=*/false);
  EXPECT_EQ(tok().encode("hello", false, false), std::vector<int32_t>{kHello});
  EXPECT_EQ(tok().decode({kSpaceHello}), " hello");
}

TEST_F(SentencePieceTest, StreamingHoldsBackPartialBytes) {
  StreamingDecoder stream(tok());
  EXPECT_EQ(stream.push(kSpaceHello), " hello");
  EXPECT_EQ(stream.push(kByte0 + 0xC3), "");
  EXPECT_EQ(stream.push(kByte0 + 0xB1), "ñ");
  EXPECT_EQ(stream.push(kByte0 + 0xF0), "");
  EXPECT_EQ(stream.push(kByte0 + 0x9F), "");
  EXPECT_EQ(stream.flush(), "\xEF\xBF\xBD");  // a truncated sequence becomes one U+FFFD
  EXPECT_EQ(stream.push(kByte0 + 0xFF), "\xEF\xBF\xBD");  // never a lead byte: replaced at once
  EXPECT_EQ(stream.flush(), "");
}

TEST_F(SentencePieceTest, ArbitraryBytesRoundTripThroughByteFallback) {
  std::string input;
  uint32_t state = 12345;
  for (int i = 0; i < 4000; ++i) {
    state = state * 1103515245u + 12345u;
    const auto byte = static_cast<char>((state >> 16) & 0xFF);
    if (byte != ' ' && static_cast<uint8_t>(byte) != 0xE2) input.push_back(byte);  // keep "▁" out
  }
  const auto ids = tok().encode(input, false, false);
  std::string pieces;
  for (int32_t id : ids) pieces += tok().token_to_piece(id);
  EXPECT_EQ(pieces, " " + input);
}

}  // namespace
}  // namespace frugal

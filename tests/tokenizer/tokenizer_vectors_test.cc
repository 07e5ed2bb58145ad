// Checks Tokenizer against llama.cpp's reference vectors (tests/data/tokenizer/*.json): ids with
// and without BOS/special parsing, per-token pieces, detokenization and streaming decoding.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tokenizer/utf8.h"
#include "tokenizer_test_util.h"

namespace frugal {
namespace {

using testing::bytes_to_hex;
using testing::data_path;
using testing::hex_to_bytes;
using testing::read_text_file;
using testing::shared_tokenizer;

struct VectorSet {
  const char* vectors;  // under tests/data
  const char* gguf;     // under tests/data
};

class TokenizerVectorsTest : public ::testing::TestWithParam<VectorSet> {
 protected:
  void SetUp() override {
    tokenizer_ = shared_tokenizer(GetParam().gguf);
    ASSERT_NE(tokenizer_, nullptr);
    const std::string text = read_text_file(data_path(GetParam().vectors));
    ASSERT_FALSE(text.empty()) << GetParam().vectors;
    json_ = nlohmann::json::parse(text);
    ASSERT_EQ(json_["entries"].size(), 30u);
  }
  const Tokenizer* tokenizer_ = nullptr;
  nlohmann::json json_;
};

std::string label(const nlohmann::json& entry) { return "text hex " + entry["utf8_hex"].get<std::string>(); }

TEST_P(TokenizerVectorsTest, InputTextMatchesItsHex) {
  for (const auto& entry : json_["entries"]) {
    EXPECT_EQ(bytes_to_hex(entry["text"].get<std::string>()), entry["utf8_hex"].get<std::string>());
  }
}

TEST_P(TokenizerVectorsTest, IdsWithoutSpecial) {
  for (const auto& entry : json_["entries"]) {
    const auto expected = entry["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tokenizer_->encode(entry["text"].get<std::string>(), false, false), expected) << label(entry);
  }
}

TEST_P(TokenizerVectorsTest, IdsWithBosAndParseSpecial) {
  for (const auto& entry : json_["entries"]) {
    const auto expected = entry["ids_bos_parse_special"].get<std::vector<int32_t>>();
    EXPECT_EQ(tokenizer_->encode(entry["text"].get<std::string>(), true, true), expected) << label(entry);
  }
}

TEST_P(TokenizerVectorsTest, PiecesPerToken) {
  for (const auto& entry : json_["entries"]) {
    const auto ids = entry["ids"].get<std::vector<int32_t>>();
    const auto pieces = entry["pieces_hex"].get<std::vector<std::string>>();
    ASSERT_EQ(ids.size(), pieces.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      EXPECT_EQ(bytes_to_hex(tokenizer_->token_to_piece(ids[i], true)), pieces[i]) << label(entry) << " id " << ids[i];
    }
  }
}

TEST_P(TokenizerVectorsTest, Detokenize) {
  int inexact = 0;
  for (const auto& entry : json_["entries"]) {
    const auto ids = entry["ids"].get<std::vector<int32_t>>();
    const std::string text = entry["text"].get<std::string>();
    const std::string decoded = tokenizer_->decode(ids, false, true);
    EXPECT_EQ(decoded, entry["detokenized"].get<std::string>()) << label(entry);
    EXPECT_EQ(decoded == text, entry["roundtrip_exact"].get<bool>()) << label(entry);
    inexact += entry["roundtrip_exact"].get<bool>() ? 0 : 1;
  }
  EXPECT_EQ(inexact, 1);  // the README: only the clean-up example is inexact
}

TEST_P(TokenizerVectorsTest, StreamingDecoderEmitsWholeCodePoints) {
  for (const auto& entry : json_["entries"]) {
    const auto ids = entry["ids"].get<std::vector<int32_t>>();
    std::string expected;  // raw concatenation of llama.cpp's pieces: decode without clean-up
    for (const auto& hex : entry["pieces_hex"]) expected += hex_to_bytes(hex.get<std::string>());
    StreamingDecoder stream(*tokenizer_);
    std::string streamed;
    for (int32_t id : ids) {
      const std::string chunk = stream.push(id);
      EXPECT_TRUE(utf8::is_valid(chunk)) << label(entry) << " chunk " << bytes_to_hex(chunk);
      streamed += chunk;
    }
    const std::string rest = stream.flush();
    EXPECT_TRUE(rest.empty()) << label(entry);
    streamed += rest;
    EXPECT_EQ(streamed, expected) << label(entry);
  }
}

INSTANTIATE_TEST_SUITE_P(Vocabs, TokenizerVectorsTest,
                         ::testing::Values(VectorSet{"tokenizer/llama3.json", testing::kLlama3Gguf},
                                           VectorSet{"tokenizer/bpe512.json", testing::kBpe512Gguf}),
                         [](const auto& info) { return info.index == 0 ? "llama3" : "bpe512"; });

}  // namespace
}  // namespace frugal

// Hostile and malformed inputs: GGUFs with missing/invalid tokenizer keys must give a Status naming
// the key; ill-formed UTF-8 text must tokenize without crashing and decode to its sanitized form.
// Also checks merge-rank order on a tiny hand-built BPE vocab.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "gguf/gguf_writer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer_test_util.h"

namespace frugal {
namespace {

// A tiny byte-level BPE: "a", "b", "c", "ab", "bc", "<|eot|>" and the given merges.
GgufWriter tiny_bpe_writer(const std::vector<std::string>& merges, const std::string& pre = "default") {
  GgufWriter writer;
  writer.set_string("tokenizer.ggml.model", "gpt2");
  writer.set_string("tokenizer.ggml.pre", pre);
  writer.set_string_array("tokenizer.ggml.tokens", {"a", "b", "c", "ab", "bc", "<|eot|>"});
  writer.set_int32_array("tokenizer.ggml.token_type", {1, 1, 1, 1, 1, 3});
  writer.set_string_array("tokenizer.ggml.merges", merges);
  writer.set_uint32("tokenizer.ggml.bos_token_id", 5);
  writer.set_uint32("tokenizer.ggml.eos_token_id", 5);
  return writer;
}

struct Loaded {
  std::vector<uint8_t> bytes;
  Expected<Tokenizer> tokenizer = internal_error("not loaded");
};

Loaded load(const GgufWriter& writer) {
  Loaded loaded;
  loaded.bytes = writer.serialize();
  auto file = GgufFile::parse(MappedFile::borrow(loaded.bytes.data(), loaded.bytes.size()));
  if (!file) {
    loaded.tokenizer = file.error();
    return loaded;
  }
  loaded.tokenizer = Tokenizer::from_gguf(*file);
  return loaded;
}

// GgufWriter has no "remove": rebuild the tiny vocab without one key.
GgufWriter tiny_bpe_without(const std::string& dropped_key) {
  const std::vector<uint8_t> bytes = tiny_bpe_writer({"a b"}).serialize();
  auto file = GgufFile::parse(MappedFile::borrow(bytes.data(), bytes.size()));
  CHECK(file.has_value(), "the tiny vocab must parse");
  GgufWriter out;
  for (const auto& [key, value] : file->metadata()) {
    if (key != dropped_key) out.set(key, value);
  }
  return out;
}

void expect_error_naming(const GgufWriter& writer, const std::string& needle) {
  Loaded loaded = load(writer);
  ASSERT_FALSE(loaded.tokenizer.has_value()) << "expected an error naming " << needle;
  EXPECT_NE(loaded.tokenizer.error().message().find(needle), std::string::npos)
      << loaded.tokenizer.error().to_string();
}

TEST(TokenizerErrorsTest, MissingKeysAreNamed) {
  expect_error_naming(tiny_bpe_without("tokenizer.ggml.tokens"), "tokenizer.ggml.tokens");
  expect_error_naming(tiny_bpe_without("tokenizer.ggml.model"), "tokenizer.ggml.model");
  expect_error_naming(tiny_bpe_without("tokenizer.ggml.merges"), "tokenizer.ggml.merges");
}

TEST(TokenizerErrorsTest, MissingTokensIsNotFound) {
  Loaded loaded = load(tiny_bpe_without("tokenizer.ggml.tokens"));
  ASSERT_FALSE(loaded.tokenizer.has_value());
  EXPECT_EQ(loaded.tokenizer.error().code(), StatusCode::kNotFound);
}

TEST(TokenizerErrorsTest, UnknownModelAndPreAreNamed) {
  GgufWriter bert = tiny_bpe_writer({"a b"});
  bert.set_string("tokenizer.ggml.model", "bert");
  expect_error_naming(bert, "'bert'");
  Loaded loaded = load(tiny_bpe_writer({"a b"}, "starcoder-ish"));
  ASSERT_FALSE(loaded.tokenizer.has_value());
  EXPECT_EQ(loaded.tokenizer.error().code(), StatusCode::kUnimplemented);
  EXPECT_NE(loaded.tokenizer.error().message().find("'starcoder-ish'"), std::string::npos);
}

TEST(TokenizerErrorsTest, MissingPreFallsBackToDefault) {
  Loaded loaded = load(tiny_bpe_without("tokenizer.ggml.pre"));
  ASSERT_TRUE(loaded.tokenizer.has_value()) << loaded.tokenizer.error().to_string();
  EXPECT_EQ(loaded.tokenizer->pre_name(), "default");
}

TEST(TokenizerErrorsTest, InvalidValuesAreNamed) {
  GgufWriter scores = tiny_bpe_writer({"a b"});
  scores.set_float32_array("tokenizer.ggml.scores", {0.0f, 1.0f});  // 2 scores for 6 tokens
  expect_error_naming(scores, "tokenizer.ggml.scores");
  GgufWriter types = tiny_bpe_writer({"a b"});
  types.set_int32_array("tokenizer.ggml.token_type", {1, 1, 9, 1, 1, 3});
  expect_error_naming(types, "tokenizer.ggml.token_type[2]");
  GgufWriter bos = tiny_bpe_writer({"a b"});
  bos.set_uint32("tokenizer.ggml.bos_token_id", 6);
  expect_error_naming(bos, "tokenizer.ggml.bos_token_id");
  GgufWriter tokens_type = tiny_bpe_writer({"a b"});
  tokens_type.set_uint32("tokenizer.ggml.tokens", 3);
  expect_error_naming(tokens_type, "tokenizer.ggml.tokens");
  expect_error_naming(tiny_bpe_writer({"ab"}), "tokenizer.ggml.merges[0]");
  GgufWriter empty = tiny_bpe_writer({"a b"});
  empty.set_string_array("tokenizer.ggml.tokens", {});
  empty.set_int32_array("tokenizer.ggml.token_type", {});
  expect_error_naming(empty, "tokenizer.ggml.tokens");
}

TEST(TokenizerErrorsTest, MergesApplyLowestRankFirst) {
  Loaded bc_first = load(tiny_bpe_writer({"b c", "a b"}));
  ASSERT_TRUE(bc_first.tokenizer.has_value()) << bc_first.tokenizer.error().to_string();
  EXPECT_EQ(bc_first.tokenizer->encode("abc", false, false), (std::vector<int32_t>{0, 4}));  // a bc
  Loaded ab_first = load(tiny_bpe_writer({"a b", "b c"}));
  ASSERT_TRUE(ab_first.tokenizer.has_value());
  EXPECT_EQ(ab_first.tokenizer->encode("abc", false, false), (std::vector<int32_t>{3, 2}));  // ab c
  // Equal pairs merge leftmost first: "abab" -> ab ab; "bcbc" with only "b c" -> bc bc.
  EXPECT_EQ(ab_first.tokenizer->encode("abab", false, false), (std::vector<int32_t>{3, 3}));
  EXPECT_EQ(ab_first.tokenizer->encode("<|eot|>", false, true), std::vector<int32_t>{5});
  EXPECT_EQ(ab_first.tokenizer->encode("ab", true, false), std::vector<int32_t>{3});  // add_bos false
}

TEST(TokenizerErrorsTest, IllFormedUtf8IsReplacedNotFatal) {
  const Tokenizer* tok = testing::shared_tokenizer(testing::kLlama3Gguf);
  ASSERT_NE(tok, nullptr);
  const std::string replacement = "\xEF\xBF\xBD";
  // A lone 0xFF, a truncated 3-byte sequence, an overlong "/", a surrogate: one U+FFFD per
  // maximal ill-formed subpart, the ASCII around them kept.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"\xFF", replacement},
      {"a\xE2\x82z", "a" + replacement + "z"},
      {"\xC0\xAF", replacement + replacement},
      {"x\xED\xA0\x80y", "x" + replacement + replacement + replacement + "y"},
      {"\xF0\x9F\x99", replacement},
  };
  for (const auto& [input, expected] : cases) {
    for (bool parse_special : {false, true}) {
      std::string pieces;
      for (int32_t id : tok->encode(input, false, parse_special)) pieces += tok->token_to_piece(id);
      EXPECT_EQ(pieces, expected) << testing::bytes_to_hex(input);
    }
  }
}

TEST(TokenizerErrorsTest, RandomBytesNeverCrash) {
  const Tokenizer* llama3 = testing::shared_tokenizer(testing::kLlama3Gguf);
  const Tokenizer* bpe512 = testing::shared_tokenizer(testing::kBpe512Gguf);
  ASSERT_NE(llama3, nullptr);
  ASSERT_NE(bpe512, nullptr);
  uint32_t state = 777;
  for (int round = 0; round < 50; ++round) {
    std::string input;
    for (int i = 0; i < 200; ++i) {
      state = state * 1664525u + 1013904223u;
      input.push_back(static_cast<char>(state >> 24));
    }
    for (const Tokenizer* tok : {llama3, bpe512}) {
      const auto ids = tok->encode(input, true, true);
      for (int32_t id : ids) ASSERT_TRUE(id >= 0 && id < tok->n_vocab());
      StreamingDecoder stream(*tok);
      std::string streamed;
      for (int32_t id : ids) streamed += stream.push(id);
      streamed += stream.flush();
      EXPECT_FALSE(streamed.empty());
      (void)tok->decode(ids);
    }
  }
}

}  // namespace
}  // namespace frugal

// Pre-tokenizer selection and regex splitting, with hand-derived splits of the published regexes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gguf/gguf_writer.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/regex_splitter.h"
#include "tokenizer/tokenizer.h"

namespace frugal {
namespace {

std::vector<std::string> split_with(std::string_view pre, std::string_view text) {
  const PreTokenizerSpec* spec = find_pre_tokenizer(pre);
  EXPECT_NE(spec, nullptr) << pre;
  if (spec == nullptr) return {};
  auto splitter = RegexSplitter::create(spec->regex);
  EXPECT_TRUE(splitter) << splitter.error().to_string();
  std::vector<std::string_view> pieces;
  splitter->split(text, &pieces);
  return {pieces.begin(), pieces.end()};
}

TEST(PreTokenizerTest, AliasesResolve) {
  for (const char* name : {"llama-bpe", "llama3", "llama-v3", "falcon3", "pixtral"}) {
    ASSERT_NE(find_pre_tokenizer(name), nullptr) << name;
    EXPECT_EQ(find_pre_tokenizer(name)->name, "llama-bpe");
  }
  EXPECT_EQ(find_pre_tokenizer("qwen2")->name, "qwen2");
  EXPECT_EQ(find_pre_tokenizer("default")->name, "default");
  EXPECT_EQ(find_pre_tokenizer("no-such-pre"), nullptr);
}

TEST(PreTokenizerTest, Llama3Splits) {
  EXPECT_EQ(split_with("llama-bpe", "Hello world's 12345!!\n\n"),
            (std::vector<std::string>{"Hello", " world", "'s", " ", "123", "45", "!!\n\n"}));
  // Contractions are case-insensitive; a trailing whitespace run stays whole; non-ASCII letters.
  EXPECT_EQ(split_with("llama-bpe", "DON'T  café"), (std::vector<std::string>{"DON", "'T", " ", " café"}));
}

TEST(PreTokenizerTest, Qwen2SplitsDigitsSingly) {
  EXPECT_EQ(split_with("qwen2", "x 123"), (std::vector<std::string>{"x", " ", "1", "2", "3"}));
}

TEST(PreTokenizerTest, Gpt2Splits) {
  // GPT-2: contractions are case-sensitive, digits keep their leading space and run unbounded.
  EXPECT_EQ(split_with("default", "DON'T it's 12345"),
            (std::vector<std::string>{"DON", "'", "T", " it", "'s", " 12345"}));
}

// Tokens "1", "2", "3", "12", "123" with merges "1 2", "12 3": the pre-tokenizer alone decides
// whether "123" becomes one token or three.
std::vector<int32_t> encode_digits(const std::string& pre) {
  GgufWriter writer;
  writer.set_string("tokenizer.ggml.model", "gpt2");
  writer.set_string("tokenizer.ggml.pre", pre);
  writer.set_string_array("tokenizer.ggml.tokens", {"1", "2", "3", "12", "123"});
  writer.set_string_array("tokenizer.ggml.merges", {"1 2", "12 3"});
  writer.set_uint32("tokenizer.ggml.bos_token_id", 0);
  writer.set_uint32("tokenizer.ggml.eos_token_id", 0);
  const std::vector<uint8_t> bytes = writer.serialize();
  auto file = GgufFile::parse(MappedFile::borrow(bytes.data(), bytes.size()));
  EXPECT_TRUE(file) << file.error().to_string();
  auto tok = Tokenizer::from_gguf(*file);
  EXPECT_TRUE(tok) << tok.error().to_string();
  if (!tok) return {};
  return tok->encode("123", false, false);
}

TEST(PreTokenizerTest, PreTokenizerChangesIds) {
  EXPECT_EQ(encode_digits("qwen2"), (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(encode_digits("llama-bpe"), std::vector<int32_t>{4});
  EXPECT_EQ(encode_digits("default"), std::vector<int32_t>{4});
}

}  // namespace
}  // namespace frugal

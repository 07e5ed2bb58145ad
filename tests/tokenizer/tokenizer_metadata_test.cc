// Tokenizer metadata accessors on the reference vocabularies; expectations come from the shared
// README (special ids, token counts) and the GGUF metadata it documents.
#include <gtest/gtest.h>

#include "tokenizer_test_util.h"

namespace frugal {
namespace {

using testing::shared_tokenizer;

TEST(TokenizerMetadataTest, Llama3Vocab) {
  const Tokenizer* tok = shared_tokenizer(testing::kLlama3Gguf);
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->n_vocab(), 128256);
  EXPECT_EQ(tok->model_name(), "gpt2");
  EXPECT_EQ(tok->pre_name(), "llama-bpe");
  EXPECT_EQ(tok->bos_id(), 128000);
  EXPECT_EQ(tok->eos_id(), 128001);
  EXPECT_EQ(tok->eot_id(), 128009);
  EXPECT_TRUE(tok->add_bos());
  EXPECT_FALSE(tok->add_eos());
  EXPECT_EQ(tok->token_id("<|eot_id|>"), 128009);
  EXPECT_EQ(tok->token_id("<|begin_of_text|>"), 128000);
  EXPECT_EQ(tok->token_id("no such token text"), -1);
  EXPECT_EQ(tok->token_text(128001), "<|end_of_text|>");
  EXPECT_EQ(tok->token_text(-1), "");
  EXPECT_EQ(tok->token_text(128256), "");
  EXPECT_TRUE(tok->is_eog(128001));
  EXPECT_TRUE(tok->is_eog(128009));
  EXPECT_EQ(tok->token_id("<|eom_id|>"), -1);  // a Llama 3.0 vocab: 128008 is still reserved
  EXPECT_FALSE(tok->is_eog(128008));
  EXPECT_FALSE(tok->is_eog(128000));
  EXPECT_FALSE(tok->is_eog(9906));
  EXPECT_FALSE(tok->is_eog(-5));
  EXPECT_TRUE(tok->is_control(128000));
  EXPECT_FALSE(tok->is_control(9906));
  EXPECT_FALSE(tok->is_control(1 << 30));
}

TEST(TokenizerMetadataTest, Bpe512Vocab) {
  const Tokenizer* tok = shared_tokenizer(testing::kBpe512Gguf);
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->n_vocab(), 512);
  EXPECT_EQ(tok->bos_id(), 509);
  EXPECT_EQ(tok->eos_id(), 510);
  EXPECT_EQ(tok->eot_id(), 511);
  EXPECT_TRUE(tok->is_eog(510));
  EXPECT_TRUE(tok->is_eog(511));
  EXPECT_FALSE(tok->is_eog(509));
  EXPECT_EQ(tok->token_text(0), "!");  // byte tokens in bytes_to_unicode order
}

TEST(TokenizerMetadataTest, SpecialPiecesHiddenWithoutSpecial) {
  const Tokenizer* tok = shared_tokenizer(testing::kLlama3Gguf);
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->token_to_piece(128009, true), "<|eot_id|>");
  EXPECT_EQ(tok->token_to_piece(128009, false), "");
  EXPECT_EQ(tok->token_to_piece(-1), "");
  EXPECT_EQ(tok->token_to_piece(128256), "");
  // remove_special drops the leading BOS (add_bos) but not EOS (add_eos is false).
  const std::vector<int32_t> ids = {128000, 9906, 1917, 128001};
  EXPECT_EQ(tok->decode(ids, false, true), "<|begin_of_text|>Hello world<|end_of_text|>");
  EXPECT_EQ(tok->decode(ids, true, true), "Hello world<|end_of_text|>");
  EXPECT_EQ(tok->decode(ids, false, false), "Hello world");
}

TEST(TokenizerMetadataTest, ParseSpecialOffKeepsControlTextAsText) {
  const Tokenizer* tok = shared_tokenizer(testing::kLlama3Gguf);
  ASSERT_NE(tok, nullptr);
  const auto plain = tok->encode("<|eot_id|>", false, false);
  EXPECT_GT(plain.size(), 1u);
  for (int32_t id : plain) EXPECT_FALSE(tok->is_control(id));
  EXPECT_EQ(tok->decode(plain), "<|eot_id|>");
  EXPECT_EQ(tok->encode("<|eot_id|>", false, true), std::vector<int32_t>{128009});
  EXPECT_EQ(tok->encode("", true, false), std::vector<int32_t>{128000});
  EXPECT_TRUE(tok->encode("", false, false).empty());
}

}  // namespace
}  // namespace frugal

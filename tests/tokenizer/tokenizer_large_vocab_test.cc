// The real Llama-3 vocabulary at scale: loading, a 10 KB English round trip, and concurrent
// encode() from several threads. Speed is measured in bench/tokenizer_bench.cc, not here.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tokenizer_test_util.h"

namespace frugal {
namespace {

#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#else
#endif

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// About 10 KB of ordinary English prose (numbers, punctuation, newlines), not repeated verbatim.
std::string english_text_10kb() {
  const std::vector<std::string> sentences = {
      "The committee met on Tuesday to review the budget for the coming year. ",
      "Several members argued that the proposed increase of 12.5 percent was too large, ",
      "while others pointed out that maintenance costs had doubled since 2019.\n",
      "After a long discussion, they agreed to postpone the final vote until next month. ",
      "Meanwhile, the library will extend its opening hours on weekends, ",
      "and volunteers are invited to help with the reading programme for children.\n\n",
      "It's worth noting that we'd already received 347 applications by Friday; ",
      "the deadline, however, isn't until the 30th of September. ",
      "Questions? Write to the secretary, who'll answer as soon as possible.\n",
  };
  std::string text;
  for (size_t i = 0; text.size() < 10 * 1024; ++i) {
    text += sentences[i % sentences.size()];
    if (i % 7 == 3) text += "Item " + std::to_string(i * 37) + ": done. ";
  }
  return text;
}

TEST(TokenizerLargeVocabTest, LoadsLlama3Vocab) {
  const auto start = std::chrono::steady_clock::now();
  auto file = GgufFile::open(testing::data_path(testing::kLlama3Gguf));
  ASSERT_TRUE(file) << file.error().to_string();
  auto tok = Tokenizer::from_gguf(*file);
  ASSERT_TRUE(tok) << tok.error().to_string();
  const double elapsed_ms = ms_since(start);
  std::printf("llama3 vocab: open + from_gguf %.1f ms\n", elapsed_ms);
}

TEST(TokenizerLargeVocabTest, Encodes10KbEnglishAndRoundTrips) {
  const Tokenizer* tok = testing::shared_tokenizer(testing::kLlama3Gguf);
  ASSERT_NE(tok, nullptr);
  const std::string text = english_text_10kb();
  double best_ms = 1e9;
  std::vector<int32_t> ids;
  for (int run = 0; run < 5; ++run) {
    const auto start = std::chrono::steady_clock::now();
    ids = tok->encode(text, true, false);
    best_ms = std::min(best_ms, ms_since(start));
  }
  std::printf("encode %zu bytes -> %zu tokens: best %.2f ms\n", text.size(), ids.size(), best_ms);
  // Sanity: English averages roughly 4 bytes per Llama-3 token, and the text round-trips.
  EXPECT_GT(ids.size(), text.size() / 8);
  EXPECT_LT(ids.size(), text.size() / 2);
  EXPECT_EQ(tok->decode(ids, /*remove_special=*/true), text);
}

TEST(TokenizerLargeVocabTest, ConcurrentEncodeMatchesSerial) {
  const Tokenizer* tok = testing::shared_tokenizer(testing::kLlama3Gguf);
  ASSERT_NE(tok, nullptr);
  const std::vector<std::string> texts = {english_text_10kb(), "日本語のテキスト 🙂 😀👍🏽 🦙",
                                          "<|begin_of_text|>special<|eot_id|> int main() {}"};
  std::vector<std::vector<int32_t>> serial;
  for (const auto& text : texts) serial.push_back(tok->encode(text, true, true));
  constexpr int kThreads = 4;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 10; ++round) {
        for (size_t i = 0; i < texts.size(); ++i) mismatches[t] += tok->encode(texts[i], true, true) != serial[i];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace frugal

// UmT5Tokenizer with a small unigram SentencePiece model trained here by `spm_train` with umT5's
// special ids (<pad> 0, </s> 1, <unk> 2, no <s>): ids must be `spm_encode --output_format=id` of the
// cleaned prompt plus </s>, truncated with </s> kept last and padded with <pad>, as HF's T5 tokenizer
// (add_special_tokens=True, padding='max_length', truncation=True) does.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/subprocess.h"
#include "video/text_encoder/tokenizer.h"

namespace frugal::video {
namespace {

using frugal::testing::run_command;

// Sentences of a small word list mixed with made-up words of random syllables, so that the unigram
// trainer finds 200 useful pieces (a plain word list caps it near 100).
std::string training_text() {
  const char* words[] = {"a",     "cat",    "dog",   "runs",  "on",     "the",    "beach",  "at",     "sunset",
                         "red",   "car",    "city",  "night", "neon",   "lights", "slowly", "camera", "pans",
                         "over",  "forest", "river", "snow",  "ocean",  "waves",  "girl",   "walks",  "through",
                         "old",   "street", "rain",  "umbrella", "flying", "bird", "sky",   "blue",   "mountain"};
  const char* syllables[] = {"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "be", "du", "fi", "go", "ha", "je",
                             "pu", "ro", "sha", "tre", "wen", "yal", "bor", "cin", "dex", "fal", "gur", "hin"};
  std::mt19937 rng(1);
  std::uniform_int_distribution<size_t> pick_word(0, std::size(words) - 1);
  std::uniform_int_distribution<size_t> pick_syllable(0, std::size(syllables) - 1);
  std::ostringstream out;
  for (int line = 0; line < 4000; ++line) {
    const int n = 4 + line % 9;
    for (int w = 0; w < n; ++w) {
      out << (w ? " " : "");
      if (rng() % 3 == 0) {
        for (int k = 0, len = 1 + static_cast<int>(rng() % 3); k < len; ++k) out << syllables[pick_syllable(rng)];
      } else {
        out << words[pick_word(rng)];
      }
    }
    out << (line % 3 == 0 ? ", 4K, cinematic." : ".") << "\n";
  }
  return out.str();
}

class UmT5TokenizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string((std::filesystem::temp_directory_path() / ("frugal_umt5_tok_" + std::to_string(::getpid())))
                               .string());
    std::filesystem::create_directories(*dir_);
    std::ofstream(*dir_ + "/corpus.txt") << training_text();
    const auto r = run_command("cd " + *dir_ +
                               " && spm_train --input=corpus.txt --model_prefix=spiece --model_type=unigram "
                               "--vocab_size=200 --pad_id=0 --eos_id=1 --unk_id=2 --bos_id=-1 > train.log 2>&1");
    ASSERT_EQ(r.exit_code, 0) << "spm_train failed; see " << *dir_ << "/train.log";
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static std::string model_path() { return *dir_ + "/spiece.model"; }

  // spm_encode's ids of each line.
  static std::vector<std::vector<int32_t>> spm_encode(const std::vector<std::string>& lines) {
    std::ofstream in(*dir_ + "/input.txt");
    for (const std::string& l : lines) in << l << "\n";
    in.close();
    const auto r = run_command("spm_encode --model=" + model_path() + " --output_format=id < " + *dir_ + "/input.txt");
    EXPECT_EQ(r.exit_code, 0);
    std::vector<std::vector<int32_t>> out;
    std::istringstream text(r.output);
    std::string line;
    while (std::getline(text, line)) {
      std::istringstream ids(line);
      out.emplace_back();
      for (int32_t id; ids >> id;) out.back().push_back(id);
    }
    return out;
  }

  static std::string* dir_;
};
std::string* UmT5TokenizerTest::dir_ = nullptr;

TEST_F(UmT5TokenizerTest, LoadsFileOrFolder) {
  auto from_file = UmT5Tokenizer::load(model_path());
  ASSERT_TRUE(from_file.has_value()) << from_file.error().to_string();
  EXPECT_EQ(from_file->vocab_size(), 200);
  EXPECT_EQ(from_file->eos_id(), 1);
  EXPECT_EQ(from_file->pad_id(), 0);
  auto from_folder = UmT5Tokenizer::load(*dir_);
  ASSERT_TRUE(from_folder.has_value()) << from_folder.error().to_string();
}

TEST_F(UmT5TokenizerTest, IdsAreSpmEncodePlusEos) {
  const std::vector<std::string> prompts = {
      "a cat runs on the beach at sunset",
      "Neon lights, a red car in the city at night. 4K, cinematic.",
      "camera pans slowly over the forest river",
      "zebra xylophone quantum",  // characters outside the training text: <unk>
      "a",
      "Umbrella, rain; old street!? 12345",
  };
  auto tok = UmT5Tokenizer::load(model_path());
  ASSERT_TRUE(tok.has_value());
  const auto expected = spm_encode(prompts);
  ASSERT_EQ(expected.size(), prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto ids = tok->tokenize(prompts[i]);
    ASSERT_TRUE(ids.has_value());
    ASSERT_FALSE(expected[i].empty()) << prompts[i];
    std::vector<int32_t> want = expected[i];
    want.push_back(1);
    EXPECT_EQ(*ids, want) << prompts[i];
  }
}

TEST_F(UmT5TokenizerTest, CleansBeforeEncoding) {
  auto tok = UmT5Tokenizer::load(model_path());
  ASSERT_TRUE(tok.has_value());
  EXPECT_EQ(*tok->tokenize("  a \u201ccat\u201d\n\n runs&nbsp;on &amp;amp; the\tbeach  "),
            *tok->tokenize("a \"cat\" runs on & the beach"));
}

TEST_F(UmT5TokenizerTest, PadsAndTruncatesKeepingEos) {
  auto tok = UmT5Tokenizer::load(model_path());
  ASSERT_TRUE(tok.has_value());
  const std::string prompt = "a cat runs on the beach at sunset";
  const std::vector<int32_t> full = *tok->tokenize(prompt);  // pieces + </s>
  const auto n = static_cast<int64_t>(full.size());
  ASSERT_GT(n, 4);

  auto padded = tok->encode(prompt, 16);
  ASSERT_TRUE(padded.has_value());
  EXPECT_EQ(padded->num_tokens, n);
  EXPECT_FALSE(padded->truncated);
  ASSERT_EQ(padded->ids.size(), 16u);
  ASSERT_EQ(padded->mask.size(), 16u);
  for (int64_t i = 0; i < 16; ++i) {
    EXPECT_EQ(padded->ids[i], i < n ? full[i] : 0) << i;
    EXPECT_EQ(padded->mask[i], i < n ? 1 : 0) << i;
  }

  auto exact = tok->encode(prompt, n);  // fits exactly: nothing dropped
  ASSERT_TRUE(exact.has_value());
  EXPECT_FALSE(exact->truncated);
  EXPECT_EQ(exact->ids, full);

  auto cut = tok->encode(prompt, 4);  // HF: first 3 pieces, then </s>
  ASSERT_TRUE(cut.has_value());
  EXPECT_TRUE(cut->truncated);
  EXPECT_EQ(cut->num_tokens, 4);
  EXPECT_EQ(cut->ids, (std::vector<int32_t>{full[0], full[1], full[2], 1}));
  EXPECT_EQ(cut->mask, (std::vector<int32_t>{1, 1, 1, 1}));

  auto only_eos = tok->encode(prompt, 1);
  ASSERT_TRUE(only_eos.has_value());
  EXPECT_EQ(only_eos->ids, (std::vector<int32_t>{1}));
  EXPECT_EQ(tok->encode(prompt, 0).error().code(), StatusCode::kInvalidArgument);

  auto wan = tok->encode(prompt);  // Wan's text_len 512
  ASSERT_TRUE(wan.has_value());
  EXPECT_EQ(wan->ids.size(), 512u);
}

// The reference tokenizes "" to just </s>; so do we (L = 1). Refusing it is the CLI's policy.
TEST_F(UmT5TokenizerTest, EmptyPromptIsJustEos) {
  auto tok = UmT5Tokenizer::load(model_path());
  ASSERT_TRUE(tok.has_value());
  for (const std::string prompt : {"", "   \n\t "}) {
    auto t = tok->encode(prompt, 8);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->num_tokens, 1);
    EXPECT_EQ(t->ids, (std::vector<int32_t>{1, 0, 0, 0, 0, 0, 0, 0}));
  }
}

TEST_F(UmT5TokenizerTest, InvalidUtf8IsAStatus) {
  auto tok = UmT5Tokenizer::load(model_path());
  ASSERT_TRUE(tok.has_value());
  EXPECT_EQ(tok->tokenize("a \xff cat").error().code(), StatusCode::kInvalidArgument);
}

TEST_F(UmT5TokenizerTest, MissingOrCorruptModelIsAStatus) {
  auto missing = UmT5Tokenizer::load(*dir_ + "/nope.model");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  const std::string empty_dir = *dir_ + "/empty";
  std::filesystem::create_directories(empty_dir);
  EXPECT_EQ(UmT5Tokenizer::load(empty_dir).error().code(), StatusCode::kNotFound);

  const std::string corrupt = *dir_ + "/corrupt.model";
  std::ofstream(corrupt) << "this is not a protobuf \x01\x02\x03 at all";
  auto bad = UmT5Tokenizer::load(corrupt);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), StatusCode::kDataLoss);
  std::printf("  missing: %s\n  corrupt: %s\n", missing.error().to_string().c_str(), bad.error().to_string().c_str());

  // A truncated copy of a real model.
  std::ifstream in(model_path(), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string truncated = *dir_ + "/truncated.model";
  std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  EXPECT_EQ(UmT5Tokenizer::load(truncated).error().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace frugal::video

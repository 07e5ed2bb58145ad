// `frugal text-encode` from text (the tokenizer path; the ids path is checked against the reference in
// video_cli_test): text gives the ids it prints, the same context as those ids, and --pad writes the
// [text_len, dim] context the DiT sees (the real rows, then zero rows). An empty prompt is refused.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/subprocess.h"
#include "common/test_data.h"

namespace frugal {
namespace {

namespace fs = std::filesystem;
using testing::frugal_binary;
using testing::run_command;

TEST(TextEncodeCli, TextIdsAndPaddedContextAgree) {
  const fs::path dir = fs::temp_directory_path() / ("frugal_text_encode_cli_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto r = run_command(frugal_binary() + " mkmodel --preset wan-tiny -o " + (dir / "model").string() + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string encode = frugal_binary() + " text-encode -m " + (dir / "model").string() + " ";

  r = run_command(encode + "-p 'a red circle moving right' --print-ids -o " + (dir / "text.f32").string() + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const size_t at = r.output.find("ids: ");
  ASSERT_NE(at, std::string::npos) << r.output;
  const std::string ids = r.output.substr(at + 5, r.output.find('\n', at) - at - 5);
  int64_t n_ids = 1;
  for (char c : ids) n_ids += c == ',';
  EXPECT_EQ(ids.substr(ids.rfind(',') + 1), "1") << "umT5 ends the ids with </s> = 1: " << ids;
  const auto from_text = testing::read_f32_file((dir / "text.f32").string());
  ASSERT_EQ(static_cast<int64_t>(from_text.size()), n_ids * 32) << "[L, 32] for wan-tiny's 32-wide encoder";
  EXPECT_NE(r.output.find("[" + std::to_string(n_ids) + ", 32]"), std::string::npos) << r.output;

  r = run_command(encode + "--ids " + ids + " -o " + (dir / "ids.f32").string() + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(testing::read_f32_file((dir / "ids.f32").string()), from_text);

  r = run_command(encode + "-p 'a red circle moving right' --pad -o " + (dir / "pad.f32").string() + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("[512, 32]"), std::string::npos) << r.output;
  const auto padded = testing::read_f32_file((dir / "pad.f32").string());
  ASSERT_EQ(padded.size(), 512u * 32);
  EXPECT_EQ(std::vector<float>(padded.begin(), padded.begin() + n_ids * 32), from_text);
  for (size_t i = static_cast<size_t>(n_ids * 32); i < padded.size(); ++i) ASSERT_EQ(padded[i], 0.0f) << "element " << i;

  for (const std::string& bad : {"-p ''", "-p '   '"}) {
    r = run_command(encode + bad + " -o " + (dir / "bad.f32").string() + " 2>&1");
    EXPECT_NE(r.exit_code, 0) << bad;
    EXPECT_LT(r.exit_code, 128) << bad << ": " << r.output;
    EXPECT_NE(r.output.find("prompt: empty"), std::string::npos) << bad << ": " << r.output;
  }
  r = run_command(encode + "-o " + (dir / "bad.f32").string() + " 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("exactly one of -p TEXT or --ids"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "bad.f32"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace frugal

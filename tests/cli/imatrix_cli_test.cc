// `frugal imatrix` and `frugal quantize --imatrix/--awq` end to end on the bundled draft, and the
// errors a user sees for an imatrix that is truncated, of another model, or missing (tests/cli).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <unistd.h>

#include "common/subprocess.h"
#include "common/test_data.h"
#include "model/imatrix_file.h"

namespace frugal {
namespace {

using testing::data_path;
using testing::frugal_binary;
using testing::run_command;

const std::string kModels = std::string(FRUGAL_TEST_DATA_DIR) + "/../../models/";

std::string temp(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("frugal-imx-cli-" + std::to_string(::getpid()) + "-" + name)).string();
}

TEST(ImatrixCli, CollectsThenQuantizesWithItAndRecordsItInTheFile) {
  const std::string imx = temp("draft.imatrix.gguf"), out = temp("draft-q4_0.gguf");
  auto collected = run_command(frugal_binary() + " imatrix -m " + kModels + "kjv-draft-f16.gguf -f " + kModels +
                               "heldout-snippet.txt -o " + imx + " -t 2 2>&1");
  ASSERT_EQ(collected.exit_code, 0) << collected.output;
  EXPECT_NE(collected.output.find("14 matrices, 11 windows of 256 tokens"), std::string::npos) << collected.output;
  auto quantized = run_command(frugal_binary() + " quantize " + kModels + "kjv-draft-f16.gguf " + out + " q4_0 --imatrix " +
                               imx + " --awq -t 2 2>&1");
  ASSERT_EQ(quantized.exit_code, 0) << quantized.output;
  EXPECT_NE(quantized.output.find("14 of its 14 entries match"), std::string::npos) << quantized.output;
  auto inspected = run_command(frugal_binary() + " inspect " + out + " 2>&1");
  EXPECT_NE(inspected.output.find("quantize.imatrix.entries_count"), std::string::npos) << inspected.output;
  auto ppl = run_command(frugal_binary() + " perplexity -m " + out + " -f " + kModels + "heldout-snippet.txt 2>&1");
  EXPECT_EQ(ppl.exit_code, 0) << ppl.output;
  std::filesystem::remove(imx);
  std::filesystem::remove(out);
}

TEST(ImatrixCli, BadImatrixFilesGiveClearErrors) {
  const std::string out = temp("never.gguf");
  const std::string quantize = frugal_binary() + " quantize " + kModels + "kjv-target-f16.gguf " + out + " q4_k_m --imatrix ";
  // The draft's imatrix: same tensor names, narrower matrices.
  auto other = run_command(quantize + data_path("imatrix/kjv-draft.frugal.imatrix.gguf") + " 2>&1");
  EXPECT_NE(other.exit_code, 0);
  EXPECT_NE(other.output.find("has 128 columns, the tensor 256"), std::string::npos) << other.output;
  // Tensor names of another architecture: nothing matches.
  const std::string foreign = temp("foreign.gguf");
  Imatrix m;
  m.entries["model.layers.0.self_attn.q_proj.weight"] = {std::vector<float>(256, 1.0f), {16}};
  m.chunk_count = 1;
  m.chunk_size = 16;
  ASSERT_TRUE(write_imatrix(m, foreign).is_ok());
  auto names = run_command(quantize + foreign + " 2>&1");
  EXPECT_NE(names.exit_code, 0);
  EXPECT_NE(names.output.find("no entry for any matrix of this model"), std::string::npos) << names.output;
  std::filesystem::remove(foreign);
  // Truncated legacy file.
  const std::string cut = temp("cut.dat");
  {
    std::ifstream in(data_path("imatrix/kjv-draft.frugal.imatrix.dat"), std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(cut, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  }
  auto truncated = run_command(quantize + cut + " 2>&1");
  EXPECT_NE(truncated.exit_code, 0);
  EXPECT_NE(truncated.output.find("truncated"), std::string::npos) << truncated.output;
  // A model file is not an imatrix; a missing file is named.
  auto model = run_command(quantize + kModels + "kjv-draft-f16.gguf 2>&1");
  EXPECT_NE(model.exit_code, 0);
  EXPECT_NE(model.output.find("not an imatrix"), std::string::npos) << model.output;
  auto missing = run_command(quantize + "/nonexistent.imatrix 2>&1");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("/nonexistent.imatrix"), std::string::npos) << missing.output;
  // --awq without --imatrix.
  auto awq = run_command(frugal_binary() + " quantize " + kModels + "kjv-draft-f16.gguf " + out + " q4_0 --awq 2>&1");
  EXPECT_NE(awq.exit_code, 0);
  EXPECT_NE(awq.output.find("--awq needs --imatrix"), std::string::npos) << awq.output;
  EXPECT_FALSE(std::filesystem::exists(out));
  std::filesystem::remove(cut);
}

}  // namespace
}  // namespace frugal

// `--mem-budget` through the binaries: `frugal video --json` reports the VAE decode's tiling, predicted
// peak and budget beside the stage seconds and peak memory the comparison with stable-diffusion.cpp
// reads; `frugal vae decode` tiles when the untiled decode would not fit and writes the same frames
// shape; budgets too small or malformed exit non-zero with a clear message before any work.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "common/subprocess.h"
#include "common/test_data.h"
#include "common/wan_tiny_workspace.h"
#include "video/vae/vae_memory.h"
#include "video/vae/vae_tensor_specs.h"

namespace frugal {
namespace {

using testing::frugal_binary;
using testing::run_command;

nlohmann::json last_json_line(const std::string& output) {
  size_t end = output.size();
  while (end > 0) {
    const size_t start = output.rfind('\n', end - 1);
    const size_t from = start == std::string::npos ? 0 : start + 1;
    const std::string line = output.substr(from, end - from);
    if (!line.empty() && line.front() == '{') return nlohmann::json::parse(line, nullptr, false);
    if (start == std::string::npos) break;
    end = start;
  }
  return nlohmann::json();
}

TEST(VaeBudgetCli, VideoJsonReportsTheComparisonFigures) {
  const testing::WanTinyWorkspace ws("vae_budget_video");
  ASSERT_TRUE(ws.ready()) << ws.mkmodel_output();
  auto r = run_command(ws.video_command("64x64") + " --no-watermark --mem-budget 1GiB --json -o " + ws.dir() +
                       "/a.mp4 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json j = last_json_line(r.output);
  ASSERT_TRUE(j.is_object()) << r.output;
  for (const char* key : {"text_encode_seconds", "seconds_per_step", "vae_decode_seconds"}) {
    EXPECT_GT(j.value(key, 0.0), 0.0) << key;
  }
  EXPECT_GT(j.value("peak_rss_bytes", int64_t{0}), 0);
  EXPECT_GT(j.value("vae_decode_peak_rss_bytes", int64_t{0}), 0);
  EXPECT_EQ(j.value("vae_mem_budget_bytes", int64_t{0}), int64_t{1} << 30);
  const int64_t predicted = j.value("vae_predicted_peak_bytes", int64_t{0});
  EXPECT_GT(predicted, 0);
  EXPECT_LE(predicted, int64_t{1} << 30);
  EXPECT_EQ(j.value("vae_tiles", 0), 1);  // the tiny model fits untiled
  EXPECT_EQ(j.value("vae_tiling", ""), "untiled");
  EXPECT_NE(r.output.find("VAE decode"), std::string::npos);
  EXPECT_NE(r.output.find("budget 1.00 GiB"), std::string::npos) << r.output;
}

TEST(VaeBudgetCli, VideoRefusesBadBudgetsBeforeAnyWork) {
  const testing::WanTinyWorkspace ws("vae_budget_bad");
  ASSERT_TRUE(ws.ready()) << ws.mkmodel_output();
  auto r = run_command(ws.video_command("64x64") + " --no-watermark --mem-budget 1MiB -o " + ws.dir() + "/a.mp4 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("memory budget 1.0 MiB is too small for this VAE decode"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("denoise"), std::string::npos) << r.output;  // refused before the sampler ran
  EXPECT_FALSE(std::filesystem::exists(ws.dir() + "/a.mp4"));
  r = run_command(ws.video_command("64x64") + " --no-watermark --mem-budget 4lots -o " + ws.dir() + "/a.mp4 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--mem-budget: memory size \"4lots\" is not a size"), std::string::npos) << r.output;
}

// vae decode under a budget just below the untiled need tiles, and writes every frame.
TEST(VaeBudgetCli, VaeDecodeTilesUnderABudget) {
  const std::string dir = ::testing::TempDir() + "/frugal_vae_budget_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string vae = testing::data_path("wan/vae_a/Wan2.1_VAE.safetensors");
  const std::array<int64_t, 4> shape = {16, 2, 12, 16};
  std::vector<float> z(static_cast<size_t>(16 * 2 * 12 * 16));
  for (size_t i = 0; i < z.size(); ++i) z[i] = static_cast<float>((i * 2654435761u) % 1000) / 500.0f - 1.0f;
  {
    FILE* f = std::fopen((dir + "/z.f32").c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(z.data(), sizeof(float), z.size(), f);
    std::fclose(f);
  }
  const int64_t untiled = video::vae_predicted_decode_bytes(video::wan21_vae_config(8), shape, false, 12, 16);
  const std::string base = frugal_binary() + " vae decode --vae " + vae + " -i " + dir + "/z.f32 --shape 16,2,12,16 -t 2";
  auto r = run_command(base + " -o " + dir + "/tiled.f32 --mem-budget " + std::to_string(untiled - 1) + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(" tiles of "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("within --mem-budget"), std::string::npos) << r.output;
  EXPECT_EQ(std::filesystem::file_size(dir + "/tiled.f32"), sizeof(float) * 3 * 5 * 96 * 128);
  r = run_command(base + " -o " + dir + "/plain.f32 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("decode untiled"), std::string::npos) << r.output;
  r = run_command(base + " -o " + dir + "/bad.f32 --tile 4,x 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--tile must be h,w,overlap_h,overlap_w"), std::string::npos) << r.output;
  r = run_command(base + " -o " + dir + "/bad.f32 --mem-budget 2MiB 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("too small"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir + "/bad.f32"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace frugal

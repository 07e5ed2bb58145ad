// `frugal mkmodel --preset wan* --dit-shards N`: the DiT written as the sharded releases lay it out
// (diffusion_pytorch_model-0000k-of-0000N.safetensors + diffusion_pytorch_model.safetensors.index.json),
// the same weights as the one-file folder, so `frugal video` on both makes the same clip, bit for bit.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>

#include "common/subprocess.h"
#include "common/test_data.h"

namespace frugal {
namespace {

namespace fs = std::filesystem;
using testing::frugal_binary;
using testing::run_command;

TEST(MkmodelWan, ShardedDitIsTheSameModelAsOneFile) {
  const fs::path dir = fs::temp_directory_path() / ("frugal_mkmodel_wan_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto r = run_command(frugal_binary() + " mkmodel --preset wan-tiny -o " + (dir / "one").string() + " 2>&1 && " +
                       frugal_binary() + " mkmodel --preset wan-tiny --dit-shards 3 -o " + (dir / "sharded").string() +
                       " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir / "one" / "diffusion_pytorch_model.safetensors"));
  EXPECT_FALSE(fs::exists(dir / "sharded" / "diffusion_pytorch_model.safetensors"));

  // The index names every tensor once, and exactly the three shards, each of which exists.
  const auto index =
      nlohmann::json::parse(testing::read_text_file((dir / "sharded" / "diffusion_pytorch_model.safetensors.index.json").string()));
  std::set<std::string> shards;
  for (const auto& [name, file] : index["weight_map"].items()) shards.insert(file.get<std::string>());
  EXPECT_EQ(shards, (std::set<std::string>{"diffusion_pytorch_model-00001-of-00003.safetensors",
                                           "diffusion_pytorch_model-00002-of-00003.safetensors",
                                           "diffusion_pytorch_model-00003-of-00003.safetensors"}));
  for (const std::string& shard : shards) EXPECT_TRUE(fs::exists(dir / "sharded" / shard)) << shard;
  EXPECT_GT(index["metadata"]["total_size"].get<int64_t>(), 0);
  r = run_command(frugal_binary() + " inspect " + (dir / "one").string() + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const size_t tensors_line = r.output.find(" tensors, ");
  ASSERT_NE(tensors_line, std::string::npos) << r.output;
  r = run_command(frugal_binary() + " inspect " + (dir / "sharded").string() + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("diffusion_pytorch_model.safetensors.index.json"), std::string::npos) << r.output;
  EXPECT_EQ(index["weight_map"].size(), 69u) << "wan-tiny's DiT has 69 tensors";

  // The same prompt and seed on both folders: the same raw video, bit for bit.
  const std::string flags = " -p 'a red circle moving right' --size 32x32 --frames 5 --steps 2 --seed 3 -t 2 -q --out-raw ";
  r = run_command(frugal_binary() + " video -m " + (dir / "one").string() + flags + (dir / "one.f32").string() + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(frugal_binary() + " video -m " + (dir / "sharded").string() + flags + (dir / "sharded.f32").string() +
                  " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto one = testing::read_f32_file((dir / "one.f32").string());
  EXPECT_EQ(one.size(), 3u * 5 * 32 * 32);
  EXPECT_EQ(one, testing::read_f32_file((dir / "sharded.f32").string()));

  // Bad shard counts are refused with the reason.
  for (const auto& [flags_, needle] : std::vector<std::pair<std::string, std::string>>{
           {"--preset wan-tiny --dit-shards 0", "at least 1"},
           {"--preset wan-tiny --dit-shards 70", "69 tensors"},
           {"--preset tiny --dit-shards 2", "Wan presets only"}}) {
    r = run_command(frugal_binary() + " mkmodel " + flags_ + " -o " + (dir / "bad").string() + " 2>&1");
    EXPECT_NE(r.exit_code, 0) << flags_;
    EXPECT_LT(r.exit_code, 128) << flags_ << ": " << r.output;
    EXPECT_NE(r.output.find(needle), std::string::npos) << flags_ << ": " << r.output;
  }
  fs::remove_all(dir);
}

// --t5-layers N: only the first N umT5 blocks (the benchmark against stable-diffusion.cpp uses it to
// keep umT5-XXL's 11.4 GB out of memory); the encoder still loads and the folder still makes a video.
TEST(MkmodelWan, T5LayersWritesOnlyTheFirstBlocks) {
  const fs::path dir = fs::temp_directory_path() / ("frugal_mkmodel_t5_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto r = run_command(frugal_binary() + " mkmodel --preset wan-tiny --t5-layers 1 -o " + (dir / "m").string() + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(frugal_binary() + " inspect --all " + (dir / "m" / "models_t5_umt5-xxl-enc-bf16.safetensors").string() +
                  " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("blocks.0."), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("blocks.1."), std::string::npos) << r.output;
  r = run_command(frugal_binary() + " video -m " + (dir / "m").string() +
                  " -p 'a red circle moving right' --size 32x32 --frames 5 --steps 1 --seed 3 -t 2 -q --out-raw " +
                  (dir / "m.f32").string() + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(testing::read_f32_file((dir / "m.f32").string()).size(), 3u * 5 * 32 * 32);
  for (const auto& [flags_, needle] : std::vector<std::pair<std::string, std::string>>{
           {"--preset wan-tiny --t5-layers 0", "at least 1"},
           {"--preset wan-tiny --t5-layers 3", "between 1 and the preset's 2"},
           {"--preset tiny --t5-layers 2", "Wan presets only"}}) {
    r = run_command(frugal_binary() + " mkmodel " + flags_ + " -o " + (dir / "bad").string() + " 2>&1");
    EXPECT_NE(r.exit_code, 0) << flags_;
    EXPECT_LT(r.exit_code, 128) << flags_ << ": " << r.output;
    EXPECT_NE(r.output.find(needle), std::string::npos) << flags_ << ": " << r.output;
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace frugal

// A model folder laid out as the 14B releases are: the DiT in shards
// (diffusion_pytorch_model-0000N-of-0000M.safetensors) behind diffusion_pytorch_model.safetensors.index.json,
// beside config.json, the VAE and umT5. Here dit_a is split into 3 shards: the folder must resolve to
// the index, load as the same model (dit_a's golden output at t=999 within the README's 1e-5), and
// `frugal inspect` must read the folder and the index; a shard missing from the folder is named.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "common/subprocess.h"
#include "common/test_data.h"
#include "reference_model.h"
#include "safetensors/safetensors_writer.h"
#include "video/dit/wan_dit.h"
#include "video/pipeline/model_loading.h"

namespace frugal::video {
namespace {

namespace fs = std::filesystem;
using testing::compare;
using testing::data_path;

constexpr int kShards = 3;

std::string shard_name(int i) {
  char name[64];
  std::snprintf(name, sizeof name, "diffusion_pytorch_model-%05d-of-%05d.safetensors", i + 1, kShards);
  return name;
}

// Replaces the folder's single DiT file by kShards shards (tensors dealt round-robin in name order)
// and the index JSON the official releases ship (metadata.total_size, weight_map name → shard).
void shard_the_dit(const fs::path& dir) {
  fs::remove(dir / "diffusion_pytorch_model.safetensors");
  auto store = WeightStore::open({data_path("wan/dit_a/diffusion_pytorch_model.safetensors")});
  ASSERT_TRUE(store) << store.error().to_string();
  std::vector<SafetensorsWriter> writers(kShards);
  nlohmann::json weight_map = nlohmann::json::object();
  int64_t total_bytes = 0;
  int k = 0;
  for (const std::string& name : store->names()) {
    const auto shape = *store->shape(name);
    const auto values = *store->load_f32(name, shape);
    const int shard = k++ % kShards;
    writers[static_cast<size_t>(shard)].add_f32(name, shape, values);
    weight_map[name] = shard_name(shard);
    total_bytes += static_cast<int64_t>(values.size() * sizeof(float));
  }
  for (int i = 0; i < kShards; ++i) ASSERT_TRUE(writers[static_cast<size_t>(i)].write((dir / shard_name(i)).string()));
  const nlohmann::json index = {{"metadata", {{"total_size", total_bytes}}}, {"weight_map", weight_map}};
  std::ofstream(dir / "diffusion_pytorch_model.safetensors.index.json") << index.dump(2);
}

TEST(ShardedFolder, IndexedShardsLoadAsTheSameDit) {
  const fs::path dir = testing::reference_model_dir("sharded");
  shard_the_dit(dir);
  auto files = resolve_video_model_files(dir.string(), {});
  ASSERT_TRUE(files) << files.error().to_string();
  ASSERT_EQ(files->dits.size(), 1u);
  ASSERT_EQ(files->dits[0].weights.size(), 1u);
  EXPECT_EQ(fs::path(files->dits[0].weights[0]).filename(), "diffusion_pytorch_model.safetensors.index.json");
  auto model = load_video_model(*files, VideoPipelineOptions{2, WeightPrecision::kF32});
  ASSERT_TRUE(model) << model.error().to_string();

  // dit_a's golden forward: x [16, 3, 8, 12], context [7, 32], t = 999.
  const std::string ref_dir = "wan/dit_a/";
  const auto x = testing::read_f32_file(data_path(ref_dir + "x.f32"));
  const auto context = testing::read_f32_file(data_path(ref_dir + "context.f32"));
  const auto ref = testing::read_f32_file(data_path(ref_dir + "out_t999.f32"));
  ASSERT_EQ(x.size(), 16u * 3 * 8 * 12);
  std::vector<float> out(x.size());
  ASSERT_TRUE((*model)->dits[0]->forward(x.data(), 3, 8, 12, context.data(), static_cast<int64_t>(context.size()) / 32,
                                         999.0f, out.data(), *(*model)->pool));
  EXPECT_LE(compare(out.data(), ref, "sharded dit_a, t=999").relative(), 1e-5);

  // `frugal inspect` reads the folder (all parts) and the index on its own.
  auto r = testing::run_command(testing::frugal_binary() + " inspect " + dir.string() + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("diffusion_pytorch_model.safetensors.index.json"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("dim 64, ffn_dim 128, heads 4"), std::string::npos) << r.output;
  r = testing::run_command(testing::frugal_binary() + " inspect " +
                           (dir / "diffusion_pytorch_model.safetensors.index.json").string() + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("blocks.0.self_attn.q.weight"), std::string::npos) << r.output;

  // A shard the index names but the folder lacks: the error names it.
  fs::remove(dir / shard_name(1));
  files = resolve_video_model_files(dir.string(), {});
  ASSERT_TRUE(files) << files.error().to_string();
  model = load_video_model(*files, VideoPipelineOptions{1, WeightPrecision::kF32});
  ASSERT_FALSE(model);
  EXPECT_NE(model.error().message().find(shard_name(1)), std::string::npos) << model.error().to_string();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace frugal::video

// Parts that load on their own but do not fit together are refused at load time with a Status that
// says which sizes disagree: a DiT whose latent channels are not the VAE's z_dim, and Wan2.2 expert
// folders holding two different DiT shapes. (The text encoder's width vs the DiT's text_dim is in
// pipeline_errors_test; the same refusals through the binary are in video_cli_errors_test.)
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "common/test_data.h"
#include "reference_model.h"
#include "safetensors/safetensors_writer.h"
#include "video/pipeline/model_loading.h"

namespace frugal::video {
namespace {

namespace fs = std::filesystem;
using testing::data_path;

// dit_a with `in_channels` latent channels in (patch_embedding.weight [64, in_channels, 1, 2, 2],
// the first channels of the real one) and its config.json saying so: a well-formed DiT for a
// VAE with a different z_dim.
void write_dit_with_in_channels(const fs::path& dir, int64_t in_channels) {
  fs::create_directories(dir);
  auto store = WeightStore::open({data_path("wan/dit_a/diffusion_pytorch_model.safetensors")});
  ASSERT_TRUE(store) << store.error().to_string();
  SafetensorsWriter writer;
  for (const std::string& name : store->names()) {
    auto shape = *store->shape(name);
    auto values = *store->load_f32(name, shape);
    if (name == "patch_embedding.weight") {  // [dim, 16, 1, 2, 2] → [dim, in_channels, 1, 2, 2]
      const int64_t dim = shape[0], in = shape[1], kernel = shape[2] * shape[3] * shape[4];
      std::vector<float> cut;
      for (int64_t o = 0; o < dim; ++o) {
        const float* row = values.data() + o * in * kernel;
        cut.insert(cut.end(), row, row + in_channels * kernel);
      }
      shape[1] = in_channels;
      values = cut;
    }
    writer.add_f32(name, shape, values);
  }
  ASSERT_TRUE(writer.write((dir / "diffusion_pytorch_model.safetensors").string()));
  auto config = nlohmann::json::parse(testing::read_text_file(data_path("wan/dit_a/config.json")));
  config["in_dim"] = in_channels;
  std::ofstream(dir / "config.json") << config.dump(2);
}

TEST(PartMismatch, DitLatentChannelsMustBeTheVaesZDim) {
  const fs::path dir = testing::reference_model_dir("zdim");
  fs::remove(dir / "config.json");
  fs::remove(dir / "diffusion_pytorch_model.safetensors");
  write_dit_with_in_channels(dir, 8);
  auto files = resolve_video_model_files(dir.string(), {});
  ASSERT_TRUE(files) << files.error().to_string();
  auto model = load_video_model(*files, VideoPipelineOptions{1, WeightPrecision::kF32});
  ASSERT_FALSE(model) << "a DiT of 8 latent channels loaded beside a z_dim 16 VAE";
  EXPECT_EQ(model.error().code(), StatusCode::kInvalidArgument) << model.error().to_string();
  const std::string& message = model.error().message();
  EXPECT_NE(message.find("8 latent channels in"), std::string::npos) << message;
  EXPECT_NE(message.find("z_dim 16"), std::string::npos) << message;
  fs::remove_all(dir);
}

TEST(PartMismatch, TwoExpertsOfDifferentShapesAreRefused) {
  const fs::path dir = testing::reference_model_dir("experts_shapes");
  fs::remove(dir / "config.json");
  fs::remove(dir / "diffusion_pytorch_model.safetensors");
  const std::pair<const char*, const char*> experts[] = {{"high_noise_model", "wan/dit_a/"},
                                                         {"low_noise_model", "wan/dit_b/"}};
  for (const auto& [expert, source] : experts) {
    fs::create_directories(dir / expert);
    for (const char* file : {"config.json", "diffusion_pytorch_model.safetensors"}) {
      fs::create_symlink(data_path(std::string(source) + file), dir / expert / file);
    }
  }
  auto files = resolve_video_model_files(dir.string(), {});
  ASSERT_TRUE(files) << files.error().to_string();
  ASSERT_EQ(files->dits.size(), 2u);
  auto model = load_video_model(*files, VideoPipelineOptions{1, WeightPrecision::kF32});
  ASSERT_FALSE(model) << "experts of dim 64 and dim 132 loaded as one model";
  EXPECT_EQ(model.error().code(), StatusCode::kInvalidArgument) << model.error().to_string();
  const std::string& message = model.error().message();
  EXPECT_NE(message.find("two DiT experts have different configs"), std::string::npos) << message;
  EXPECT_NE(message.find("dim 64"), std::string::npos) << message;
  EXPECT_NE(message.find("dim 132"), std::string::npos) << message;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace frugal::video

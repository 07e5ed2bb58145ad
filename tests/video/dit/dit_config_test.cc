// DitConfig: config.json parsing, inference from tensor shapes, presets, the tensor list, and the
// store check's messages.
#include "video/dit/dit_config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "common/test_data.h"
#include "safetensors/safetensors_writer.h"
#include "video/dit/dit_test_util.h"

namespace frugal::video {
namespace {

using frugal::testing::data_path;

WeightStore open_case_store(const std::string& name) {
  auto store = WeightStore::open({data_path("wan/" + name + "/diffusion_pytorch_model.safetensors")});
  EXPECT_TRUE(store.has_value()) << store.error().to_string();
  return std::move(*store);
}

// A file holding every tensor of `config` (zeros), with no metadata, as a ComfyUI export would be.
std::string write_zero_model(const DitConfig& config, const std::string& file_name) {
  SafetensorsWriter writer;
  for (const DitTensorSpec& spec : dit_tensor_specs(config)) {
    int64_t n = 1;
    for (const int64_t d : spec.shape) n *= d;
    writer.add_f32(spec.name, spec.shape, std::vector<float>(static_cast<size_t>(n), 0.0f));
  }
  const std::string path = (std::filesystem::path(::testing::TempDir()) / file_name).string();
  EXPECT_TRUE(writer.write(path).is_ok());
  return path;
}

TEST(DitConfig, ParsesTheCaseConfigs) {
  auto a = load_dit_config_file(data_path("wan/dit_a/config.json"));
  ASSERT_TRUE(a.has_value()) << a.error().to_string();
  EXPECT_EQ(a->dim, 64);
  EXPECT_EQ(a->ffn_dim, 128);
  EXPECT_EQ(a->num_heads, 4);
  EXPECT_EQ(a->num_layers, 2);
  EXPECT_EQ(a->freq_dim, 32);
  EXPECT_EQ(a->text_dim, 32);
  EXPECT_EQ(a->text_len, 512);
  EXPECT_EQ(a->head_dim(), 16);
  auto b = load_dit_config_file(data_path("wan/dit_b/config.json"));
  ASSERT_TRUE(b.has_value()) << b.error().to_string();
  EXPECT_EQ(b->dim, 132);
  EXPECT_EQ(b->num_heads, 3);
  EXPECT_EQ(b->text_len, 64);
  EXPECT_EQ(b->head_dim(), 44);
  EXPECT_EQ(b->eps, 1e-6f);
  EXPECT_TRUE(b->qk_norm && b->cross_attn_norm);
}

// The released 1.3B config.json omits text_dim, patch_size, qk_norm and cross_attn_norm.
TEST(DitConfig, RealConfigUsesWanModelDefaults) {
  const char* kReal = R"({"_class_name": "WanModel", "_diffusers_version": "0.30.0", "dim": 1536, "eps": 1e-06,
    "ffn_dim": 8960, "freq_dim": 256, "in_dim": 16, "model_type": "t2v", "num_heads": 12, "num_layers": 30,
    "out_dim": 16, "text_len": 512})";
  auto c = parse_dit_config_json(kReal);
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  auto preset = dit_config_preset("wan2.1-1.3b");
  ASSERT_TRUE(preset.has_value());
  EXPECT_EQ(*c, *preset);
}

TEST(DitConfig, ParseErrorsNameTheKey) {
  const auto error_of = [](const char* text) { return parse_dit_config_json(text).error(); };
  EXPECT_NE(error_of("{").message().find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of(R"({"ffn_dim": 8, "num_heads": 1, "num_layers": 1})").message().find("\"dim\""), std::string::npos);
  EXPECT_NE(error_of(R"({"dim": "64", "ffn_dim": 8, "num_heads": 1, "num_layers": 1})").message().find("integer"),
            std::string::npos);
  EXPECT_EQ(error_of(R"({"dim": 64, "ffn_dim": 8, "num_heads": 3, "num_layers": 1})").code(), StatusCode::kInvalidArgument);
  EXPECT_NE(error_of(R"({"dim": 64, "ffn_dim": 8, "num_heads": 3, "num_layers": 1})").message().find("multiple"),
            std::string::npos);
  EXPECT_EQ(error_of(R"({"dim": 64, "ffn_dim": 8, "num_heads": 4, "num_layers": 1, "model_type": "i2v"})").code(),
            StatusCode::kUnimplemented);
  EXPECT_EQ(error_of(R"({"dim": 64, "ffn_dim": 8, "num_heads": 4, "num_layers": 1, "window_size": [8, 8]})").code(),
            StatusCode::kUnimplemented);
  EXPECT_NE(error_of(R"({"dim": 64, "ffn_dim": 8, "num_heads": 4, "num_layers": 1, "patch_size": [1, 2]})")
                .message().find("patch_size"), std::string::npos);
  EXPECT_NE(error_of(R"({"_class_name": "WanTransformer3DModel", "dim": 64})").message().find("WanModel"),
            std::string::npos);
  EXPECT_EQ(load_dit_config_file("/nonexistent/config.json").error().code(), StatusCode::kNotFound);
}

// Inference from the shapes (plus the num_heads / text_len metadata these files carry) agrees with
// config.json.
TEST(DitConfig, InferenceFromShapesAgreesWithConfigJson) {
  for (const std::string name : {"dit_a", "dit_b"}) {
    auto from_json = load_dit_config_file(data_path("wan/" + name + "/config.json"));
    ASSERT_TRUE(from_json.has_value());
    const WeightStore store = open_case_store(name);
    auto inferred = infer_dit_config(store);
    ASSERT_TRUE(inferred.has_value()) << inferred.error().to_string();
    EXPECT_EQ(*inferred, *from_json) << name << ": " << dit_config_summary(*inferred);
    EXPECT_TRUE(check_dit_store(*from_json, store).is_ok());
  }
}

// Without metadata (a ComfyUI file), heads = dim / 128 and text_len = 512.
TEST(DitConfig, InferenceWithoutMetadataUsesHeadDim128) {
  DitConfig c;
  c.dim = 256;
  c.ffn_dim = 64;
  c.freq_dim = 16;
  c.text_dim = 24;
  c.num_heads = 2;
  c.num_layers = 2;
  const std::string path = write_zero_model(c, "dit_no_metadata.safetensors");
  auto store = WeightStore::open({path});
  ASSERT_TRUE(store.has_value()) << store.error().to_string();
  auto inferred = infer_dit_config(*store);
  ASSERT_TRUE(inferred.has_value()) << inferred.error().to_string();
  EXPECT_EQ(*inferred, c) << dit_config_summary(*inferred);
  // dim 64 without metadata cannot be split into heads of 128.
  c.dim = 64;
  c.num_heads = 4;
  auto small = WeightStore::open({write_zero_model(c, "dit_no_metadata_64.safetensors")});
  ASSERT_TRUE(small.has_value());
  const Status s = infer_dit_config(*small).error();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("config.json"), std::string::npos) << s.message();
}

TEST(DitConfig, PresetsAndTensorList) {
  auto small = dit_config_preset("wan2.1-1.3b");
  auto large = dit_config_preset("wan2.1-14b");
  ASSERT_TRUE(small.has_value() && large.has_value());
  EXPECT_EQ(small->head_dim(), 128);
  EXPECT_EQ(large->head_dim(), 128);
  EXPECT_EQ(large->dim, 5120);
  EXPECT_EQ(large->ffn_dim, 13824);
  EXPECT_EQ(large->num_layers, 40);
  EXPECT_EQ(dit_config_preset("wan2.1-7b").error().code(), StatusCode::kNotFound);
  EXPECT_NE(dit_config_preset("wan2.1-7b").error().message().find("wan2.1-14b"), std::string::npos);
  const auto count = [](const DitConfig& c) {
    int64_t params = 0;
    for (const DitTensorSpec& spec : dit_tensor_specs(c)) {
      int64_t n = 1;
      for (const int64_t d : spec.shape) n *= d;
      params += n;
    }
    return params;
  };
  // The released Wan2.1-T2V-1.3B checkpoint: 1,418,996,800 parameters (5.68 GB in f32); 14B: 14.29e9.
  EXPECT_EQ(count(*small), 1418996800);
  EXPECT_NEAR(static_cast<double>(count(*large)), 14.29e9, 0.01e9);
  // 12 embedding tensors, 27 per block (2 x 10 attention, norm3 x 2, ffn x 4, modulation), 3 of the head.
  const std::vector<DitTensorSpec> specs = dit_tensor_specs(*small);
  EXPECT_EQ(specs.size(), 12u + 30u * 27u + 3u);
  EXPECT_EQ(specs.front().name, "patch_embedding.weight");
  EXPECT_EQ(specs.front().shape, (std::vector<int64_t>{1536, 16, 1, 2, 2}));
  // Every tensor of dit_a's file is listed, and nothing else.
  const WeightStore store = open_case_store("dit_a");
  auto config = load_dit_config_file(data_path("wan/dit_a/config.json"));
  ASSERT_TRUE(config.has_value());
  std::vector<std::string> listed;
  for (const DitTensorSpec& spec : dit_tensor_specs(*config)) listed.push_back(spec.name);
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(listed, store.names());
}

TEST(DitConfig, StoreCheckNamesTheTensor) {
  const WeightStore store = open_case_store("dit_a");
  auto config = load_dit_config_file(data_path("wan/dit_a/config.json"));
  ASSERT_TRUE(config.has_value());
  DitConfig wide = *config;
  wide.dim = 128;
  wide.num_heads = 8;
  Status s = check_dit_store(wide, store);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("\"patch_embedding.weight\""), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("[64, 16, 1, 2, 2]"), std::string::npos) << s.message();
  DitConfig deeper = *config;
  deeper.num_layers = 3;
  s = check_dit_store(deeper, store);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("\"blocks.2."), std::string::npos) << s.message();
  DitConfig shallower = *config;
  shallower.num_layers = 1;
  s = check_dit_store(shallower, store);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("more blocks"), std::string::npos) << s.message();
  DitConfig bigger_ffn = *config;
  bigger_ffn.ffn_dim = 256;
  s = check_dit_store(bigger_ffn, store);
  EXPECT_NE(s.message().find("\"blocks.0.ffn.0.weight\""), std::string::npos) << s.message();
}

}  // namespace
}  // namespace frugal::video

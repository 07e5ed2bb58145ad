// WanDit's errors: a weight file that does not match the config (missing tensor, wrong shape, other
// dim) and bad forward inputs (odd H/W, context longer than text_len, bad timestep) give a Status
// that says what is wrong.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "safetensors/safetensors_writer.h"
#include "video/dit/dit_test_util.h"
#include "video/dit/wan_dit.h"

namespace frugal::video {
namespace {

using testing::DitCase;
using testing::load_dit_case;

WeightStore open_store(const std::string& path) {
  auto store = WeightStore::open({path});
  EXPECT_TRUE(store.has_value()) << store.error().to_string();
  return std::move(*store);
}

// A copy of the case's F32 weights without `drop` and with `reshape` given the shape `new_shape`
// (its values cut or zero-extended).
std::string write_edited_copy(const DitCase& c, const std::string& drop, const std::string& reshape,
                              const std::vector<int64_t>& new_shape, const std::string& file_name) {
  const WeightStore store = open_store(c.path("diffusion_pytorch_model.safetensors"));
  SafetensorsWriter writer;
  for (const std::string& name : store.names()) {
    if (name == drop) continue;
    auto shape = store.shape(name);
    auto values = store.load_f32(name, *shape);
    EXPECT_TRUE(values.has_value());
    if (name == reshape) {
      int64_t n = 1;
      for (const int64_t d : new_shape) n *= d;
      values->resize(static_cast<size_t>(n), 0.0f);
      writer.add_f32(name, new_shape, *values);
    } else {
      writer.add_f32(name, *shape, *values);
    }
  }
  const std::string path = (std::filesystem::path(::testing::TempDir()) / file_name).string();
  EXPECT_TRUE(writer.write(path).is_ok());
  return path;
}

TEST(WanDitInput, MissingTensorIsNamed) {
  const DitCase c = load_dit_case("dit_a");
  const std::string missing = "blocks.1.cross_attn.norm_k.weight";
  const WeightStore store = open_store(write_edited_copy(c, missing, "", {}, "dit_a_missing.safetensors"));
  auto dit = WanDit::load(store, c.config, WeightPrecision::kF32);
  ASSERT_FALSE(dit.has_value());
  EXPECT_EQ(dit.error().code(), StatusCode::kNotFound);
  EXPECT_NE(dit.error().message().find("\"" + missing + "\""), std::string::npos) << dit.error().message();
}

TEST(WanDitInput, WrongShapeIsNamed) {
  const DitCase c = load_dit_case("dit_a");
  const std::string bad = "blocks.0.ffn.2.bias";
  const WeightStore store = open_store(write_edited_copy(c, "", bad, {65}, "dit_a_bad_shape.safetensors"));
  auto dit = WanDit::load(store, c.config, WeightPrecision::kStored);
  ASSERT_FALSE(dit.has_value());
  EXPECT_EQ(dit.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(dit.error().message().find("\"" + bad + "\""), std::string::npos) << dit.error().message();
  EXPECT_NE(dit.error().message().find("[65]"), std::string::npos) << dit.error().message();
}

TEST(WanDitInput, ConfigOfAnotherModel) {
  const DitCase c = load_dit_case("dit_a");
  const WeightStore store = open_store(c.path("diffusion_pytorch_model.safetensors"));
  DitConfig other = c.config;
  other.dim = 96;
  other.num_heads = 6;
  auto dit = WanDit::load(store, other, WeightPrecision::kF32);
  ASSERT_FALSE(dit.has_value());
  EXPECT_NE(dit.error().message().find("\"patch_embedding.weight\""), std::string::npos) << dit.error().message();
  other = c.config;
  other.num_heads = 5;  // 64 % 5 != 0
  EXPECT_EQ(WanDit::load(store, other, WeightPrecision::kF32).error().code(), StatusCode::kInvalidArgument);
}

TEST(WanDitInput, BadForwardInputs) {
  const DitCase c = load_dit_case("dit_a");
  const WeightStore store = open_store(c.path("diffusion_pytorch_model.safetensors"));
  auto dit = WanDit::load(store, c.config, WeightPrecision::kF32);
  ASSERT_TRUE(dit.has_value());
  ThreadPool pool(2);
  std::vector<float> x(static_cast<size_t>(16 * 3 * 9 * 13), 0.5f), out(x.size());
  std::vector<float> context(static_cast<size_t>(513 * c.config.text_dim), 0.1f);
  const auto run = [&](int64_t f, int64_t h, int64_t w, int64_t ctx_len, float t) {
    return dit->forward(x.data(), f, h, w, context.data(), ctx_len, t, out.data(), pool);
  };
  Status s = run(3, 7, 12, 7, 999.0f);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("even"), std::string::npos) << s.message();
  s = run(3, 8, 13, 7, 999.0f);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("3x8x13"), std::string::npos) << s.message();
  s = run(3, 8, 12, 513, 999.0f);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("text_len = 512"), std::string::npos) << s.message();
  EXPECT_EQ(run(3, 8, 12, -1, 999.0f).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(run(0, 8, 12, 7, 999.0f).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(run(3, 8, 12, 7, std::numeric_limits<float>::quiet_NaN()).code(), StatusCode::kInvalidArgument);
  std::vector<float> embedded(static_cast<size_t>(dit->embedded_context_size()));
  EXPECT_EQ(dit->embed_context(context.data(), 513, embedded.data(), pool).code(), StatusCode::kInvalidArgument);
  // After the errors the object still works; a context of exactly text_len rows and an empty one are valid.
  EXPECT_TRUE(run(3, 8, 12, 512, 999.0f).is_ok());
  EXPECT_TRUE(run(3, 8, 12, 0, 999.0f).is_ok());
  for (const float v : out) ASSERT_TRUE(std::isfinite(v));
}

}  // namespace
}  // namespace frugal::video

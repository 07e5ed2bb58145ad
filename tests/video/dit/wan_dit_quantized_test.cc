// Quantized DiTs as the community ships Wan: GGUF Q8_0 / Q4_K / Q5_K (written by write_weights_gguf)
// and ComfyUI's scaled FP8 E4M3 safetensors load through the same WeightStore and WanDit code and stay
// within a stated distance of the F32 model on the same weights; F32 GGUF is the F32 model exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "dit_test_util.h"
#include "safetensors/safetensors_writer.h"
#include "video/dit/wan_dit.h"
#include "safetensors/safetensors_reader.h"
#include "video/weights/gguf_export.h"

namespace frugal::video {
namespace {

using testing::DitCase;
using testing::expect_close;
using testing::load_dit_case;

std::string temp_file(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("frugal_dit_gguf_" + std::to_string(::getpid()) + "_" + name)).string();
}

std::vector<float> run_dit(const std::vector<std::string>& files, const DitConfig& config, WeightPrecision precision,
                           const DitCase& c, float t) {
  auto store = WeightStore::open(files);
  EXPECT_TRUE(store) << store.error().to_string();
  auto dit = WanDit::load(*store, config, precision);
  EXPECT_TRUE(dit) << dit.error().to_string();
  ThreadPool pool(2);
  std::vector<float> out(c.x.size());
  EXPECT_TRUE(dit->forward(c.x.data(), c.frames, c.height, c.width, c.context.data(), c.ctx_len, t, out.data(), pool));
  return out;
}

TEST(WanDitGguf, F32GgufIsTheSameModelAndQ8_0StaysClose) {
  const DitCase c = load_dit_case("dit_a");
  auto store = WeightStore::open({c.path("diffusion_pytorch_model.safetensors")});
  ASSERT_TRUE(store);
  ThreadPool pool(2);
  const std::string f32 = temp_file("a_f32.gguf"), q8 = temp_file("a_q8.gguf");
  ASSERT_TRUE(write_weights_gguf(*store, f32, DType::kF32, "wan", pool));
  ASSERT_TRUE(write_weights_gguf(*store, q8, DType::kQ8_0, "wan", pool));
  auto q8_store = WeightStore::open({q8});
  ASSERT_TRUE(q8_store) << q8_store.error().to_string();
  EXPECT_EQ(*q8_store->dtype_name("blocks.0.ffn.0.weight"), "Q8_0");
  EXPECT_EQ(*q8_store->dtype_name("head.head.weight"), "F32");
  EXPECT_EQ(*q8_store->shape("patch_embedding.weight"), (std::vector<int64_t>{64, 16, 1, 2, 2}));
  const auto ref = c.read("out_t999.f32");
  expect_close("gguf F32", run_dit({f32}, c.config, WeightPrecision::kStored, c, 999.0f), ref, 1e-5);
  // Q8_0 rounds each weight to 8 bits per 32-element block (≤ 0.4 % of the block's max) and, on the
  // stored path, each activation row the same way: measured 7.0e-3, held to 1.5e-2.
  expect_close("gguf Q8_0 (kStored)", run_dit({q8}, c.config, WeightPrecision::kStored, c, 999.0f), ref, 1.5e-2);
  // Dequantized to f32 only the weight rounding remains: measured 4.3e-3, held to 1e-2.
  expect_close("gguf Q8_0 (kF32)", run_dit({q8}, c.config, WeightPrecision::kF32, c, 999.0f), ref, 1e-2);
  std::filesystem::remove(f32);
  std::filesystem::remove(q8);
}

// K-quants need rows of 256: a random DiT with dim 256 (2 heads of 128, as the real models).
TEST(WanDitGguf, KQuantsOfA256WideDitStayClose) {
  DitConfig config;
  config.dim = 256;
  config.ffn_dim = 512;
  config.freq_dim = 256;
  config.text_dim = 256;
  config.num_heads = 2;
  config.num_layers = 2;
  config.text_len = 16;
  SafetensorsWriter writer;
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<float>((state >> 40) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
  };
  for (const auto& spec : dit_tensor_specs(config)) {
    int64_t n = 1, fan_in = 1;
    for (size_t d = 0; d < spec.shape.size(); ++d) {
      n *= spec.shape[d];
      if (d > 0) fan_in *= spec.shape[d];
    }
    const bool norm = spec.name.find("norm") != std::string::npos;
    const float scale = spec.shape.size() >= 2 ? std::sqrt(3.0f / static_cast<float>(fan_in)) : 0.1f;
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = norm ? 1.0f + 0.1f * next() : scale * next();
    writer.add_f32(spec.name, spec.shape, v);
  }
  const std::string f32 = temp_file("k_f32.safetensors");
  ASSERT_TRUE(writer.write(f32));
  DitCase c;
  c.frames = 2;
  c.height = 4;
  c.width = 6;
  c.ctx_len = 5;
  c.x.resize(static_cast<size_t>(16 * c.frames * c.height * c.width));
  for (float& x : c.x) x = next();
  c.context.resize(static_cast<size_t>(c.ctx_len * config.text_dim));
  for (float& x : c.context) x = next();
  const auto ref = run_dit({f32}, config, WeightPrecision::kF32, c, 700.0f);
  auto store = WeightStore::open({f32});
  ASSERT_TRUE(store);
  ThreadPool pool(2);
  // Tolerances ~2x the measured distance (Q4_K 8.8e-2, Q5_K 4.1e-2, Q8_0 1.0e-2): each added bit
  // per weight halves the error.
  const std::pair<DType, double> types[] = {{DType::kQ4_K, 1.5e-1}, {DType::kQ5_K, 8e-2}, {DType::kQ8_0, 2e-2}};
  for (const auto& [type, tolerance] : types) {
    const std::string path = temp_file(std::string(dtype_name(type)) + ".gguf");
    ASSERT_TRUE(write_weights_gguf(*store, path, type, "wan", pool));
    expect_close("gguf " + std::string(dtype_name(type)), run_dit({path}, config, WeightPrecision::kStored, c, 700.0f), ref,
                 tolerance);
    std::filesystem::remove(path);
  }
  std::filesystem::remove(f32);
}

}  // namespace
}  // namespace frugal::video

namespace frugal::video {
namespace {

// f32 → FP8 E4M3 (round to nearest of the 256 codes; the format has no infinities).
uint8_t to_e4m3(float v) {
  uint8_t best = 0;
  float best_err = INFINITY;
  for (int code = 0; code < 256; ++code) {
    const float f = f8e4m3_to_f32(static_cast<uint8_t>(code));
    if (std::isnan(f)) continue;
    const float err = std::fabs(f - v);
    if (err < best_err) {
      best_err = err;
      best = static_cast<uint8_t>(code);
    }
  }
  return best;
}

// ComfyUI's scaled FP8 files: each block matrix as F8_E4M3 with a per-tensor `scale_weight`.
TEST(WanDitFp8, ScaledE4M3WeightsStayClose) {
  const DitCase c = load_dit_case("dit_a");
  auto store = WeightStore::open({c.path("diffusion_pytorch_model.safetensors")});
  ASSERT_TRUE(store);
  SafetensorsWriter writer;
  int fp8_tensors = 0;
  for (const std::string& name : store->names()) {
    const auto shape = *store->shape(name);
    const auto values = *store->load_f32(name, shape);
    if (name.rfind("blocks.", 0) == 0 && shape.size() == 2) {
      float max_abs = 0;
      for (float v : values) max_abs = std::max(max_abs, std::fabs(v));
      const float scale = max_abs / 448.0f;  // the largest E4M3 value
      std::vector<uint8_t> codes(values.size());
      for (size_t i = 0; i < values.size(); ++i) codes[i] = to_e4m3(values[i] / scale);
      writer.add_bytes(name, StDType::kF8E4M3, shape, codes);
      writer.add_f32(name.substr(0, name.size() - 7) + ".scale_weight", {}, {scale});
      ++fp8_tensors;
    } else {
      writer.add_f32(name, shape, values);
    }
  }
  ASSERT_GT(fp8_tensors, 10);
  const std::string path = temp_file("fp8.safetensors");
  ASSERT_TRUE(writer.write(path));
  // E4M3 keeps 3 mantissa bits (≤ 6 % per weight, errors of random sign): measured 6.0e-3 (f32
  // compute) and 6.2e-3 (stored: FP8 → BF16 weights, BF16 activations), held to 1.5e-2.
  const auto ref = c.read("out_t999.f32");
  expect_close("scaled FP8 E4M3 (kF32)", run_dit({path}, c.config, WeightPrecision::kF32, c, 999.0f), ref, 1.5e-2);
  expect_close("scaled FP8 E4M3 (kStored)", run_dit({path}, c.config, WeightPrecision::kStored, c, 999.0f), ref, 1.5e-2);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace frugal::video

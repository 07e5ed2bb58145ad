// Helpers of the Wan VAE tests: the vae_a reference case and a printed max|d| / cosine comparison.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/test_data.h"
#include "core/thread_pool.h"
#include "ops/conv.h"
#include "video/vae/wan_vae.h"
#include "video/weights/weight_store.h"

namespace frugal::video::vae_test {

// Suggested tolerance of tests/data/wan/README.md for an F32 VAE: max|d| / max|ref|. It holds for the
// f32 FMA convolutions; on AMX-BF16 tiles (ops/conv.h, x3: 16 significant bits per operand) these
// fixtures read 4-11e-5, so the tile path is held to kVaeTileTolerance, and vae_tolerance() is the
// one for the arithmetic in effect (wan_vae_test.cc runs one decode on both paths explicitly).
inline constexpr double kVaeTolerance = 2e-5;
inline constexpr double kVaeTileTolerance = 2.5e-4;
inline double vae_tolerance() {
  return conv_tile_mode_in_effect() == ConvTileMode::kOff ? kVaeTolerance : kVaeTileTolerance;
}

inline std::string case_path(const std::string& file) { return testing::data_path("wan/vae_a/" + file); }

inline nlohmann::json case_meta() {
  return nlohmann::json::parse(testing::read_text_file(case_path("meta.json")));
}

// A tensor of the case and its shape from meta.json ("inputs" or "outputs").
struct CaseTensor {
  std::array<int64_t, 4> shape{};
  std::vector<float> data;
};

inline CaseTensor case_tensor(const std::string& name) {
  const nlohmann::json meta = case_meta();
  const nlohmann::json& entry = meta["inputs"].contains(name) ? meta["inputs"][name] : meta["outputs"][name];
  CaseTensor t;
  for (size_t i = 0; i < 4; ++i) t.shape[i] = entry["shape"][i].get<int64_t>();
  t.data = testing::read_f32_file(case_path(entry["file"].get<std::string>()));
  EXPECT_EQ(static_cast<int64_t>(t.data.size()), t.shape[0] * t.shape[1] * t.shape[2] * t.shape[3]) << name;
  return t;
}

inline WeightStore open_case_store() {
  auto store = WeightStore::open({case_path("Wan2.1_VAE.safetensors")});
  EXPECT_TRUE(store.has_value()) << store.error().to_string();
  return std::move(*store);
}

// The vae_a case's VAE, loaded once per test suite, and a 2-thread pool per test.
class CaseVaeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    store_ = new WeightStore(open_case_store());
    auto vae = WanVae::load(*store_);
    ASSERT_TRUE(vae.has_value()) << vae.error().to_string();
    vae_ = new WanVae(std::move(*vae));
  }
  static void TearDownTestSuite() {
    delete vae_;
    delete store_;
    vae_ = nullptr;
    store_ = nullptr;
  }

  inline static WeightStore* store_ = nullptr;
  inline static WanVae* vae_ = nullptr;
  ThreadPool pool_{2};
};

// Prints max|d|, max|ref|, their ratio and the cosine similarity; returns the ratio.
template <typename Ref>
double compare(const std::string& what, const std::vector<float>& got, const std::vector<Ref>& ref) {
  EXPECT_EQ(got.size(), ref.size()) << what;
  if (got.size() != ref.size()) return 1e9;
  double max_diff = 0.0, max_ref = 0.0, dot = 0.0, n_got = 0.0, n_ref = 0.0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double g = got[i], r = static_cast<double>(ref[i]);
    max_diff = std::max(max_diff, std::fabs(g - r));
    max_ref = std::max(max_ref, std::fabs(r));
    dot += g * r;
    n_got += g * g;
    n_ref += r * r;
  }
  const double rel = max_ref > 0.0 ? max_diff / max_ref : max_diff;
  const double cosine = dot / std::sqrt(std::max(n_got * n_ref, 1e-300));
  std::printf("%-40s max|d| %.3g  max|ref| %.3g  max|d|/max|ref| %.3g  cosine %.9f\n", what.c_str(), max_diff, max_ref,
              rel, cosine);
  return rel;
}

}  // namespace frugal::video::vae_test

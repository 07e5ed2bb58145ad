// vae_tensor_specs(wan21_vae_config(8)) lists exactly the tensors (names and shapes) of the
// reference VAE written by the official code with dim 8, and infer_vae_config inverts it.
#include "video/vae/vae_tensor_specs.h"

#include <gtest/gtest.h>

#include <map>

#include "common/test_data.h"
#include "video/weights/weight_store.h"

namespace frugal::video {
namespace {

TEST(VaeTensorSpecs, MatchTheOfficialStateDict) {
  auto store = WeightStore::open({testing::data_path("wan/vae_a/Wan2.1_VAE.safetensors")});
  ASSERT_TRUE(store);
  std::map<std::string, std::vector<int64_t>> ours;
  for (const auto& spec : vae_tensor_specs(wan21_vae_config(8))) ours[spec.name] = spec.shape;
  EXPECT_EQ(ours.size(), store->names().size());
  for (const std::string& name : store->names()) {
    ASSERT_EQ(ours.count(name), 1u) << name;
    EXPECT_EQ(ours[name], *store->shape(name)) << name;
  }
  auto inferred = vae::infer_vae_config(*store);
  ASSERT_TRUE(inferred);
  EXPECT_EQ(inferred->to_string(), wan21_vae_config(8).to_string());
}

TEST(VaeTensorSpecs, TheReleasedVaeHasItsKnownSize) {
  int64_t params = 0;
  for (const auto& spec : vae_tensor_specs(wan21_vae_config(96))) {
    int64_t n = 1;
    for (int64_t d : spec.shape) n *= d;
    params += n;
  }
  // Wan2.1_VAE.pth: 507.6 MB of f32 = 126.9 M parameters.
  EXPECT_NEAR(static_cast<double>(params), 126.9e6, 0.2e6) << params;
}

}  // namespace
}  // namespace frugal::video

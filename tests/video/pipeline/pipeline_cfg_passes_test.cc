// The two DiT passes of every classifier-free-guidance step of the official WanT2V.generate() runs
// (e2e_a: UniPC, e2e_a_dpmpp: DPM++; 10 steps, CFG 5): the model loaded as the pipeline loads it,
// fed the reference's own latent before step i, its timestep and the conditional / unconditional
// contexts, must give the reference's `cond[i]` / `uncond[i]`. This pins each pass of the trajectory
// on its own, so a drift in the guided pair cannot hide behind the sampler (pipeline_e2e_test checks
// the trajectory the pipeline itself makes). F32 numerics; tolerance 1e-5 of max|ref|, the README's
// DiT one (each pass is one DiT forward).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>

#include "common/test_data.h"
#include "reference_model.h"
#include "video/dit/wan_dit.h"
#include "video/pipeline/model_loading.h"

namespace frugal::video {
namespace {

using testing::compare;
using testing::data_path;

constexpr double kDitTolerance = 1e-5;

void check_passes(const std::string& name) {
  SCOPED_TRACE(name);
  const std::string dir = "wan/" + name + "/";
  const auto meta = nlohmann::json::parse(testing::read_text_file(data_path(dir + "meta.json")));
  const std::string model_dir = testing::reference_model_dir("cfg_passes");
  auto files = resolve_video_model_files(model_dir, {});
  ASSERT_TRUE(files) << files.error().to_string();
  auto model = load_video_model(*files, VideoPipelineOptions{2, WeightPrecision::kF32});
  std::filesystem::remove_all(model_dir);  // the parts are loaded; the links are not needed any more
  ASSERT_TRUE(model) << model.error().to_string();
  ASSERT_EQ((*model)->dits.size(), 1u);
  WanDit& dit = *(*model)->dits.front();

  const auto shape = meta["params"]["latent_shape"].get<std::vector<int64_t>>();  // [16, T, h, w]
  ASSERT_EQ(shape.size(), 4u);
  const int64_t n = shape[0] * shape[1] * shape[2] * shape[3];
  const int steps = meta["spec"]["steps"].get<int>();
  const auto timesteps = meta["params"]["timesteps"].get<std::vector<int64_t>>();
  ASSERT_EQ(static_cast<int>(timesteps.size()), steps);
  const auto latents = testing::read_f32_file(data_path(dir + "latents.f32"));      // [steps + 1, n]
  const auto ref_cond = testing::read_f32_file(data_path(dir + "cond.f32"));        // [steps, n]
  const auto ref_uncond = testing::read_f32_file(data_path(dir + "uncond.f32"));    // [steps, n]
  const auto ctx_pos = testing::read_f32_file(data_path(dir + "context_pos.f32"));  // [L+, text_dim]
  const auto ctx_neg = testing::read_f32_file(data_path(dir + "context_neg.f32"));  // [L-, text_dim]
  ASSERT_EQ(latents.size(), static_cast<size_t>((steps + 1) * n));
  ASSERT_EQ(ref_cond.size(), static_cast<size_t>(steps * n));
  ASSERT_EQ(ref_uncond.size(), static_cast<size_t>(steps * n));
  const int64_t text_dim = dit.config().text_dim;
  const int64_t pos_rows = static_cast<int64_t>(ctx_pos.size()) / text_dim;
  const int64_t neg_rows = static_cast<int64_t>(ctx_neg.size()) / text_dim;
  EXPECT_EQ(pos_rows, meta["outputs"]["context_pos"]["shape"][0].get<int64_t>());
  EXPECT_EQ(neg_rows, meta["outputs"]["context_neg"]["shape"][0].get<int64_t>());

  std::vector<float> cond(static_cast<size_t>(steps * n)), uncond(static_cast<size_t>(steps * n));
  for (int i = 0; i < steps; ++i) {
    const float* x = latents.data() + i * n;
    const auto t = static_cast<float>(timesteps[static_cast<size_t>(i)]);
    ASSERT_TRUE(dit.forward(x, shape[1], shape[2], shape[3], ctx_pos.data(), pos_rows, t, cond.data() + i * n,
                            *(*model)->pool).is_ok());
    ASSERT_TRUE(dit.forward(x, shape[1], shape[2], shape[3], ctx_neg.data(), neg_rows, t, uncond.data() + i * n,
                            *(*model)->pool).is_ok());
    // Each step on its own, relative to that step's max|ref|.
    const std::vector<float> step_cond(ref_cond.begin() + i * n, ref_cond.begin() + (i + 1) * n);
    const std::vector<float> step_uncond(ref_uncond.begin() + i * n, ref_uncond.begin() + (i + 1) * n);
    const std::string label = "step " + std::to_string(i) + " t=" + std::to_string(timesteps[static_cast<size_t>(i)]);
    EXPECT_LE(compare(cond.data() + i * n, step_cond, (label + " cond").c_str()).relative(), kDitTolerance) << label;
    EXPECT_LE(compare(uncond.data() + i * n, step_uncond, (label + " uncond").c_str()).relative(), kDitTolerance)
        << label;
  }
  EXPECT_LE(compare(cond.data(), ref_cond, "cond (all steps)").relative(), kDitTolerance);
  EXPECT_LE(compare(uncond.data(), ref_uncond, "uncond (all steps)").relative(), kDitTolerance);
  // The guided velocity the sampler is given: uncond + g (cond - uncond), in float32.
  const float g = meta["spec"]["guide_scale"].get<float>();
  std::vector<float> guided(cond.size()), ref_guided(cond.size());
  for (size_t k = 0; k < cond.size(); ++k) {
    guided[k] = uncond[k] + g * (cond[k] - uncond[k]);
    ref_guided[k] = ref_uncond[k] + g * (ref_cond[k] - ref_uncond[k]);
  }
  // CFG 5 multiplies the passes' difference (and its rounding) by 5: the e2e tolerance.
  EXPECT_LE(compare(guided.data(), ref_guided, "guided (all steps)").relative(), 1e-4);
}

TEST(PipelineCfgPasses, UniPcRunCondAndUncondMatchEveryStep) { check_passes("e2e_a"); }
TEST(PipelineCfgPasses, DpmPlusPlusRunCondAndUncondMatchEveryStep) { check_passes("e2e_a_dpmpp"); }

}  // namespace
}  // namespace frugal::video

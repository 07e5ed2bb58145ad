// Golden tests: every sampler against the official Wan2.1 runs on the toy model
// (tests/data/wan/sampler_{unipc,dpmpp,euler}_{10,50}). Each step's model input (latents[i]), the
// model output and the final x0 must match; the max relative difference is printed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/test_data.h"
#include "sampler_test_util.h"
#include "video/samplers/flow_sampler.h"
#include "video/samplers/sampler_loop.h"

namespace frugal::video {
namespace {

using frugal::testing::data_path;
using frugal::testing::read_f32_file;
using frugal::testing::read_text_file;
using testing::bit_equal;
using testing::max_rel_diff;
using testing::toy_velocity;

constexpr double kTolerance = 1e-5;  // README's suggested sampler tolerance (max|d| / max|ref|)

struct SamplerCase {
  const char* dir;
  SamplerKind kind;
};

struct CaseData {
  int num_steps = 0;
  double shift = 0.0;
  int64_t n = 0;                   // elements of one latent
  std::vector<float> r;            // [n] the toy model's R
  std::vector<float> noise;        // [n] initial latent
  std::vector<float> latents;      // [steps + 1, n]
  std::vector<float> model_out;    // [steps, n]
  std::vector<float> timesteps;    // [steps]
  std::vector<float> sigmas;       // [steps + 1]
};

std::vector<float> read_timesteps(const std::string& path, bool is_int) {
  if (!is_int) return read_f32_file(path);
  const std::string bytes = read_text_file(path);
  std::vector<int32_t> ints(bytes.size() / sizeof(int32_t));
  std::memcpy(ints.data(), bytes.data(), ints.size() * sizeof(int32_t));
  return std::vector<float>(ints.begin(), ints.end());
}

CaseData load_case(const std::string& dir) {
  const std::string base = data_path("wan/" + dir + "/");
  const auto meta = nlohmann::json::parse(read_text_file(base + "meta.json"));
  CaseData data;
  data.num_steps = meta["spec"]["steps"].get<int>();
  data.shift = meta["spec"]["shift"].get<double>();
  data.n = 1;
  for (int64_t dim : meta["spec"]["latent"].get<std::vector<int64_t>>()) data.n *= dim;
  data.r = read_f32_file(base + "R.f32");
  data.noise = read_f32_file(base + "noise.f32");
  data.latents = read_f32_file(base + "latents.f32");
  data.model_out = read_f32_file(base + "model_out.f32");
  data.timesteps = read_timesteps(base + meta["outputs"]["timesteps"]["file"].get<std::string>(),
                                  meta["outputs"]["timesteps"]["dtype"].get<std::string>() == "i32");
  data.sigmas = read_f32_file(base + "sigmas.f32");
  return data;
}

class ReferenceCaseTest : public ::testing::TestWithParam<SamplerCase> {};

TEST_P(ReferenceCaseTest, MatchesOfficialRunStepByStep) {
  const SamplerCase& param = GetParam();
  const CaseData data = load_case(param.dir);
  const int64_t n = data.n;
  ASSERT_GT(n, 0);
  ASSERT_EQ(data.r.size(), static_cast<size_t>(n));
  ASSERT_EQ(data.noise.size(), static_cast<size_t>(n));
  ASSERT_EQ(data.latents.size(), static_cast<size_t>(n * (data.num_steps + 1)));
  ASSERT_EQ(data.model_out.size(), static_cast<size_t>(n * data.num_steps));

  auto sampler = make_flow_sampler(param.kind, data.num_steps, data.shift);
  ASSERT_TRUE(sampler.has_value()) << sampler.error().to_string();
  EXPECT_EQ((*sampler)->timesteps(), data.timesteps);
  EXPECT_EQ((*sampler)->sigmas(), data.sigmas);

  std::vector<float> x = data.noise;  // [n]
  std::vector<float> v(static_cast<size_t>(n));
  std::vector<float> trajectory;  // [steps + 1, n]: our model inputs, then the final x0
  std::vector<float> outputs;     // [steps, n]: the toy model's outputs on them
  double worst_latent = 0.0;
  double worst_model_out = 0.0;
  int bit_identical_steps = 0;
  for (int step = 0; step < data.num_steps; ++step) {
    const float* ref_x = data.latents.data() + step * n;
    worst_latent = std::max(worst_latent, max_rel_diff(x.data(), ref_x, n));
    bit_identical_steps += bit_equal(x.data(), ref_x, n) ? 1 : 0;
    trajectory.insert(trajectory.end(), x.begin(), x.end());
    toy_velocity(x.data(), (*sampler)->timestep(), data.r.data(), v.data(), n);
    outputs.insert(outputs.end(), v.begin(), v.end());
    worst_model_out = std::max(worst_model_out, max_rel_diff(v.data(), data.model_out.data() + step * n, n));
    (*sampler)->step(v.data(), x.data(), n);
  }
  const float* ref_final = data.latents.data() + data.num_steps * n;
  const double final_diff = max_rel_diff(x.data(), ref_final, n);
  worst_latent = std::max(worst_latent, final_diff);
  bit_identical_steps += bit_equal(x.data(), ref_final, n) ? 1 : 0;
  trajectory.insert(trajectory.end(), x.begin(), x.end());
  // The whole trajectory and every model output, as one comparison each (max|d|, cosine).
  std::printf("[ %-16s ]\n", param.dir);
  EXPECT_LE(testing::print_fidelity("latents (every step + x0)", trajectory.data(), data.latents.data(),
                                    static_cast<int64_t>(data.latents.size())),
            kTolerance);
  EXPECT_LE(testing::print_fidelity("model_out (every step)", outputs.data(), data.model_out.data(),
                                    static_cast<int64_t>(data.model_out.size())),
            kTolerance);
  EXPECT_LE(testing::print_fidelity("final x0", x.data(), ref_final, n), kTolerance);
  std::printf("[ %-16s ] max|d|/max|ref|: latents %.3g, model_out %.3g, final x0 %.3g; "
              "bit-identical latents %d/%d\n",
              param.dir, worst_latent, worst_model_out, final_diff, bit_identical_steps, data.num_steps + 1);
  EXPECT_LE(worst_latent, kTolerance);
  EXPECT_LE(worst_model_out, kTolerance);
}

TEST_P(ReferenceCaseTest, RunFlowSamplerGivesTheSameFinalLatent) {
  const SamplerCase& param = GetParam();
  const CaseData data = load_case(param.dir);
  const int64_t n = data.n;
  std::vector<float> x = data.noise;
  int calls = 0;
  int progress_calls = 0;
  const Status status = run_flow_sampler(
      param.kind, data.num_steps, data.shift, x.data(), n,
      [&](const float* latent, float timestep, float* v_out) {
        EXPECT_EQ(timestep, data.timesteps[static_cast<size_t>(calls)]);
        EXPECT_LE(max_rel_diff(latent, data.latents.data() + calls * n, n), kTolerance);
        toy_velocity(latent, timestep, data.r.data(), v_out, n);
        ++calls;
        return Status::ok();
      },
      [&](int step_idx, int num_steps, float) {
        EXPECT_EQ(step_idx, progress_calls);
        EXPECT_EQ(num_steps, data.num_steps);
        ++progress_calls;
      });
  ASSERT_TRUE(status) << status.to_string();
  EXPECT_EQ(calls, data.num_steps);
  EXPECT_EQ(progress_calls, data.num_steps);
  EXPECT_LE(max_rel_diff(x.data(), data.latents.data() + data.num_steps * n, n), kTolerance);
}

INSTANTIATE_TEST_SUITE_P(WanToyModel, ReferenceCaseTest,
                         ::testing::Values(SamplerCase{"sampler_unipc_10", SamplerKind::kUniPC},
                                           SamplerCase{"sampler_unipc_50", SamplerKind::kUniPC},
                                           SamplerCase{"sampler_dpmpp_10", SamplerKind::kDpmPlusPlus},
                                           SamplerCase{"sampler_dpmpp_50", SamplerKind::kDpmPlusPlus},
                                           SamplerCase{"sampler_euler_10", SamplerKind::kEuler},
                                           SamplerCase{"sampler_euler_50", SamplerKind::kEuler}),
                         [](const ::testing::TestParamInfo<SamplerCase>& info) { return std::string(info.param.dir); });

}  // namespace
}  // namespace frugal::video

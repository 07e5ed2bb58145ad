// Tests ops/matmul.h's matmul_multi: every output of a multi-weight call (mixed dtypes, hence two
// activation formats; several work items per weight; 1..3 threads) is bitwise what matmul() gives
// for that weight alone on one thread.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "core/fp16.h"
#include "ops/matmul.h"
#include "quant/quantize.h"

namespace frugal {
namespace {

struct Weight {
  std::vector<uint8_t> bytes;
  TensorView view;
};

Weight make_weight(DType dtype, int64_t n_out, int64_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 0.05f);
  std::vector<float> w_f32(static_cast<size_t>(n_out * k));
  for (auto& v : w_f32) v = dist(rng);
  Weight w;
  auto q = quantize_rows(dtype, w_f32.data(), n_out, k);
  EXPECT_TRUE(q.has_value());
  if (q.has_value()) w.bytes = std::move(*q);
  w.view.dtype = dtype;
  w.view.ne = {k, n_out, 1, 1};
  w.view.n_dims = 2;
  w.view.data = w.bytes.data();
  return w;
}

TEST(MatmulMulti, EveryOutputMatchesTheSingleWeightMatmulBitwise) {
  const int64_t k = 512;
  // Q4_0 and Q6_K need Q8_0 and Q8_K activations; 1000 Q4_0 rows span several work items.
  std::vector<Weight> weights;
  weights.push_back(make_weight(DType::kQ4_0, 1000, k, 1));
  weights.push_back(make_weight(DType::kQ6_K, 50, k, 2));
  weights.push_back(make_weight(DType::kQ4_K, 77, k, 3));
  for (const int64_t n_tokens : {1, 3, 9}) {
    std::mt19937 rng(static_cast<uint32_t>(n_tokens));
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> x(static_cast<size_t>(n_tokens * k));
    for (auto& v : x) v = dist(rng);
    ThreadPool single(1);
    MatmulScratch scratch;
    std::vector<std::vector<float>> expected;
    for (const Weight& w : weights) {
      expected.emplace_back(static_cast<size_t>(n_tokens * w.view.num_rows()));
      matmul(w.view, x.data(), n_tokens, expected.back().data(), single, scratch);
    }
    for (const int num_threads : {1, 2, 3}) {
      ThreadPool pool(num_threads);
      std::vector<std::vector<float>> got;
      std::vector<MatmulTarget> targets;
      for (const Weight& w : weights) got.emplace_back(static_cast<size_t>(n_tokens * w.view.num_rows()), -1.0f);
      for (size_t i = 0; i < weights.size(); ++i) targets.push_back({&weights[i].view, got[i].data()});
      matmul_multi(targets.data(), static_cast<int>(targets.size()), x.data(), n_tokens, pool, scratch);
      for (size_t i = 0; i < weights.size(); ++i) {
        for (size_t j = 0; j < got[i].size(); ++j) {
          ASSERT_EQ(f32_to_bits(got[i][j]), f32_to_bits(expected[i][j]))
              << "weight " << i << " element " << j << " tokens " << n_tokens << " threads " << num_threads;
        }
      }
    }
  }
}

TEST(MatmulMulti, ReferencePathMatchesSingleWeightReference) {
  const int64_t k = 256, n_tokens = 2;
  std::vector<Weight> weights;
  weights.push_back(make_weight(DType::kQ8_0, 40, k, 4));
  weights.push_back(make_weight(DType::kQ4_K, 24, k, 5));
  std::vector<float> x(static_cast<size_t>(n_tokens * k), 0.25f);
  for (size_t i = 0; i < x.size(); ++i) x[i] *= static_cast<float>(i % 7) - 3.0f;
  ThreadPool pool(2);
  MatmulScratch scratch;
  std::vector<std::vector<float>> got, expected;
  std::vector<MatmulTarget> targets;
  for (const Weight& w : weights) {
    got.emplace_back(static_cast<size_t>(n_tokens * w.view.num_rows()));
    expected.emplace_back(static_cast<size_t>(n_tokens * w.view.num_rows()));
    matmul(w.view, x.data(), n_tokens, expected.back().data(), pool, scratch, MatmulPath::kReference);
  }
  for (size_t i = 0; i < weights.size(); ++i) targets.push_back({&weights[i].view, got[i].data()});
  matmul_multi(targets.data(), 2, x.data(), n_tokens, pool, scratch, MatmulPath::kReference);
  for (size_t i = 0; i < weights.size(); ++i) EXPECT_EQ(got[i], expected[i]) << "weight " << i;
}

}  // namespace
}  // namespace frugal

// Importance-matrix collection: statistics against a float reference computed here from the
// model's own tensors (the first layer's attention input is rms_norm(token_embd[t]) * attn_norm),
// the bookkeeping (counts, which tensors, windows) and argument errors (tests/engine).
#include "engine/imatrix_collector.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "common/test_data.h"
#include "quant/quantize.h"

namespace frugal {
namespace {

std::unique_ptr<Model> load_tiny() {
  auto model = Model::load(testing::data_path("models/tiny-f32.gguf"));
  EXPECT_TRUE(model.has_value());
  return std::move(*model);
}

std::vector<int32_t> random_tokens(int64_t n, int64_t n_vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> dist(0, static_cast<int32_t>(n_vocab - 1));
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& x : t) x = dist(rng);
  return t;
}

std::vector<float> f32_tensor(const Model& model, const std::string& name) {
  const GgufTensorInfo* info = model.file().find_tensor(name);
  EXPECT_NE(info, nullptr) << name;
  const TensorView v = model.file().tensor_view(*info);
  auto values = dequantize_rows(v.dtype, v.data, v.num_rows(), v.ne[0]);
  EXPECT_TRUE(values.has_value());
  return *values;
}

TEST(ImatrixCollector, FirstLayerStatisticsMatchAFloatReference) {
  auto model = load_tiny();
  const ModelConfig& c = model->config();
  constexpr int64_t kCtx = 32, kWindows = 3;
  const int32_t bos = 1;
  auto tokens = random_tokens(kCtx * kWindows + 5, c.n_vocab, 42);  // the 5 left over are not used
  ImatrixOptions options;
  options.n_ctx = kCtx;
  options.num_threads = 2;
  auto m = collect_imatrix(*model, tokens, bos, options);
  ASSERT_TRUE(m.has_value()) << m.error().message();

  // Reference: sum over every token of every window of (rms_norm(embd[token]) * attn_norm)^2.
  const auto embd = f32_tensor(*model, "token_embd.weight");
  const auto norm = f32_tensor(*model, "blk.0.attn_norm.weight");
  std::vector<double> ref(static_cast<size_t>(c.n_embd), 0.0);
  for (int64_t w = 0; w < kWindows; ++w) {
    for (int64_t i = 0; i < kCtx; ++i) {
      const int32_t t = i == 0 ? bos : tokens[static_cast<size_t>(w * kCtx + i)];
      const float* e = embd.data() + static_cast<int64_t>(t) * c.n_embd;
      double ms = 0;
      for (int64_t j = 0; j < c.n_embd; ++j) ms += static_cast<double>(e[j]) * e[j];
      const double inv = 1.0 / std::sqrt(ms / static_cast<double>(c.n_embd) + c.rms_eps);
      for (int64_t j = 0; j < c.n_embd; ++j) {
        const double x = e[j] * inv * norm[static_cast<size_t>(j)];
        ref[static_cast<size_t>(j)] += x * x;
      }
    }
  }
  for (const char* name : {"blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.0.attn_v.weight"}) {
    const ImatrixEntry& e = m->entries.at(name);
    ASSERT_EQ(e.sums.size(), static_cast<size_t>(c.n_embd)) << name;
    EXPECT_EQ(e.counts, std::vector<int64_t>{kCtx * kWindows}) << name;
    for (int64_t j = 0; j < c.n_embd; ++j) {
      EXPECT_NEAR(e.sums[static_cast<size_t>(j)], ref[static_cast<size_t>(j)], 1e-4 * ref[static_cast<size_t>(j)] + 1e-6)
          << name << " column " << j;
    }
  }
}

TEST(ImatrixCollector, EveryBlockMatrixOnceWithItsInputWidth) {
  auto model = load_tiny();
  const ModelConfig& c = model->config();
  ImatrixOptions options;
  options.n_ctx = 16;
  options.max_chunks = 2;
  options.dataset = "calib.txt";
  auto m = collect_imatrix(*model, random_tokens(100, c.n_vocab, 7), -1, options);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->entries.size(), static_cast<size_t>(7 * c.n_layer));  // q k v o gate up down
  EXPECT_EQ(m->chunk_count, 2);
  EXPECT_EQ(m->chunk_size, 16);
  EXPECT_EQ(m->datasets, std::vector<std::string>{"calib.txt"});
  EXPECT_EQ(m->entries.count("output.weight"), 0u);
  for (const auto& [name, e] : m->entries) {
    EXPECT_EQ(e.counts, std::vector<int64_t>{32}) << name;
    const int64_t width = name.find("ffn_down") != std::string::npos ? c.n_ff
                          : name.find("attn_output") != std::string::npos ? c.q_dim() : c.n_embd;
    EXPECT_EQ(static_cast<int64_t>(e.sums.size()), width) << name;
    double total = 0;
    for (float v : e.sums) total += v;
    EXPECT_GT(total, 0.0) << name;
  }
  // Q, K and V read the same normed input; so do gate and up.
  EXPECT_EQ(m->entries.at("blk.1.attn_q.weight").sums, m->entries.at("blk.1.attn_v.weight").sums);
  EXPECT_EQ(m->entries.at("blk.1.ffn_gate.weight").sums, m->entries.at("blk.1.ffn_up.weight").sums);
}

TEST(ImatrixCollector, OutputMatrixOnlyWhenAsked) {
  auto model = load_tiny();
  ImatrixOptions options;
  options.n_ctx = 16;
  options.include_output = true;
  auto m = collect_imatrix(*model, random_tokens(16, model->config().n_vocab, 3), -1, options);
  ASSERT_TRUE(m.has_value());
  if (model->file().find_tensor("output.weight") != nullptr) {
    EXPECT_EQ(m->entries.at("output.weight").counts, std::vector<int64_t>{16});
  }
}

TEST(ImatrixCollector, ClearErrors) {
  auto model = load_tiny();
  const int64_t n_vocab = model->config().n_vocab;
  ImatrixOptions options;
  options.n_ctx = 16;
  auto few = collect_imatrix(*model, random_tokens(10, n_vocab, 1), -1, options);
  ASSERT_FALSE(few.has_value());
  EXPECT_NE(few.error().message().find("fewer than one window"), std::string::npos) << few.error().message();
  auto bad = random_tokens(32, n_vocab, 1);
  bad[3] = static_cast<int32_t>(n_vocab);
  EXPECT_FALSE(collect_imatrix(*model, bad, -1, options).has_value());
  options.n_ctx = 8;
  EXPECT_FALSE(collect_imatrix(*model, random_tokens(32, n_vocab, 1), -1, options).has_value());
}

}  // namespace
}  // namespace frugal

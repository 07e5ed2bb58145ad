// Mixture-of-experts tests: routing (softmax, top-k, renormalisation), the batched-per-expert FFN
// against a naive per-token reference (prefill and decode shapes, with and without a shared
// expert), and clear errors for malformed expert metadata. llama.cpp agreement is in tests/golden.
#include "model/moe_ffn.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "common/gguf_edit.h"
#include "common/test_data.h"
#include "model/model.h"

namespace frugal {
namespace {

using testing::copy_gguf;
using testing::data_path;
using testing::GgufEdit;
using testing::parse_bytes;

TEST(MoeRouting, SoftmaxTopKAndRenormalisation) {
  const float logits[] = {0.0f, 2.0f, 1.0f, -1.0f};  // one token, 4 experts
  int32_t chosen[2];
  float w[2];
  route_tokens(logits, 1, 4, 2, /*normalize=*/false, chosen, w);
  double z = 0;
  for (float l : logits) z += std::exp(l);
  EXPECT_EQ(chosen[0], 1);
  EXPECT_EQ(chosen[1], 2);
  EXPECT_NEAR(w[0], std::exp(2.0) / z, 1e-6);
  EXPECT_NEAR(w[1], std::exp(1.0) / z, 1e-6);
  route_tokens(logits, 1, 4, 2, /*normalize=*/true, chosen, w);
  EXPECT_NEAR(w[0] + w[1], 1.0, 1e-6);
  EXPECT_NEAR(w[0], std::exp(2.0) / (std::exp(2.0) + std::exp(1.0)), 1e-6);
  const float tied[] = {1.0f, 1.0f, 1.0f};  // ties go to the lower id
  route_tokens(tied, 1, 3, 2, true, chosen, w);
  EXPECT_EQ(chosen[0], 0);
  EXPECT_EQ(chosen[1], 1);
}

// Recording one run's routes and replaying them on another whose router logits differ: the replay
// multiplies the recorded experts with its own probabilities, and counts and sizes the differences.
TEST(MoeRouting, ATraceReplaysTheRecordedExpertsAndMeasuresTheDisagreement) {
  const float near_tie[] = {0.0f, 2.0f, 1.0f, 0.999f};  // 2 tokens x 4 experts: token 0 ...
  const float clear[] = {0.0f, 2.0f, 1.0f, -1.0f};      // ... and token 1
  float recorded_logits[8], replay_logits[8];
  std::copy_n(near_tie, 4, recorded_logits);
  std::copy_n(clear, 4, recorded_logits + 4);
  std::copy_n(recorded_logits, 8, replay_logits);
  replay_logits[2] = 0.998f;  // the replaying path's rounding moves token 0's near-tie the other way
  RoutingTrace trace;
  int32_t chosen[4];
  float w[4];
  route_tokens(recorded_logits, 2, 4, 2, true, chosen, w);
  trace_routes(recorded_logits, 2, 4, 2, true, chosen, w, trace);
  ASSERT_EQ(trace.chosen, (std::vector<int32_t>{1, 2, 1, 2}));

  trace.mode = RoutingTrace::Mode::kReplay;
  route_tokens(replay_logits, 2, 4, 2, true, chosen, w);
  EXPECT_EQ(chosen[1], 3);  // on its own, this path would pick expert 3 for token 0
  trace_routes(replay_logits, 2, 4, 2, true, chosen, w, trace);
  EXPECT_EQ(std::vector<int32_t>(chosen, chosen + 4), (std::vector<int32_t>{1, 2, 1, 2}));
  EXPECT_EQ(trace.routes, 2);
  EXPECT_EQ(trace.differing, 1);
  EXPECT_GT(trace.max_mass_gap, 0.0);
  EXPECT_LT(trace.max_mass_gap, 1e-3);  // a near-tie: 0.999 vs 0.998 in logits
  const double e2 = std::exp(2.0), e1 = std::exp(0.998);
  EXPECT_NEAR(w[0], e2 / (e2 + e1), 1e-6);  // weights from the replaying path's own probabilities
  EXPECT_NEAR(w[1], e1 / (e2 + e1), 1e-6);
  EXPECT_EQ(trace.cursor, trace.chosen.size());
  EXPECT_FALSE(trace.overrun);
  trace_routes(replay_logits, 2, 4, 2, true, chosen, w, trace);  // past the recording
  EXPECT_TRUE(trace.overrun);
}

// A random F32 matrix [rows, cols] owned by the test.
struct Matrix {
  std::vector<float> values;
  TensorView view;
  Matrix(int64_t rows, int64_t cols, std::mt19937& rng) : values(static_cast<size_t>(rows * cols)) {
    std::normal_distribution<float> n(0.0f, 1.0f / std::sqrt(static_cast<float>(cols)));
    for (float& v : values) v = n(rng);
    view.dtype = DType::kF32;
    view.ne = {cols, rows, 1, 1};
    view.n_dims = 2;
    view.data = values.data();
  }
};

// y = W x in double; W: [rows, cols]
std::vector<double> matvec(const Matrix& w, const std::vector<double>& x) {
  const int64_t cols = w.view.ne[0], rows = w.view.ne[1];
  std::vector<double> y(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) y[static_cast<size_t>(r)] += w.values[static_cast<size_t>(r * cols + c)] * x[static_cast<size_t>(c)];
  }
  return y;
}

std::vector<double> swiglu_ffn(const Matrix& gate, const Matrix& up, const Matrix& down, const std::vector<double>& x) {
  std::vector<double> g = matvec(gate, x), u = matvec(up, x);
  for (size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
  return matvec(down, g);
}

void check_moe_against_naive(bool normalize, bool shared, int64_t n_tokens) {
  std::mt19937 rng(7);
  ModelConfig c;
  c.n_embd = 64;
  c.n_expert = 6;
  c.n_expert_used = 2;
  c.n_ff_exp = 32;
  c.n_ff_shexp = shared ? 96 : 0;
  c.expert_weights_norm = normalize;
  Matrix router(c.n_expert, c.n_embd, rng);
  std::vector<Matrix> gates, ups, downs;
  for (int64_t e = 0; e < c.n_expert; ++e) {
    gates.emplace_back(c.n_ff_exp, c.n_embd, rng);
    ups.emplace_back(c.n_ff_exp, c.n_embd, rng);
    downs.emplace_back(c.n_embd, c.n_ff_exp, rng);
  }
  Matrix sh_gate(std::max<int64_t>(c.n_ff_shexp, 1), c.n_embd, rng), sh_up(std::max<int64_t>(c.n_ff_shexp, 1), c.n_embd, rng),
      sh_down(c.n_embd, std::max<int64_t>(c.n_ff_shexp, 1), rng), sh_vec(1, c.n_embd, rng);
  LayerWeights l;
  l.gate_inp = router.view;
  for (int64_t e = 0; e < c.n_expert; ++e) {
    l.gate_exps.push_back(gates[static_cast<size_t>(e)].view);
    l.up_exps.push_back(ups[static_cast<size_t>(e)].view);
    l.down_exps.push_back(downs[static_cast<size_t>(e)].view);
  }
  if (shared) {
    l.gate_shexp = sh_gate.view;
    l.up_shexp = sh_up.view;
    l.down_shexp = sh_down.view;
    l.shexp_gate = sh_vec.values;
  }
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> xn(static_cast<size_t>(n_tokens * c.n_embd));
  for (float& v : xn) v = n(rng);

  ThreadPool pool(2);
  MoeScratch scratch;
  MatmulScratch ms;
  std::vector<float> out(xn.size());
  moe_ffn(c, l, xn.data(), n_tokens, out.data(), pool, scratch, ms, MatmulPath::kReference);

  for (int64_t t = 0; t < n_tokens; ++t) {
    std::vector<double> x(xn.begin() + t * c.n_embd, xn.begin() + (t + 1) * c.n_embd);
    std::vector<double> logits = matvec(router, x);
    std::vector<double> p(logits.size());
    double z = 0;
    for (size_t e = 0; e < p.size(); ++e) z += (p[e] = std::exp(logits[e]));
    std::vector<int> order(p.size());
    for (size_t e = 0; e < p.size(); ++e) order[e] = static_cast<int>(e);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return p[static_cast<size_t>(a)] > p[static_cast<size_t>(b)]; });
    double w_sum = 0;
    for (int j = 0; j < c.n_expert_used; ++j) w_sum += p[static_cast<size_t>(order[static_cast<size_t>(j)])] / z;
    std::vector<double> want(static_cast<size_t>(c.n_embd));
    for (int j = 0; j < c.n_expert_used; ++j) {
      const size_t e = static_cast<size_t>(order[static_cast<size_t>(j)]);
      const double w = p[e] / z / (normalize ? w_sum : 1.0);
      const auto y = swiglu_ffn(gates[e], ups[e], downs[e], x);
      for (size_t i = 0; i < want.size(); ++i) want[i] += w * y[i];
    }
    if (shared) {
      double dot = 0;
      for (size_t i = 0; i < x.size(); ++i) dot += sh_vec.values[i] * x[i];
      const auto y = swiglu_ffn(sh_gate, sh_up, sh_down, x);
      for (size_t i = 0; i < want.size(); ++i) want[i] += y[i] / (1.0 + std::exp(-dot));
    }
    for (int64_t i = 0; i < c.n_embd; ++i) {
      ASSERT_NEAR(out[static_cast<size_t>(t * c.n_embd + i)], want[static_cast<size_t>(i)], 1e-4)
          << "token " << t << " dim " << i << " normalize=" << normalize << " shared=" << shared;
    }
  }
}

TEST(MoeFfn, PrefillMatchesNaivePerTokenExperts) { check_moe_against_naive(true, false, 9); }
TEST(MoeFfn, DecodeMatchesNaivePerTokenExperts) { check_moe_against_naive(true, false, 1); }
TEST(MoeFfn, UnnormalisedWithSharedExpertMatchesNaive) {
  check_moe_against_naive(false, true, 7);
  check_moe_against_naive(false, true, 1);
}

// The tiny Mixtral-style reference model: one batched pass equals token-by-token decoding.
TEST(MoeModel, BatchedPassEqualsTokenByToken) {
  for (const char* name : {"tiny-mixtral-f32", "tiny-qwen2moe-f32", "tiny-qwen3moe-f32", "tiny-olmoe-f32"}) {
    auto model = Model::load(data_path(std::string("models/") + name + ".gguf"));
    ASSERT_TRUE(model.has_value()) << model.error().to_string();
    ASSERT_TRUE((*model)->config().is_moe()) << name;
    const std::vector<int32_t> ids = {509, 84, 258, 300, 17, 99, 265, 42, 7, 400, 3, 77};
    ThreadPool pool(2);
    ForwardOptions all;
    all.logits = LogitsMode::kAll;
    std::vector<float> batched, one, stepwise;
    KvStore kv_a((*model)->config(), 32), kv_b((*model)->config(), 32);
    ForwardScratch sa, sb;
    ASSERT_TRUE((*model)->forward_sequence(ids.data(), static_cast<int64_t>(ids.size()), 0, kv_a, pool, sa, all, batched).is_ok());
    for (size_t t = 0; t < ids.size(); ++t) {
      ASSERT_TRUE((*model)->forward_sequence(ids.data() + t, 1, static_cast<int64_t>(t), kv_b, pool, sb, {}, one).is_ok());
      stepwise.insert(stepwise.end(), one.begin(), one.end());
    }
    ASSERT_EQ(batched.size(), stepwise.size());
    double max_diff = 0;
    for (size_t i = 0; i < batched.size(); ++i) max_diff = std::max(max_diff, std::fabs(static_cast<double>(batched[i]) - stepwise[i]));
    EXPECT_LT(max_diff, 1e-4) << name;
  }
}

Expected<std::unique_ptr<Model>> load_mixtral_with(const std::function<std::string(const std::string&)>& rename,
                                                   const std::function<void(GgufWriter&)>& extra,
                                                   std::vector<uint8_t>& storage) {
  auto src = GgufFile::open(data_path("models/tiny-mixtral-f32.gguf"));
  if (!src) return src.error();
  GgufEdit edit;
  edit.rename_key = rename;
  auto writer = copy_gguf(*src, edit);
  if (extra) extra(writer);
  storage = writer.serialize();
  auto file = parse_bytes(storage);
  if (!file) return file.error();
  return Model::from_file(std::move(*file));
}

TEST(MoeModel, BadExpertMetadataIsAClearError) {
  std::vector<uint8_t> storage;
  auto too_many = load_mixtral_with(nullptr, [](GgufWriter& w) { w.set_uint32("llama.expert_used_count", 5); }, storage);
  ASSERT_FALSE(too_many.has_value());
  EXPECT_NE(too_many.error().message().find("llama.expert_used_count"), std::string::npos) << too_many.error().message();
  // Without expert_count the llama file is read as dense and its missing ffn_gate names the problem.
  auto dense = load_mixtral_with([](const std::string& k) { return k == "llama.expert_count" ? std::string() : k; },
                                 nullptr, storage);
  ASSERT_FALSE(dense.has_value());
  EXPECT_NE(dense.error().message().find("ffn_gate.weight"), std::string::npos) << dense.error().message();
  // qwen3moe requires experts.
  auto src = GgufFile::open(data_path("models/tiny-qwen3moe-f32.gguf"));
  ASSERT_TRUE(src.has_value());
  GgufEdit edit;
  edit.rename_key = [](const std::string& k) { return k == "qwen3moe.expert_count" ? std::string() : k; };
  storage = copy_gguf(*src, edit).serialize();
  auto file = parse_bytes(storage);
  ASSERT_TRUE(file.has_value());
  auto model = Model::from_file(std::move(*file));
  ASSERT_FALSE(model.has_value());
  EXPECT_NE(model.error().message().find("qwen3moe.expert_count"), std::string::npos) << model.error().message();
}

TEST(MoeModel, ExpertTensorShapeIsChecked) {
  std::vector<uint8_t> storage;
  auto src = GgufFile::open(data_path("models/tiny-mixtral-f32.gguf"));
  ASSERT_TRUE(src.has_value());
  GgufEdit edit;
  edit.edit_tensor = [](const GgufTensorInfo& info, DType&, std::vector<int64_t>& ne, std::vector<uint8_t>&) {
    if (info.name == "blk.1.ffn_up_exps.weight") std::swap(ne[1], ne[2]);
    return true;
  };
  storage = copy_gguf(*src, edit).serialize();
  auto file = parse_bytes(storage);
  ASSERT_TRUE(file.has_value());
  auto model = Model::from_file(std::move(*file));
  ASSERT_FALSE(model.has_value());
  EXPECT_NE(model.error().message().find("blk.1.ffn_up_exps.weight"), std::string::npos) << model.error().message();
}

}  // namespace
}  // namespace frugal

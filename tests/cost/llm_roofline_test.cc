// LLM roofline: parameter and KV arithmetic, memory fit (property test), the decode roofline's
// switch from bandwidth to compute, tensor-parallel splits, and serving under a rate.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "cost/llm_serving.h"
#include "cost_test_util.h"

namespace frugal {
namespace {

TEST(LlmShape, ParameterCountsMatchPublishedSizes) {
  // Published sizes: Llama-3.1-8B 8.03B, 70B 70.6B, 405B 405.9B, Mixtral 46.7B total / 12.9B active.
  EXPECT_NEAR(find_llm_shape("llama-3-8b")->total_params() / 1e9, 8.03, 0.05);
  EXPECT_NEAR(find_llm_shape("llama-3-70b")->total_params() / 1e9, 70.6, 0.2);
  EXPECT_NEAR(find_llm_shape("llama-3-405b")->total_params() / 1e9, 405.9, 1.0);
  EXPECT_NEAR(find_llm_shape("qwen2.5-72b")->total_params() / 1e9, 72.7, 0.3);
  const LlmShape mixtral = *find_llm_shape("mixtral-8x7b");
  EXPECT_NEAR(mixtral.total_params() / 1e9, 46.7, 0.2);
  EXPECT_NEAR(mixtral.active_matmul_params() / 1e9, 12.9, 0.3);
}

TEST(LlmShape, KvBytesPerTokenIsGqaAware) {
  // Llama-3-70B: 2 x 80 layers x 8 KV heads x 128 x 2 bytes = 327,680 bytes per token.
  EXPECT_DOUBLE_EQ(find_llm_shape("llama-3-70b")->kv_bytes_per_token(2.0), 327680.0);
  // Llama-3-8B in FP8: 2 x 32 x 8 x 128 x 1.
  EXPECT_DOUBLE_EQ(find_llm_shape("llama-3-8b")->kv_bytes_per_token(1.0), 65536.0);
}

TEST(LlmRoofline, FitIsExactlyTheMemorySumAndMaxBatchIsTight) {
  std::mt19937 rng(7);
  const std::vector<std::string> models = {"llama-3-8b", "llama-3-70b", "mixtral-8x7b", "qwen2.5-7b"};
  const std::vector<std::string> hws = {"h100-sxm", "a100-40gb", "rtx-4090", "h200", "graviton4"};
  const std::vector<std::string> wts = {"bf16", "fp8", "q4_k_m", "q8_0"};
  for (int trial = 0; trial < 300; ++trial) {
    const std::string hw = hws[rng() % hws.size()];
    const int tp = hw == "graviton4" ? 1 : 1 << (rng() % 3);  // the CPU has no interconnect for TP
    const LlmRoofline m = testing::roofline(models[rng() % models.size()], hw, wts[rng() % wts.size()], tp);
    const int64_t context = 1 + static_cast<int64_t>(rng() % 32768);
    const int64_t batch = 1 + static_cast<int64_t>(rng() % 512);
    const MemoryBreakdown mem = m.memory(batch, context);
    const double sum = mem.weights_bytes + mem.kv_bytes + mem.activation_bytes + mem.reserve_bytes;
    EXPECT_EQ(m.fits(batch, context), sum <= m.capacity_bytes());
    const int64_t best = m.max_batch(context);
    if (best > 0) {
      EXPECT_TRUE(m.fits(best, context));
      EXPECT_LE(m.memory(best, context).total_bytes(), m.capacity_bytes());
    } else {
      EXPECT_FALSE(m.fits(1, context));
    }
    EXPECT_FALSE(m.fits(best + 1, context));
    EXPECT_GT(m.memory(best + 1, context).total_bytes(), m.capacity_bytes());
  }
}

TEST(LlmRoofline, SeventyBInBf16DoesNotFitOneH100ButFitsOneH200InFp8) {
  EXPECT_FALSE(testing::roofline("llama-3-70b", "h100-sxm", "bf16").fits(1, 4096));  // 141 GB of weights
  EXPECT_EQ(testing::roofline("llama-3-70b", "h100-sxm", "bf16").max_batch(4096), 0);
  EXPECT_TRUE(testing::roofline("llama-3-70b", "h200", "fp8").fits(8, 4096));
}

TEST(LlmRoofline, DecodeSwitchesFromBandwidthToComputeBoundAsBatchGrows) {
  const LlmRoofline m = testing::roofline("llama-3-8b", "h100-sxm", "fp8", 1, 1.0);
  EXPECT_FALSE(m.decode_step(1, 128).compute_bound());
  EXPECT_TRUE(m.decode_step(4096, 128).compute_bound());
  // Batch 1: the 8.03B weights minus the 128256 x 4096 input embedding (a lookup, not streamed) in
  // FP8 plus 128 tokens x 64 KiB of KV, at 3.35 TB/s x 0.7 = ~3.20 ms (hand computed).
  EXPECT_NEAR(m.decode_step(1, 128).total_s(), (8.03e9 - 128256.0 * 4096 + 128 * 65536.0) / (3.35e12 * 0.7), 0.02e-3);
  // Throughput grows with batch; per-sequence speed falls.
  EXPECT_GT(64 / m.decode_step(64, 1024).total_s(), 8 / m.decode_step(8, 1024).total_s());
  EXPECT_GT(m.decode_step(64, 1024).total_s(), m.decode_step(8, 1024).total_s());
}

TEST(LlmRoofline, TensorParallelSplitsMemoryAndAddsCommunication) {
  const LlmRoofline one = testing::roofline("llama-3-70b", "h100-sxm", "fp8", 1);
  const LlmRoofline four = testing::roofline("llama-3-70b", "h100-sxm", "fp8", 4);
  EXPECT_NEAR(four.weight_bytes_per_device(), one.weight_bytes_per_device() / 4, 1.0);
  EXPECT_LT(four.memory(8, 4096).total_bytes(), one.memory(8, 4096).total_bytes());
  EXPECT_EQ(one.decode_step(8, 4096).comm_s, 0.0);
  EXPECT_GT(four.decode_step(8, 4096).comm_s, 0.0);
  EXPECT_GT(four.max_batch(4096), 4 * one.max_batch(4096));
  // TP over a PCIe-only card costs more per all-reduce than over NVLink.
  const LlmRoofline l40s = testing::roofline("llama-3-70b", "l40s", "fp8", 4);
  EXPECT_GT(l40s.decode_step(8, 4096).comm_s, four.decode_step(8, 4096).comm_s);
  // No interconnect: TP is refused with a clear error.
  LlmDeployment d = one.deployment();
  d.hardware = testing::hardware("graviton4");
  d.tensor_parallel = 2;
  auto r = LlmRoofline::create(d);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("no interconnect"), std::string::npos);
}

TEST(LlmRoofline, CostPerMillionTokensIsPriceOverTokensPerHour) {
  const LlmRoofline m = testing::roofline("llama-3-8b", "h100-sxm", "bf16");
  const LlmPlan p = plan_llm(m, {16, 2048, 512, 3.0, 0.5});
  const double tokens_per_hour = p.decode_tokens_per_s_total * 3600 * 0.5;
  EXPECT_NEAR(p.usd_per_million_output_tokens, 3.0 / tokens_per_hour * 1e6, 1e-9);
  EXPECT_NEAR(p.decode_tokens_per_s_total, 16 * p.decode_tokens_per_s, 1e-9);
  EXPECT_EQ(usd_per_million_tokens(0, 100, 1), 0.0);
}

TEST(LlmServing, RateAndSloBehave) {
  const LlmRoofline m = testing::roofline("llama-3-8b", "h100-sxm", "fp8", 1, 1.0);
  const Workload w{512, 256};
  const ServingPoint light = serve_at_rate(m, w, 0.5);
  const ServingPoint heavy = serve_at_rate(m, w, 20);
  ASSERT_TRUE(light.feasible && heavy.feasible);
  EXPECT_LT(light.batch, heavy.batch);
  EXPECT_LE(light.tpot_s, heavy.tpot_s);
  // Little's law holds at the chosen batch: batch / tpot >= demand.
  EXPECT_GE(heavy.batch / heavy.tpot_s, 20 * 256 * (1 - 1e-9));
  EXPECT_FALSE(serve_at_rate(m, w, 1e6).feasible);
  const int64_t b = max_batch_under_tpot(m, w, 0.02);
  ASSERT_GT(b, 1);
  EXPECT_LE(m.decode_step(b, 512 + 128).total_s(), 0.02);
  EXPECT_GT(m.decode_step(b + 1, 512 + 128).total_s(), 0.02);
}

}  // namespace
}  // namespace frugal

namespace frugal {
namespace {

TEST(LlmShape, ReadsShapeAndBytesPerWeightFromGguf) {
  // Reference: the reference set's meta/tiny-f32.json (shape and tensor list of the file).
  std::ifstream in(std::string(FRUGAL_TEST_DATA_DIR) + "/models/meta/tiny-f32.json");
  std::stringstream ss;
  ss << in.rdbuf();
  const auto meta = nlohmann::json::parse(ss.str());
  int64_t params = 0;
  for (const auto& t : meta["tensors"]) {
    int64_t n = 1;
    for (int64_t d : t["dims"]) n *= d;
    params += n;
  }
  auto f32 = llm_shape_from_gguf(std::string(FRUGAL_TEST_DATA_DIR) + "/models/tiny-f32.gguf");
  ASSERT_TRUE(f32.has_value()) << f32.error().to_string();
  EXPECT_EQ(f32->n_layer, meta["shape"]["n_layer"].get<int64_t>());
  EXPECT_EQ(f32->n_embd, meta["shape"]["n_embd"].get<int64_t>());
  EXPECT_EQ(f32->n_head, meta["shape"]["n_head"].get<int64_t>());
  EXPECT_EQ(f32->n_head_kv, meta["shape"]["n_head_kv"].get<int64_t>());
  EXPECT_EQ(f32->n_ff, meta["shape"]["n_ff"].get<int64_t>());
  EXPECT_EQ(f32->n_vocab, meta["shape"]["n_vocab"].get<int64_t>());
  EXPECT_EQ(f32->total_params(), params);
  EXPECT_DOUBLE_EQ(f32->file_bytes_per_weight, 4.0);
  auto q4 = llm_shape_from_gguf(std::string(FRUGAL_TEST_DATA_DIR) + "/models/tiny-q4_0.gguf");
  ASSERT_TRUE(q4.has_value());
  EXPECT_EQ(q4->total_params(), params);
  EXPECT_LT(q4->file_bytes_per_weight, 2.0);  // Q4_0 matrices (0.5625) with some f32 tensors
  EXPECT_FALSE(llm_shape_from_gguf("/nonexistent.gguf").has_value());
  EXPECT_FALSE(resolve_llm_shape("no-such-model").has_value());
}

}  // namespace
}  // namespace frugal

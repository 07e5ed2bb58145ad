// Op tests: RoPE, attention and RMSNorm against direct double-precision formulas, and matmul's fast
// path against its reference path for every weight type.
#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <random>

#include "core/fp16.h"
#include "kernels/kernel_table.h"
#include "ops/attention.h"
#include "ops/elementwise.h"
#include "ops/matmul.h"
#include "ops/rope.h"
#include "quant/quantize.h"

namespace frugal {
namespace {

std::vector<float> random_vector(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

TEST(Rope, NormalModeRotatesAdjacentPairs) {
  const int64_t n_heads = 3, head_dim = 8;
  const int32_t positions[] = {0, 1, 7, 100};
  auto x = random_vector(4 * n_heads * head_dim, 1);
  const auto orig = x;
  RopeParams params;
  params.n_rot = static_cast<int32_t>(head_dim);
  params.freq_base = 10000.0f;
  RopeTable(params).apply(x.data(), 4, n_heads, head_dim, positions);
  for (int t = 0; t < 4; ++t) {
    for (int64_t h = 0; h < n_heads; ++h) {
      for (int64_t i = 0; i < head_dim / 2; ++i) {
        const double theta = positions[t] * std::pow(10000.0, -2.0 * i / head_dim);
        const size_t base = static_cast<size_t>((t * n_heads + h) * head_dim);
        const double a = orig[base + 2 * i], b = orig[base + 2 * i + 1];
        EXPECT_NEAR(x[base + 2 * i], a * std::cos(theta) - b * std::sin(theta), 2e-4);
        EXPECT_NEAR(x[base + 2 * i + 1], a * std::sin(theta) + b * std::cos(theta), 2e-4);
      }
    }
  }
}

TEST(Rope, NeoxModeRotatesHalves) {
  const int64_t head_dim = 8;
  const int32_t positions[] = {5};
  auto x = random_vector(head_dim, 2);
  const auto orig = x;
  RopeParams params;
  params.mode = RopeMode::kNeox;
  params.n_rot = static_cast<int32_t>(head_dim);
  params.freq_factors = {1.0f, 2.0f, 1.0f, 8.0f};
  RopeTable(params).apply(x.data(), 1, 1, head_dim, positions);
  for (int64_t i = 0; i < head_dim / 2; ++i) {
    const double theta = 5 * std::pow(10000.0, -2.0 * i / head_dim) / params.freq_factors[static_cast<size_t>(i)];
    const double a = orig[static_cast<size_t>(i)], b = orig[static_cast<size_t>(i + head_dim / 2)];
    EXPECT_NEAR(x[static_cast<size_t>(i)], a * std::cos(theta) - b * std::sin(theta), 1e-5);
    EXPECT_NEAR(x[static_cast<size_t>(i + head_dim / 2)], a * std::sin(theta) + b * std::cos(theta), 1e-5);
  }
}

TEST(RmsNorm, MatchesFormula) {
  const int64_t n = 37;
  auto x = random_vector(2 * n, 3);
  auto w = random_vector(n, 4);
  std::vector<float> y(2 * n);
  rms_norm(x.data(), w.data(), 2, n, 1e-5f, y.data());
  for (int r = 0; r < 2; ++r) {
    double ss = 0;
    for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[r * n + i]) * x[r * n + i];
    const double scale = 1.0 / std::sqrt(ss / n + 1e-5);
    for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(y[r * n + i], x[r * n + i] * scale * w[i], 1e-5);
  }
}

// Naive causal GQA attention in double, for two sequences whose K/V rows are scattered through a
// shared pool by slot tables (as the paged cache lays them out).
TEST(Attention, MatchesNaiveGqaCausalThroughSlotTables) {
  const int64_t n_head = 4, n_head_kv = 2, hd = 16, n_rows = 40;
  auto k = random_vector(n_rows * n_head_kv * hd, 6);
  auto v = random_vector(n_rows * n_head_kv * hd, 7);
  const std::vector<int32_t> slots0 = {17, 3, 25, 8, 39, 0, 12, 30, 21};
  std::vector<int32_t> slots1;
  for (int32_t r = 0; r < 30; ++r) slots1.push_back((r * 7 + 5) % n_rows);
  const AttentionSeq seqs[2] = {{slots0.data(), 9}, {slots1.data(), 30}};
  const int32_t positions[] = {6, 7, 8, 29, 0};
  const int32_t seq_of_token[] = {0, 0, 0, 1, 1};
  const int64_t n_tokens = 5;
  auto q = random_vector(n_tokens * n_head * hd, 5);
  std::vector<float> out(n_tokens * n_head * hd);
  const KvRows rows{k.data(), v.data(), n_head_kv * hd};
  const AttentionShape shape{n_head, n_head_kv, hd, 0.25f};
  ThreadPool pool(2);
  attention(q.data(), positions, seq_of_token, n_tokens, rows, seqs, shape, out.data(), pool);
  for (int64_t t = 0; t < n_tokens; ++t) {
    const int32_t* slots = seqs[seq_of_token[t]].slots;
    for (int64_t h = 0; h < n_head; ++h) {
      const int64_t g = h / (n_head / n_head_kv);
      std::vector<double> sc(static_cast<size_t>(positions[t] + 1));
      double mx = -1e300;
      for (int64_t p = 0; p <= positions[t]; ++p) {
        double dot = 0;
        for (int64_t i = 0; i < hd; ++i) dot += static_cast<double>(q[(t * n_head + h) * hd + i]) * k[(slots[p] * n_head_kv + g) * hd + i];
        sc[static_cast<size_t>(p)] = dot * 0.25;
        mx = std::max(mx, sc[static_cast<size_t>(p)]);
      }
      double sum = 0;
      for (auto& e : sc) sum += (e = std::exp(e - mx));
      for (int64_t i = 0; i < hd; ++i) {
        double o = 0;
        for (int64_t p = 0; p <= positions[t]; ++p) o += sc[static_cast<size_t>(p)] / sum * v[(slots[p] * n_head_kv + g) * hd + i];
        EXPECT_NEAR(out[(t * n_head + h) * hd + i], o, 1e-5) << t << " " << h << " " << i;
      }
    }
  }
}

// Online softmax across many tiles with a score spike late in the context (the running maximum
// must be rescaled correctly).
TEST(Attention, LongContextOnlineSoftmaxMatchesNaive) {
  const int64_t hd = 8, n_kv = 1000;
  auto k = random_vector(n_kv * hd, 11);
  auto v = random_vector(n_kv * hd, 12);
  auto q = random_vector(hd, 13);
  for (int64_t i = 0; i < hd; ++i) k[900 * hd + i] = q[static_cast<size_t>(i)] * 3.0f;  // a late, dominant key
  std::vector<int32_t> slots(n_kv);
  for (int64_t p = 0; p < n_kv; ++p) slots[static_cast<size_t>(p)] = static_cast<int32_t>(p);
  const AttentionSeq seq{slots.data(), n_kv};
  const int32_t position = static_cast<int32_t>(n_kv - 1), seq_idx = 0;
  std::vector<float> out(hd);
  ThreadPool pool(1);
  attention(q.data(), &position, &seq_idx, 1, KvRows{k.data(), v.data(), hd}, &seq, AttentionShape{1, 1, hd, 0.35f},
            out.data(), pool);
  std::vector<double> sc(n_kv);
  double mx = -1e300, sum = 0;
  for (int64_t p = 0; p < n_kv; ++p) {
    double dot = 0;
    for (int64_t i = 0; i < hd; ++i) dot += static_cast<double>(q[i]) * k[p * hd + i];
    mx = std::max(mx, sc[p] = dot * 0.35);
  }
  for (auto& e : sc) sum += (e = std::exp(e - mx));
  for (int64_t i = 0; i < hd; ++i) {
    double o = 0;
    for (int64_t p = 0; p < n_kv; ++p) o += sc[p] / sum * v[p * hd + i];
    EXPECT_NEAR(out[i], o, 1e-5);
  }
}

// Queries are attended in blocks (a K/V head's query heads x a run of one sequence's tokens, the
// block sharing each tile's K/V rows): a token's output must be the same bits as attending it
// alone, with blocks that cross a 64-position tile (positions 58..69: the first tokens see nothing
// of the second tile), a second sequence in the same call, and head sizes on the register-resident
// kernel paths. The outputs are also checked against the naive double-precision formula.
TEST(Attention, ATokenAttendedInABlockIsTheSameBitsAsAlone) {
  for (const int64_t hd : {32, 64, 48}) {
    const int64_t n_head = 8, n_head_kv = 2, n_rows = 160;
    const int64_t row_stride = n_head_kv * hd;
    auto k = random_vector(static_cast<size_t>(n_rows * row_stride), 21);
    auto v = random_vector(static_cast<size_t>(n_rows * row_stride), 22);
    std::vector<int32_t> slots0, slots1;
    for (int32_t p = 0; p < 70; ++p) slots0.push_back((p * 37 + 11) % n_rows);
    for (int32_t p = 0; p < 5; ++p) slots1.push_back(150 + p);
    const AttentionSeq seqs[2] = {{slots0.data(), 70}, {slots1.data(), 5}};
    std::vector<int32_t> positions, seq_of_token;
    for (int32_t p = 58; p < 70; ++p) {
      positions.push_back(p);
      seq_of_token.push_back(0);
    }
    for (int32_t p = 3; p < 5; ++p) {
      positions.push_back(p);
      seq_of_token.push_back(1);
    }
    const auto n_tokens = static_cast<int64_t>(positions.size());
    auto q = random_vector(static_cast<size_t>(n_tokens * n_head * hd), 23);
    const KvRows rows{k.data(), v.data(), row_stride};
    const AttentionShape shape{n_head, n_head_kv, hd, 1.0f / std::sqrt(static_cast<float>(hd))};
    ThreadPool pool(2);
    std::vector<float> out(static_cast<size_t>(n_tokens * n_head * hd));
    attention(q.data(), positions.data(), seq_of_token.data(), n_tokens, rows, seqs, shape, out.data(), pool);
    for (int64_t t = 0; t < n_tokens; ++t) {
      std::vector<float> alone(static_cast<size_t>(n_head * hd));
      const int32_t seq_idx = 0;
      attention(q.data() + t * n_head * hd, &positions[static_cast<size_t>(t)], &seq_idx, 1, rows,
                &seqs[seq_of_token[static_cast<size_t>(t)]], shape, alone.data(), pool);
      EXPECT_EQ(std::memcmp(alone.data(), out.data() + t * n_head * hd, alone.size() * sizeof(float)), 0)
          << "hd=" << hd << " token " << t << " (position " << positions[static_cast<size_t>(t)] << ")";
      const int32_t* slots = seqs[seq_of_token[static_cast<size_t>(t)]].slots;
      for (int64_t h = 0; h < n_head; ++h) {
        const int64_t g = h / (n_head / n_head_kv);
        std::vector<double> sc(static_cast<size_t>(positions[static_cast<size_t>(t)] + 1));
        double mx = -1e300, sum = 0;
        for (size_t p = 0; p < sc.size(); ++p) {
          double dot = 0;
          for (int64_t i = 0; i < hd; ++i) dot += static_cast<double>(q[(t * n_head + h) * hd + i]) * k[slots[p] * row_stride + g * hd + i];
          mx = std::max(mx, sc[p] = dot * shape.scale);
        }
        for (auto& e : sc) sum += (e = std::exp(e - mx));
        for (int64_t i = 0; i < hd; ++i) {
          double o = 0;
          for (size_t p = 0; p < sc.size(); ++p) o += sc[p] / sum * v[slots[p] * row_stride + g * hd + i];
          EXPECT_NEAR(out[(t * n_head + h) * hd + i], o, 1e-5) << "hd=" << hd << " token " << t << " head " << h;
        }
      }
    }
  }
}

// The fast path (activations converted like llama.cpp) agrees with the f32 reference path within
// the error of the activation format; for F32 weights the two are the same arithmetic.
TEST(Matmul, FastPathAgreesWithReferenceForEveryType) {
  const int64_t k = 512, n_out = 37, n_tokens = 5;
  const auto w_f32 = random_vector(k * n_out, 8, 0.05f);
  const auto x = random_vector(k * n_tokens, 9);
  ThreadPool pool(2);
  MatmulScratch scratch;
  struct Case { DType dtype; double tol; };
  for (const Case c : {Case{DType::kF32, 1e-4}, Case{DType::kF16, 3e-3}, Case{DType::kBF16, 2e-2}, Case{DType::kQ8_0, 2e-2},
                       Case{DType::kQ4_0, 2e-2}, Case{DType::kQ5_0, 2e-2}, Case{DType::kQ4_K, 2e-2}, Case{DType::kQ5_K, 2e-2},
                       Case{DType::kQ6_K, 2e-2}}) {
    std::vector<uint8_t> bytes;
    if (c.dtype == DType::kF32) {
      bytes.resize(w_f32.size() * 4);
      std::memcpy(bytes.data(), w_f32.data(), bytes.size());
    } else if (c.dtype == DType::kF16 || c.dtype == DType::kBF16) {
      bytes.resize(w_f32.size() * 2);
      auto* h = reinterpret_cast<uint16_t*>(bytes.data());
      for (size_t i = 0; i < w_f32.size(); ++i) h[i] = c.dtype == DType::kF16 ? f32_to_f16(w_f32[i]) : f32_to_bf16(w_f32[i]);
    } else {
      auto q = quantize_rows(c.dtype, w_f32.data(), n_out, k);
      ASSERT_TRUE(q.has_value()) << q.error().to_string();
      bytes = std::move(*q);
    }
    TensorView w;
    w.dtype = c.dtype;
    w.ne = {k, n_out, 1, 1};
    w.n_dims = 2;
    w.data = bytes.data();
    std::vector<float> fast(n_tokens * n_out), ref(n_tokens * n_out);
    matmul(w, x.data(), n_tokens, fast.data(), pool, scratch, MatmulPath::kFast);
    matmul(w, x.data(), n_tokens, ref.data(), pool, scratch, MatmulPath::kReference);
    double max_diff = 0, max_ref = 0;
    for (size_t i = 0; i < fast.size(); ++i) {
      max_diff = std::max(max_diff, std::fabs(static_cast<double>(fast[i]) - ref[i]));
      max_ref = std::max(max_ref, std::fabs(static_cast<double>(ref[i])));
    }
    EXPECT_LE(max_diff, c.tol * max_ref) << dtype_name(c.dtype) << " max diff " << max_diff << " of " << max_ref;
  }
}

// Serving relies on batch invariance: a token's output row must be bitwise identical whether it is
// multiplied alone or as any row of a larger batch (so greedy output does not depend on what else
// is scheduled in the same step). Checked for every weight type with the selected ISA table
// (FRUGAL_ISA=ref/avx2/avx512/amx runs it against the others), in the file's layout and, where the
// table has one, in its packed layout (pack_for_kernels) -- 67 rows: a padded last row group;
// 21 tokens: under FRUGAL_ISA=amx one 16-token AMX tile and VNNI tiles for the rest.
TEST(Matmul, OutputRowsAreBitwiseBatchInvariant) {
  const int64_t k = 512, n_out = 67, n_tokens = 21;
  const auto w_f32 = random_vector(k * n_out, 18, 0.05f);
  const auto x = random_vector(k * n_tokens, 19);
  ThreadPool pool(2);
  MatmulScratch scratch;
  int packed_types = 0;
  for (const DType dtype : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0, DType::kQ5_0,
                            DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    auto bytes = quantize_rows(dtype, w_f32.data(), n_out, k);
    ASSERT_TRUE(bytes.has_value()) << bytes.error().to_string();
    for (const bool packed : {false, true}) {
      TensorView w;
      w.dtype = dtype;
      w.ne = {k, n_out, 1, 1};
      w.n_dims = 2;
      w.data = bytes->data();
      PackedWeights storage;
      if (packed) {
        pack_for_kernels(w, storage);
        if (w.packed == nullptr) continue;  // no packed layout for this type in this table
        ++packed_types;
      }
      const std::string what = std::string(dtype_name(dtype)) + (packed ? " packed" : "");
      std::vector<float> batched(n_tokens * n_out);
      matmul(w, x.data(), n_tokens, batched.data(), pool, scratch, MatmulPath::kFast);
      for (int64_t t = 0; t < n_tokens; ++t) {
        std::vector<float> alone(n_out);
        matmul(w, x.data() + t * k, 1, alone.data(), pool, scratch, MatmulPath::kFast);
        for (int64_t r = 0; r < n_out; ++r) {
          ASSERT_EQ(f32_to_bits(alone[r]), f32_to_bits(batched[t * n_out + r])) << what << " token " << t << " row " << r;
        }
        // And as the first row of a 3-token batch (a different tile position).
        std::vector<float> three(3 * n_out);
        std::vector<float> x3(3 * k);
        std::copy_n(x.data() + t * k, k, x3.data());
        std::copy_n(x.data(), 2 * k, x3.data() + k);
        matmul(w, x3.data(), 3, three.data(), pool, scratch, MatmulPath::kFast);
        for (int64_t r = 0; r < n_out; ++r) {
          ASSERT_EQ(f32_to_bits(alone[r]), f32_to_bits(three[r])) << what << " token " << t << " row " << r;
        }
      }
    }
  }
  if (kernels().isa == Isa::kAvx512 || kernels().isa == Isa::kAmx) {
    EXPECT_EQ(packed_types, 5) << "AVX-512 packs Q4_0, Q8_0, F16, Q4_K and Q6_K";
  }
}

}  // namespace
}  // namespace frugal

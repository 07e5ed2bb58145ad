// ops/attention_bias against a float64 scalar reference: relative bias per head, key mask replacing
// the score (not adding to it), the all-masked row, scale, and thread-count independence.
// (An ops test: it lives here because this room owns the op's only user; tests/ops/ is its mirror home.)
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "ops/attention_bias.h"

namespace frugal {
namespace {

struct Problem {
  int64_t n_q = 0, n_kv = 0, n_head = 0, head_dim = 0, num_buckets = 0;
  float scale = 1.0f;
  std::vector<float> q, k, v, table;  // [n_q,H,D], [n_kv,H,D], [n_kv,H,D], [num_buckets,H]
  std::vector<int32_t> buckets;       // [n_q + n_kv - 1]
  std::vector<int32_t> mask;          // [n_kv]
};

Problem make_problem(int64_t n_q, int64_t n_kv, int64_t n_head, int64_t head_dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Problem p;
  p.n_q = n_q, p.n_kv = n_kv, p.n_head = n_head, p.head_dim = head_dim, p.num_buckets = 7;
  const auto fill = [&](std::vector<float>& x, int64_t n) {
    x.resize(n);
    for (float& e : x) e = normal(rng);
  };
  fill(p.q, n_q * n_head * head_dim);
  fill(p.k, n_kv * n_head * head_dim);
  fill(p.v, n_kv * n_head * head_dim);
  fill(p.table, p.num_buckets * n_head);
  for (int64_t i = 0; i < n_q + n_kv - 1; ++i) p.buckets.push_back(static_cast<int32_t>((i * 5 + 3) % p.num_buckets));
  p.mask.assign(n_kv, 1);
  return p;
}

// Straight from the definition, in float64; a masked key gets weight 0 unless all are masked (uniform).
std::vector<double> reference(const Problem& p, bool use_bias, bool use_mask) {
  const int64_t H = p.n_head, D = p.head_dim;
  std::vector<double> out(p.n_q * H * D, 0.0);
  for (int64_t i = 0; i < p.n_q; ++i) {
    for (int64_t h = 0; h < H; ++h) {
      std::vector<double> w(p.n_kv, 0.0);
      bool any = false;
      for (int64_t j = 0; j < p.n_kv; ++j) any = any || !use_mask || p.mask[j] != 0;
      double mx = -INFINITY;
      for (int64_t j = 0; j < p.n_kv; ++j) {
        if (use_mask && p.mask[j] == 0) continue;
        double s = 0;
        for (int64_t d = 0; d < D; ++d) s += double(p.q[(i * H + h) * D + d]) * p.k[(j * H + h) * D + d];
        s *= p.scale;
        if (use_bias) s += p.table[p.buckets[j - i + p.n_q - 1] * H + h];
        w[j] = s;
        mx = std::max(mx, s);
      }
      double sum = 0;
      for (int64_t j = 0; j < p.n_kv; ++j) {
        const bool keep = !use_mask || p.mask[j] != 0 || !any;
        w[j] = keep ? (any ? std::exp(w[j] - mx) : 1.0) : 0.0;
        sum += w[j];
      }
      for (int64_t j = 0; j < p.n_kv; ++j) {
        for (int64_t d = 0; d < D; ++d) out[(i * H + h) * D + d] += w[j] / sum * p.v[(j * H + h) * D + d];
      }
    }
  }
  return out;
}

std::vector<float> run(const Problem& p, bool use_bias, bool use_mask, int threads) {
  ThreadPool pool(threads);
  std::vector<float> out(p.n_q * p.n_head * p.head_dim, -1.0f);
  const RelativeBias bias = use_bias ? RelativeBias{p.table.data(), p.num_buckets, p.buckets.data()} : RelativeBias{};
  attention_rel_bias(p.q.data(), p.n_q, p.k.data(), p.v.data(), p.n_kv, {p.n_head, p.head_dim, p.scale}, bias,
                     use_mask ? p.mask.data() : nullptr, out.data(), pool);
  return out;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<double>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

TEST(AttentionRelBias, MatchesReference) {
  // Sizes around the 8-lane dot product (head_dim 1, 7, 8, 9, 64), square and rectangular.
  const int64_t shapes[][4] = {{1, 1, 1, 1}, {5, 5, 4, 8}, {9, 13, 3, 7}, {17, 4, 2, 9}, {33, 33, 4, 64}};
  for (const auto& s : shapes) {
    Problem p = make_problem(s[0], s[1], s[2], s[3], static_cast<uint32_t>(s[0] * 100 + s[3]));
    p.scale = 0.37f;
    for (int64_t j = 1; j < p.n_kv; j += 3) p.mask[j] = 0;
    for (const bool use_bias : {false, true}) {
      for (const bool use_mask : {false, true}) {
        const double diff = max_abs_diff(run(p, use_bias, use_mask, 2), reference(p, use_bias, use_mask));
        EXPECT_LE(diff, 2e-5) << s[0] << "x" << s[1] << " H" << s[2] << " D" << s[3] << " bias " << use_bias
                              << " mask " << use_mask;
      }
    }
  }
}

// The masked score is replaced by float32 min, so a key's bias cannot leak through the mask, and a
// huge masked value changes nothing.
TEST(AttentionRelBias, MaskReplacesBias) {
  Problem p = make_problem(6, 6, 2, 8, 11);
  p.num_buckets = 8;
  p.table.assign(p.num_buckets * p.n_head, 0.0f);
  p.table[7 * p.n_head + 0] = 1e30f;  // bucket 7: only offsets mapped to it
  p.table[7 * p.n_head + 1] = 1e30f;
  for (size_t i = 0; i < p.buckets.size(); ++i) p.buckets[i] = static_cast<int32_t>(i % 7);
  p.buckets.back() = 7;  // offset n_kv − 1 − 0: query 0, key 5
  p.mask[5] = 0;
  const std::vector<float> got = run(p, true, true, 1);
  EXPECT_LE(max_abs_diff(got, reference(p, true, true)), 2e-5);
  for (float x : got) EXPECT_TRUE(std::isfinite(x));
}

// Every key masked: all scores are float32 min, so torch's softmax is uniform over the keys.
TEST(AttentionRelBias, AllKeysMaskedIsUniform) {
  Problem p = make_problem(3, 5, 2, 4, 3);
  p.mask.assign(p.n_kv, 0);
  const std::vector<float> got = run(p, true, true, 2);
  EXPECT_LE(max_abs_diff(got, reference(p, true, true)), 1e-6);
}

TEST(AttentionRelBias, SameResultForAnyThreadCount) {
  Problem p = make_problem(40, 40, 4, 16, 5);
  EXPECT_EQ(run(p, true, true, 1), run(p, true, true, 3));
}

}  // namespace
}  // namespace frugal

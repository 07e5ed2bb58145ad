// UmT5Encoder against a slow, straightforward float64 re-statement of the README's T5 formulas, on the
// t5_a weights at lengths the golden data does not have (1, 5, 511, 512 tokens) and with a mask that is
// not a prefix, so the semantics are not tied to the two golden cases.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "common/test_data.h"
#include "video/text_encoder/umt5_encoder.h"

namespace frugal::video {
namespace {

using Vec = std::vector<double>;

// Float64 reference of T5Encoder.forward (README "T5 encoder (umT5-XXL structure)").
class ReferenceT5 {
 public:
  explicit ReferenceT5(const WeightStore& store) : c_(*infer_umt5_config(store)) {
    auto get = [&](const std::string& name, std::vector<int64_t> shape) {
      auto v = store.load_f32(name, shape);
      EXPECT_TRUE(v.has_value()) << name;
      return Vec(v->begin(), v->end());
    };
    embedding_ = get("token_embedding.weight", {c_.vocab, c_.dim});
    final_norm_ = get("norm.weight", {c_.dim});
    for (int64_t l = 0; l < c_.num_layers; ++l) {
      const std::string p = "blocks." + std::to_string(l) + ".";
      layers_.push_back({get(p + "norm1.weight", {c_.dim}), get(p + "norm2.weight", {c_.dim}),
                         get(p + "pos_embedding.embedding.weight", {c_.num_buckets, c_.num_heads}),
                         get(p + "attn.q.weight", {c_.dim_attn, c_.dim}), get(p + "attn.k.weight", {c_.dim_attn, c_.dim}),
                         get(p + "attn.v.weight", {c_.dim_attn, c_.dim}), get(p + "attn.o.weight", {c_.dim, c_.dim_attn}),
                         get(p + "ffn.gate.0.weight", {c_.dim_ffn, c_.dim}), get(p + "ffn.fc1.weight", {c_.dim_ffn, c_.dim}),
                         get(p + "ffn.fc2.weight", {c_.dim, c_.dim_ffn})});
    }
  }

  // All n rows, [n, dim]. mask: [n] (0 = key excluded).
  Vec forward(const std::vector<int32_t>& ids, const std::vector<int32_t>& mask) const {
    const auto n = static_cast<int64_t>(ids.size());
    Vec x(n * c_.dim);
    for (int64_t t = 0; t < n; ++t) {
      for (int64_t i = 0; i < c_.dim; ++i) x[t * c_.dim + i] = embedding_[ids[t] * c_.dim + i];
    }
    for (const Layer& L : layers_) {
      Vec h = norm(x, L.norm1);
      Vec q = linear(h, L.q, c_.dim_attn), k = linear(h, L.k, c_.dim_attn), v = linear(h, L.v, c_.dim_attn);
      Vec a = attention(q, k, v, mask, L.pos, n);
      add(x, linear(a, L.o, c_.dim));
      h = norm(x, L.norm2);
      Vec g = linear(h, L.gate, c_.dim_ffn), u = linear(h, L.fc1, c_.dim_ffn);
      for (size_t i = 0; i < g.size(); ++i) {
        const double z = g[i];
        u[i] *= 0.5 * z * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (z + 0.044715 * z * z * z)));
      }
      add(x, linear(u, L.fc2, c_.dim));
    }
    return norm(x, final_norm_);
  }

  const UmT5Config& config() const { return c_; }

 private:
  struct Layer {
    Vec norm1, norm2, pos, q, k, v, o, gate, fc1, fc2;
  };

  // Bidirectional, 32 buckets: +16 when key > query, exact below 8, then 8 + floor(log(|rel|/8)/log(128/8)·8), ≤ 15.
  int64_t bucket(int64_t rel) const {
    const int64_t half = c_.num_buckets / 2, exact = half / 2;
    const int64_t a = std::llabs(rel);
    const int64_t base = rel > 0 ? half : 0;
    if (a < exact) return base + a;
    const double large = exact + std::floor(std::log(static_cast<double>(a) / exact) /
                                            std::log(static_cast<double>(c_.max_distance) / exact) * (half - exact));
    return base + std::min<int64_t>(static_cast<int64_t>(large), half - 1);
  }

  Vec norm(const Vec& x, const Vec& w) const {
    Vec y(x.size());
    for (size_t t = 0; t < x.size() / c_.dim; ++t) {
      double ss = 0;
      for (int64_t i = 0; i < c_.dim; ++i) ss += x[t * c_.dim + i] * x[t * c_.dim + i];
      const double r = 1.0 / std::sqrt(ss / c_.dim + 1e-6);
      for (int64_t i = 0; i < c_.dim; ++i) y[t * c_.dim + i] = x[t * c_.dim + i] * r * w[i];
    }
    return y;
  }

  // y[t, o] = Σ_i W[o, i] x[t, i]
  static Vec linear(const Vec& x, const Vec& w, int64_t n_out) {
    const size_t n_in = w.size() / n_out, n = x.size() / n_in;
    Vec y(n * n_out);
    for (size_t t = 0; t < n; ++t) {
      for (int64_t o = 0; o < n_out; ++o) {
        double s = 0;
        for (size_t i = 0; i < n_in; ++i) s += w[o * n_in + i] * x[t * n_in + i];
        y[t * n_out + o] = s;
      }
    }
    return y;
  }

  static void add(Vec& x, const Vec& y) {
    for (size_t i = 0; i < x.size(); ++i) x[i] += y[i];
  }

  Vec attention(const Vec& q, const Vec& k, const Vec& v, const std::vector<int32_t>& mask, const Vec& pos,
                int64_t n) const {
    const int64_t H = c_.num_heads, D = c_.head_dim();
    Vec out(n * H * D, 0.0), s(n);
    for (int64_t h = 0; h < H; ++h) {
      for (int64_t i = 0; i < n; ++i) {
        double mx = -INFINITY;
        for (int64_t j = 0; j < n; ++j) {
          if (mask[j] == 0) {
            s[j] = -INFINITY;  // excluded (float32 min in torch: weight exactly 0)
            continue;
          }
          double dot = 0;
          for (int64_t d = 0; d < D; ++d) dot += q[(i * H + h) * D + d] * k[(j * H + h) * D + d];
          s[j] = dot + pos[bucket(j - i) * H + h];  // no 1/sqrt(D)
          mx = std::max(mx, s[j]);
        }
        double sum = 0;
        for (int64_t j = 0; j < n; ++j) sum += (s[j] = std::exp(s[j] - mx));
        for (int64_t j = 0; j < n; ++j) {
          for (int64_t d = 0; d < D; ++d) out[(i * H + h) * D + d] += s[j] / sum * v[(j * H + h) * D + d];
        }
      }
    }
    return out;
  }

  UmT5Config c_;
  Vec embedding_, final_norm_;
  std::vector<Layer> layers_;
};

double rel_error(const std::string& label, const std::vector<float>& got, const Vec& ref) {
  EXPECT_EQ(got.size(), ref.size()) << label;
  double max_abs = 0, max_ref = 0, dot = 0, ng = 0, nr = 0;
  for (size_t i = 0; i < std::min(got.size(), ref.size()); ++i) {
    max_abs = std::max(max_abs, std::fabs(got[i] - ref[i]));
    max_ref = std::max(max_ref, std::fabs(ref[i]));
    dot += got[i] * ref[i], ng += double(got[i]) * got[i], nr += ref[i] * ref[i];
  }
  std::printf("  %-44s max|d| %.3e  max|d|/max|ref| %.3e  cosine %.9f\n", label.c_str(), max_abs, max_abs / max_ref,
              dot / std::sqrt(ng * nr));
  return max_abs / max_ref;
}

class UmT5Reference : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto store = WeightStore::open({frugal::testing::data_path("wan/t5_a/models_t5_umt5-xxl-enc.safetensors")});
    ASSERT_TRUE(store.has_value()) << store.error().to_string();
    auto enc = UmT5Encoder::load(*store, WeightPrecision::kF32);
    ASSERT_TRUE(enc.has_value()) << enc.error().to_string();
    encoder_ = new UmT5Encoder(std::move(*enc));
    reference_ = new ReferenceT5(*store);
  }
  static void TearDownTestSuite() {
    delete encoder_;
    delete reference_;
  }

  // L random pieces ending in </s> (1), padded with 0 to text_len.
  static void make_prompt(int64_t num_tokens, int64_t text_len, uint32_t seed, std::vector<int32_t>* ids,
                          std::vector<int32_t>* mask) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int32_t> piece(2, static_cast<int32_t>(encoder_->config().vocab - 1));
    ids->assign(text_len, 0);
    mask->assign(text_len, 0);
    for (int64_t t = 0; t < num_tokens; ++t) (*ids)[t] = t + 1 == num_tokens ? 1 : piece(rng), (*mask)[t] = 1;
  }

  static UmT5Encoder* encoder_;
  static ReferenceT5* reference_;
};
UmT5Encoder* UmT5Reference::encoder_ = nullptr;
ReferenceT5* UmT5Reference::reference_ = nullptr;

TEST_F(UmT5Reference, OtherLengths) {
  ThreadPool pool(2);
  for (const int64_t num_tokens : {1, 5, 129, 511, 512}) {
    std::vector<int32_t> ids, mask;
    make_prompt(num_tokens, 512, static_cast<uint32_t>(num_tokens), &ids, &mask);
    auto got = encoder_->encode(ids, mask, pool);
    ASSERT_TRUE(got.has_value()) << got.error().to_string();
    Vec ref = reference_->forward(ids, mask);  // the padded run, as the pipeline does it
    ref.resize(static_cast<size_t>(num_tokens * reference_->config().dim));
    EXPECT_LE(rel_error(std::to_string(num_tokens) + " tokens (text_len 512) vs float64", *got, ref), 1e-5);
  }
}

// A mask with holes (not what the tokenizer makes): encode() must run every position with the mask
// and return the first Σmask rows, as T5EncoderModel.__call__ does.
TEST_F(UmT5Reference, MaskWithHoles) {
  ThreadPool pool(2);
  std::vector<int32_t> ids, mask;
  make_prompt(40, 64, 7, &ids, &mask);
  for (int64_t t = 3; t < 40; t += 5) mask[t] = 0;
  int64_t num_valid = 0;
  for (int32_t m : mask) num_valid += m;
  auto got = encoder_->encode(ids, mask, pool);
  ASSERT_TRUE(got.has_value());
  Vec ref = reference_->forward(ids, mask);
  ref.resize(static_cast<size_t>(num_valid * reference_->config().dim));
  EXPECT_LE(rel_error("mask with holes vs float64", *got, ref), 1e-5);
}

}  // namespace
}  // namespace frugal::video

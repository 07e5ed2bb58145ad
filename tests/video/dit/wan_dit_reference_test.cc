// WanDit on grids and timesteps the reference data does not cover (a 2x3x2 patch grid, a non-integer
// timestep, a short context) against a slow, direct float64 implementation of the WanModel formulas
// written here from the official code's definitions: the semantics generalise beyond the golden cases.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "video/dit/dit_test_util.h"
#include "video/dit/wan_dit.h"

namespace frugal::video {
namespace {

using Mat = std::vector<double>;  // row-major [rows, cols]

// The float64 WanModel: every tensor of the store as doubles, every op its textbook formula.
class SlowWanModel {
 public:
  SlowWanModel(const WeightStore& store, const DitConfig& c) : store_(store), c_(c) {}

  // x: [in_dim, F, H, W], context: [ctx_len, text_dim] → [out_dim, F, H, W]
  Mat forward(const std::vector<float>& x, int64_t F, int64_t H, int64_t W, const std::vector<float>& context,
              int64_t ctx_len, double t) const {
    const int64_t gf = F, gh = H / 2, gw = W / 2, L = gf * gh * gw, D = c_.dim;
    Mat tokens(static_cast<size_t>(L * c_.in_dim * 4));  // patchify: [L, (c, kh, kw)]
    for (int64_t f = 0; f < gf; ++f)
      for (int64_t h = 0; h < gh; ++h)
        for (int64_t w = 0; w < gw; ++w)
          for (int64_t ch = 0; ch < c_.in_dim; ++ch)
            for (int64_t p = 0; p < 4; ++p)
              tokens[static_cast<size_t>((((f * gh + h) * gw + w) * c_.in_dim + ch) * 4 + p)] =
                  x[static_cast<size_t>(((ch * F + f) * H + 2 * h + p / 2) * W + 2 * w + p % 2)];
    Mat xs = linear("patch_embedding", tokens, L);
    Mat sinus(static_cast<size_t>(c_.freq_dim));
    const int64_t half = c_.freq_dim / 2;
    for (int64_t j = 0; j < half; ++j) {
      const double arg = t * std::pow(10000.0, -static_cast<double>(j) / half);
      sinus[static_cast<size_t>(j)] = std::cos(arg);
      sinus[static_cast<size_t>(half + j)] = std::sin(arg);
    }
    const Mat e = linear("time_embedding.2", silu(linear("time_embedding.0", sinus, 1)), 1);  // [D]
    const Mat e0 = linear("time_projection.1", silu(e), 1);                                   // [6D]
    Mat ctx(static_cast<size_t>(c_.text_len * c_.text_dim), 0.0);  // zero-padded to text_len
    for (int64_t i = 0; i < ctx_len * c_.text_dim; ++i) ctx[static_cast<size_t>(i)] = context[static_cast<size_t>(i)];
    const Mat ctx_emb = linear("text_embedding.2", gelu_tanh(linear("text_embedding.0", ctx, c_.text_len)), c_.text_len);
    for (int64_t b = 0; b < c_.num_layers; ++b) block(b, xs, e0, ctx_emb, gf, gh, gw);
    const Mat hm = get("head.modulation");  // [2, D]: shift, scale (+ e)
    Mat normed = layer_norm(xs, L, nullptr, nullptr);
    for (int64_t i = 0; i < L; ++i)
      for (int64_t d = 0; d < D; ++d) {
        double& v = normed[static_cast<size_t>(i * D + d)];
        v = v * (1.0 + hm[static_cast<size_t>(D + d)] + e[static_cast<size_t>(d)]) + hm[static_cast<size_t>(d)] + e[static_cast<size_t>(d)];
      }
    const Mat head = linear("head.head", normed, L);  // [L, (ph, pw, c)]
    Mat out(static_cast<size_t>(c_.out_dim * F * H * W));
    for (int64_t i = 0; i < L; ++i)
      for (int64_t p = 0; p < 4; ++p)
        for (int64_t ch = 0; ch < c_.out_dim; ++ch) {
          const int64_t f = i / (gh * gw), h = (i / gw) % gh, w = i % gw;
          out[static_cast<size_t>(((ch * F + f) * H + 2 * h + p / 2) * W + 2 * w + p % 2)] =
              head[static_cast<size_t>((i * 4 + p) * c_.out_dim + ch)];
        }
    return out;
  }

 private:
  Mat get(const std::string& name) const {
    auto v = store_.load_f32(name, *store_.shape(name));
    EXPECT_TRUE(v.has_value());
    return Mat(v->begin(), v->end());
  }
  // y = x W^T + b for x [n, in] with W [out, in...].
  Mat linear(const std::string& prefix, const Mat& x, int64_t n) const {
    const Mat w = get(prefix + ".weight"), b = get(prefix + ".bias");
    const int64_t n_out = static_cast<int64_t>(b.size()), n_in = static_cast<int64_t>(w.size()) / n_out;
    Mat y(static_cast<size_t>(n * n_out));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t o = 0; o < n_out; ++o) {
        double acc = b[static_cast<size_t>(o)];
        for (int64_t k = 0; k < n_in; ++k) acc += w[static_cast<size_t>(o * n_in + k)] * x[static_cast<size_t>(i * n_in + k)];
        y[static_cast<size_t>(i * n_out + o)] = acc;
      }
    return y;
  }
  static Mat silu(Mat x) {
    for (double& v : x) v = v / (1.0 + std::exp(-v));
    return x;
  }
  static Mat gelu_tanh(Mat x) {
    for (double& v : x) v = 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
    return x;
  }
  Mat layer_norm(const Mat& x, int64_t n, const Mat* w, const Mat* b) const {
    const int64_t D = c_.dim;
    Mat y(x.size());
    for (int64_t i = 0; i < n; ++i) {
      double mean = 0.0, var = 0.0;
      for (int64_t d = 0; d < D; ++d) mean += x[static_cast<size_t>(i * D + d)] / D;
      for (int64_t d = 0; d < D; ++d) var += std::pow(x[static_cast<size_t>(i * D + d)] - mean, 2) / D;
      for (int64_t d = 0; d < D; ++d) {
        double v = (x[static_cast<size_t>(i * D + d)] - mean) / std::sqrt(var + 1e-6);
        y[static_cast<size_t>(i * D + d)] = w ? v * (*w)[static_cast<size_t>(d)] + (*b)[static_cast<size_t>(d)] : v;
      }
    }
    return y;
  }
  Mat rms_norm(Mat x, int64_t n, const Mat& w) const {
    const int64_t D = c_.dim;
    for (int64_t i = 0; i < n; ++i) {
      double ms = 0.0;
      for (int64_t d = 0; d < D; ++d) ms += std::pow(x[static_cast<size_t>(i * D + d)], 2) / D;
      for (int64_t d = 0; d < D; ++d) x[static_cast<size_t>(i * D + d)] *= w[static_cast<size_t>(d)] / std::sqrt(ms + 1e-6);
    }
    return x;
  }
  // Adjacent pairs rotated by pos * 10000^(-2j / band_width) with bands c - 2(c/3), c/3, c/3.
  Mat rope(Mat x, int64_t gf, int64_t gh, int64_t gw) const {
    const int64_t hd = c_.head_dim(), pairs = hd / 2;
    const int64_t band[3] = {pairs - 2 * (pairs / 3), pairs / 3, pairs / 3};
    for (int64_t i = 0; i < gf * gh * gw; ++i) {
      const int64_t pos[3] = {i / (gh * gw), (i / gw) % gh, i % gw};
      for (int64_t head = 0; head < c_.num_heads; ++head) {
        int64_t p = 0;
        for (int axis = 0; axis < 3; ++axis)
          for (int64_t j = 0; j < band[axis]; ++j, ++p) {
            const double a = pos[axis] * std::pow(10000.0, -2.0 * j / (2.0 * band[axis]));
            double* v = &x[static_cast<size_t>(i * c_.dim + head * hd + 2 * p)];
            const double re = v[0] * std::cos(a) - v[1] * std::sin(a), im = v[0] * std::sin(a) + v[1] * std::cos(a);
            v[0] = re;
            v[1] = im;
          }
      }
    }
    return x;
  }
  // softmax(q k^T / sqrt(hd)) v per head.  q: [n, D], k, v: [m, D]
  Mat attention(const Mat& q, int64_t n, const Mat& k, const Mat& v, int64_t m) const {
    const int64_t hd = c_.head_dim();
    Mat out(static_cast<size_t>(n * c_.dim), 0.0);
    std::vector<double> s(static_cast<size_t>(m));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t head = 0; head < c_.num_heads; ++head) {
        double mx = -1e300, sum = 0.0;
        for (int64_t j = 0; j < m; ++j) {
          double dot = 0.0;
          for (int64_t d = 0; d < hd; ++d)
            dot += q[static_cast<size_t>(i * c_.dim + head * hd + d)] * k[static_cast<size_t>(j * c_.dim + head * hd + d)];
          s[static_cast<size_t>(j)] = dot / std::sqrt(static_cast<double>(hd));
          mx = std::max(mx, s[static_cast<size_t>(j)]);
        }
        for (int64_t j = 0; j < m; ++j) sum += (s[static_cast<size_t>(j)] = std::exp(s[static_cast<size_t>(j)] - mx));
        for (int64_t j = 0; j < m; ++j)
          for (int64_t d = 0; d < hd; ++d)
            out[static_cast<size_t>(i * c_.dim + head * hd + d)] +=
                s[static_cast<size_t>(j)] / sum * v[static_cast<size_t>(j * c_.dim + head * hd + d)];
      }
    return out;
  }
  void block(int64_t b, Mat& x, const Mat& e0, const Mat& ctx, int64_t gf, int64_t gh, int64_t gw) const {
    const std::string p = "blocks." + std::to_string(b) + ".";
    const int64_t L = gf * gh * gw, D = c_.dim;
    Mat m = get(p + "modulation");  // [6, D] + e0
    for (size_t i = 0; i < m.size(); ++i) m[i] += e0[i];
    const auto modulate = [&](Mat y, int shift_row) {
      for (int64_t i = 0; i < L; ++i)
        for (int64_t d = 0; d < D; ++d) {
          double& v = y[static_cast<size_t>(i * D + d)];
          v = v * (1.0 + m[static_cast<size_t>((shift_row + 1) * D + d)]) + m[static_cast<size_t>(shift_row * D + d)];
        }
      return y;
    };
    const auto add = [&](const Mat& y, int gate_row) {
      for (int64_t i = 0; i < L; ++i)
        for (int64_t d = 0; d < D; ++d)
          x[static_cast<size_t>(i * D + d)] +=
              y[static_cast<size_t>(i * D + d)] * (gate_row < 0 ? 1.0 : m[static_cast<size_t>(gate_row * D + d)]);
    };
    Mat h = modulate(layer_norm(x, L, nullptr, nullptr), 0);
    const std::string sa = p + "self_attn.";
    Mat q = rope(rms_norm(linear(sa + "q", h, L), L, get(sa + "norm_q.weight")), gf, gh, gw);
    Mat k = rope(rms_norm(linear(sa + "k", h, L), L, get(sa + "norm_k.weight")), gf, gh, gw);
    add(linear(sa + "o", attention(q, L, k, linear(sa + "v", h, L), L), L), 2);
    const Mat n3w = get(p + "norm3.weight"), n3b = get(p + "norm3.bias");
    h = layer_norm(x, L, &n3w, &n3b);
    const std::string ca = p + "cross_attn.";
    q = rms_norm(linear(ca + "q", h, L), L, get(ca + "norm_q.weight"));
    k = rms_norm(linear(ca + "k", ctx, c_.text_len), c_.text_len, get(ca + "norm_k.weight"));
    add(linear(ca + "o", attention(q, L, k, linear(ca + "v", ctx, c_.text_len), c_.text_len), L), -1);
    h = modulate(layer_norm(x, L, nullptr, nullptr), 3);
    add(linear(p + "ffn.2", gelu_tanh(linear(p + "ffn.0", h, L)), L), 5);
  }

  const WeightStore& store_;
  DitConfig c_;
};

void check_other_grid(const std::string& case_name, int64_t F, int64_t H, int64_t W, int64_t ctx_len, float t) {
  const testing::DitCase c = testing::load_dit_case(case_name);
  auto store = WeightStore::open({c.path("diffusion_pytorch_model.safetensors")});
  ASSERT_TRUE(store.has_value());
  auto dit = WanDit::load(*store, c.config, WeightPrecision::kF32);
  ASSERT_TRUE(dit.has_value()) << dit.error().to_string();
  std::mt19937 rng(static_cast<uint32_t>(F * 1000 + H * 10 + W));
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<size_t>(c.config.in_dim * F * H * W)), context(static_cast<size_t>(ctx_len * c.config.text_dim));
  for (float& v : x) v = normal(rng);
  for (float& v : context) v = normal(rng);
  ThreadPool pool(2);
  std::vector<float> out(static_cast<size_t>(c.config.out_dim * F * H * W));
  ASSERT_TRUE(dit->forward(x.data(), F, H, W, context.data(), ctx_len, t, out.data(), pool).is_ok());
  const Mat ref = SlowWanModel(*store, c.config).forward(x, F, H, W, context, ctx_len, static_cast<double>(t));
  const testing::Diff d = testing::compare(out.data(), ref.data(), static_cast<int64_t>(out.size()));
  std::printf("  %s x [%lld,%lld,%lld,%lld] t=%g ctx %lld: max|d| %.3e max|ref| %.3e rel %.3e cos %.9f\n",
              case_name.c_str(), static_cast<long long>(c.config.in_dim), static_cast<long long>(F),
              static_cast<long long>(H), static_cast<long long>(W), t, static_cast<long long>(ctx_len), d.max_abs,
              d.max_ref, d.rel(), d.cosine);
  // f32 arithmetic against exact formulas: the same 1e-5 as against the f32 PyTorch reference.
  EXPECT_LE(d.rel(), 1e-5);
}

// The float64 model itself reproduces the official output: it is a valid yardstick.
TEST(WanDitReference, Float64ImplementationMatchesTheGoldenOutput) {
  const testing::DitCase c = testing::load_dit_case("dit_a");
  auto store = WeightStore::open({c.path("diffusion_pytorch_model.safetensors")});
  ASSERT_TRUE(store.has_value());
  const Mat ref = SlowWanModel(*store, c.config).forward(c.x, c.frames, c.height, c.width, c.context, c.ctx_len, 999.0);
  const std::vector<float> golden = c.read("out_t999.f32");
  ASSERT_EQ(golden.size(), ref.size());
  const testing::Diff d = testing::compare(ref.data(), golden.data(), static_cast<int64_t>(ref.size()));
  std::printf("  float64 model vs out_t999: max|d| %.3e rel %.3e\n", d.max_abs, d.rel());
  EXPECT_LE(d.rel(), 1e-5);
}

TEST(WanDitReference, OtherGridsMatchAFloat64Implementation) {
  check_other_grid("dit_a", 2, 6, 4, 5, 321.5f);  // 2x3x2 tokens, non-integer t (an Euler step)
  check_other_grid("dit_b", 1, 4, 8, 64, 0.25f);  // one frame, a context filling text_len
  check_other_grid("dit_b", 5, 2, 2, 1, 1000.0f);  // five frames of one token each
}

}  // namespace
}  // namespace frugal::video

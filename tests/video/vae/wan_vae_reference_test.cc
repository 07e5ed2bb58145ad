// Generalisation beyond the reference vectors: WanVae's chunked decode (one latent frame at a time,
// causal caches) against a slow, whole-sequence decoder written here in double from the direct
// formulas, on latent sizes the data does not have. The reference discovers its blocks from the
// tensor names by itself and never chunks: every causal conv sees the whole sequence with zero
// frames in front, and each upsample3d time_conv runs over frames 1.. only (frame 0 passes through),
// which README's float64 check shows equal to the official chunking.
#include <gtest/gtest.h>

#include <random>

#include "video/vae/vae_test_util.h"

namespace frugal::video {
namespace {

// A double tensor [c, t, h, w].
struct Ref {
  int64_t c = 0, t = 0, h = 0, w = 0;
  std::vector<double> v;
  Ref() = default;
  Ref(int64_t c_, int64_t t_, int64_t h_, int64_t w_) : c(c_), t(t_), h(h_), w(w_), v(static_cast<size_t>(c_ * t_ * h_ * w_)) {}
  double& at(int64_t ci, int64_t ti, int64_t hi, int64_t wi) { return v[static_cast<size_t>(((ci * t + ti) * h + hi) * w + wi)]; }
  double at(int64_t ci, int64_t ti, int64_t hi, int64_t wi) const {
    return v[static_cast<size_t>(((ci * t + ti) * h + hi) * w + wi)];
  }
};

class RefDecoder {
 public:
  explicit RefDecoder(const WeightStore& store) : store_(store) {}

  std::vector<float> decode(const std::vector<float>& z, int64_t frames, int64_t height, int64_t width) {
    Ref x(16, frames, height, width);
    const auto inv_std = wan_vae_inv_std();
    for (int64_t c = 0; c < 16; ++c) {
      for (int64_t i = 0; i < frames * height * width; ++i) {
        const size_t k = static_cast<size_t>(c * frames * height * width + i);
        x.v[k] = static_cast<double>(z[k]) / inv_std[static_cast<size_t>(c)] + kWanVaeLatentMean[static_cast<size_t>(c)];
      }
    }
    x = conv(x, "conv2", 0, 0);
    x = conv(x, "decoder.conv1", 2, 1);
    x = residual(x, "decoder.middle.0");
    x = attention(x, "decoder.middle.1");
    x = residual(x, "decoder.middle.2");
    for (int64_t idx = 0;; ++idx) {
      const std::string name = "decoder.upsamples." + std::to_string(idx);
      if (store_.contains(name + ".residual.0.gamma")) {
        x = residual(x, name);
      } else if (store_.contains(name + ".norm.gamma")) {
        x = attention(x, name);
      } else if (store_.contains(name + ".resample.1.weight")) {
        x = upsample(x, name);
      } else {
        break;
      }
    }
    rms_norm(x, "decoder.head.0.gamma");
    silu(x);
    x = conv(x, "decoder.head.2", 2, 1);
    return std::vector<float>(x.v.begin(), x.v.end());
  }

 private:
  std::vector<float> load(const std::string& name) const {
    auto shape = store_.shape(name);
    EXPECT_TRUE(shape.has_value()) << name;
    auto data = store_.load_f32(name, *shape);
    EXPECT_TRUE(data.has_value()) << name;
    return *data;
  }

  // Stride-1 conv of weight [c_out, c_in, (kt,) kh, kw]: time_front zero frames before the sequence,
  // `pad` zeros around each frame. A 4-D (Conv2d) weight runs frame by frame.
  Ref conv(const Ref& x, const std::string& name, int64_t time_front, int64_t pad) const {
    const auto shape = *store_.shape(name + ".weight");
    const std::vector<float> w = load(name + ".weight");
    const std::vector<float> b = load(name + ".bias");
    const int64_t c_out = shape[0], c_in = shape[1];
    const int64_t kt = shape.size() == 5 ? shape[2] : 1, kh = shape[shape.size() - 2], kw = shape.back();
    EXPECT_EQ(c_in, x.c) << name;
    Ref out(c_out, x.t + time_front - kt + 1, x.h + 2 * pad - kh + 1, x.w + 2 * pad - kw + 1);
    for (int64_t co = 0; co < c_out; ++co) {
      for (int64_t t = 0; t < out.t; ++t) {
        for (int64_t ho = 0; ho < out.h; ++ho) {
          for (int64_t wo = 0; wo < out.w; ++wo) {
            double acc = b[static_cast<size_t>(co)];
            for (int64_t ci = 0; ci < c_in; ++ci) {
              for (int64_t dt = 0; dt < kt; ++dt) {
                const int64_t ti = t + dt - time_front;
                if (ti < 0) continue;
                for (int64_t dh = 0; dh < kh; ++dh) {
                  const int64_t hi = ho + dh - pad;
                  if (hi < 0 || hi >= x.h) continue;
                  for (int64_t dw = 0; dw < kw; ++dw) {
                    const int64_t wi = wo + dw - pad;
                    if (wi < 0 || wi >= x.w) continue;
                    acc += w[static_cast<size_t>((((co * c_in + ci) * kt + dt) * kh + dh) * kw + dw)] * x.at(ci, ti, hi, wi);
                  }
                }
              }
            }
            out.at(co, t, ho, wo) = acc;
          }
        }
      }
    }
    return out;
  }

  // x / max(||x||_channels, 1e-12) * sqrt(C) * gamma
  void rms_norm(Ref& x, const std::string& gamma_name) const {
    const std::vector<float> gamma = load(gamma_name);
    const int64_t pixels = x.t * x.h * x.w;
    for (int64_t p = 0; p < pixels; ++p) {
      double sum_sq = 0.0;
      for (int64_t c = 0; c < x.c; ++c) sum_sq += x.v[static_cast<size_t>(c * pixels + p)] * x.v[static_cast<size_t>(c * pixels + p)];
      const double denom = std::max(std::sqrt(sum_sq), 1e-12);
      for (int64_t c = 0; c < x.c; ++c) {
        x.v[static_cast<size_t>(c * pixels + p)] *= std::sqrt(static_cast<double>(x.c)) * gamma[static_cast<size_t>(c)] / denom;
      }
    }
  }

  static void silu(Ref& x) {
    for (double& v : x.v) v = v / (1.0 + std::exp(-v));
  }

  Ref residual(const Ref& x, const std::string& name) const {
    const Ref shortcut = store_.contains(name + ".shortcut.weight") ? conv(x, name + ".shortcut", 0, 0) : x;
    Ref h = x;
    rms_norm(h, name + ".residual.0.gamma");
    silu(h);
    h = conv(h, name + ".residual.2", 2, 1);
    rms_norm(h, name + ".residual.3.gamma");
    silu(h);
    h = conv(h, name + ".residual.6", 2, 1);
    for (size_t i = 0; i < h.v.size(); ++i) h.v[i] += shortcut.v[i];
    return h;
  }

  // Per frame: softmax(q k^T / sqrt(C)) v over the H*W positions, one head.
  Ref attention(const Ref& x, const std::string& name) const {
    Ref normed = x;
    rms_norm(normed, name + ".norm.gamma");
    const Ref qkv = conv(normed, name + ".to_qkv", 0, 0);  // [3C, T, H, W]
    const int64_t c_dim = x.c, n = x.h * x.w;
    Ref attended(c_dim, x.t, x.h, x.w);
    for (int64_t t = 0; t < x.t; ++t) {
      for (int64_t i = 0; i < n; ++i) {
        std::vector<double> scores(static_cast<size_t>(n));
        double max_score = -1e300;
        for (int64_t j = 0; j < n; ++j) {
          double dot = 0.0;
          for (int64_t c = 0; c < c_dim; ++c) dot += qkv.at(c, t, i / x.w, i % x.w) * qkv.at(c_dim + c, t, j / x.w, j % x.w);
          scores[static_cast<size_t>(j)] = dot / std::sqrt(static_cast<double>(c_dim));
          max_score = std::max(max_score, scores[static_cast<size_t>(j)]);
        }
        double sum = 0.0;
        for (double& s : scores) sum += (s = std::exp(s - max_score));
        for (int64_t c = 0; c < c_dim; ++c) {
          double acc = 0.0;
          for (int64_t j = 0; j < n; ++j) acc += scores[static_cast<size_t>(j)] * qkv.at(2 * c_dim + c, t, j / x.w, j % x.w);
          attended.at(c, t, i / x.w, i % x.w) = acc / sum;
        }
      }
    }
    Ref out = conv(attended, name + ".proj", 0, 0);
    for (size_t i = 0; i < out.v.size(); ++i) out.v[i] += x.v[i];
    return out;
  }

  // upsample3d: time_conv over frames 1.. (causal, 2 zero frames), each giving frames 2t, 2t+1 from
  // channels [0,C) and [C,2C); frame 0 passes. Then nearest x2 and the 3x3 conv (both modes).
  Ref upsample(const Ref& x, const std::string& name) const {
    Ref seq = x;
    if (store_.contains(name + ".time_conv.weight") && x.t > 1) {
      Ref rest(x.c, x.t - 1, x.h, x.w);
      for (int64_t c = 0; c < x.c; ++c) {
        for (int64_t t = 1; t < x.t; ++t) {
          for (int64_t p = 0; p < x.h * x.w; ++p) rest.at(c, t - 1, p / x.w, p % x.w) = x.at(c, t, p / x.w, p % x.w);
        }
      }
      const Ref doubled = conv(rest, name + ".time_conv", 2, 0);  // [2C, T-1, h, w]
      seq = Ref(x.c, 1 + 2 * (x.t - 1), x.h, x.w);
      for (int64_t c = 0; c < x.c; ++c) {
        for (int64_t p = 0; p < x.h * x.w; ++p) {
          const int64_t hi = p / x.w, wi = p % x.w;
          seq.at(c, 0, hi, wi) = x.at(c, 0, hi, wi);
          for (int64_t t = 0; t < x.t - 1; ++t) {
            seq.at(c, 1 + 2 * t, hi, wi) = doubled.at(c, t, hi, wi);
            seq.at(c, 2 + 2 * t, hi, wi) = doubled.at(x.c + c, t, hi, wi);
          }
        }
      }
    }
    Ref up(seq.c, seq.t, 2 * seq.h, 2 * seq.w);
    for (int64_t c = 0; c < seq.c; ++c) {
      for (int64_t t = 0; t < seq.t; ++t) {
        for (int64_t hi = 0; hi < up.h; ++hi) {
          for (int64_t wi = 0; wi < up.w; ++wi) up.at(c, t, hi, wi) = seq.at(c, t, hi / 2, wi / 2);
        }
      }
    }
    return conv(up, name + ".resample.1", 0, 1);
  }

  const WeightStore& store_;
};

TEST(WanVaeReference, ChunkedDecodeMatchesWholeSequenceDecode) {
  const WeightStore store = vae_test::open_case_store();
  auto vae = WanVae::load(store);
  ASSERT_TRUE(vae.has_value()) << vae.error().to_string();
  ThreadPool pool(2);
  RefDecoder reference(store);
  const std::array<int64_t, 4> shapes[] = {{16, 2, 2, 2}, {16, 3, 3, 2}, {16, 1, 1, 3}};
  uint32_t seed = 100;
  for (const auto& shape : shapes) {
    std::mt19937 rng(++seed);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> z(static_cast<size_t>(shape[0] * shape[1] * shape[2] * shape[3]));
    for (float& v : z) v = dist(rng);
    auto got = vae->decode_all(z.data(), shape, pool);
    ASSERT_TRUE(got.has_value()) << got.error().to_string();
    EXPECT_EQ(got->shape, WanVae::decoded_shape(shape));
    const std::vector<float> ref = reference.decode(z, shape[1], shape[2], shape[3]);
    const std::string what = "decode z " + shape_string({shape.begin(), shape.end()}) + " vs double";
    EXPECT_LE(vae_test::compare(what, got->data, ref), vae_test::vae_tolerance());
  }
}

}  // namespace
}  // namespace frugal::video

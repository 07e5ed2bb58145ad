#include "video/vae/vae_layers.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/check.h"
#include "kernels/kernel_table.h"
#include "ops/elementwise.h"

namespace frugal::video::vae {

Expected<RmsNorm> RmsNorm::load(const WeightStore& store, const std::string& name, int64_t channels, bool images) {
  std::vector<int64_t> shape = {channels, 1, 1};
  if (!images) shape.push_back(1);
  auto gamma = store.load_f32(name, shape);
  if (!gamma) return gamma.error();
  RmsNorm norm;
  norm.gamma_ = std::move(*gamma);
  return norm;
}

void RmsNorm::apply(Activation& x, bool silu, ThreadPool& pool) const {
  const int64_t channels = x.c();
  CHECK(channels == this->channels(), "RmsNorm: channel count differs from gamma");
  const int64_t pixels = x.t() * x.plane();  // x is [C, P]: the norm runs down each column
  const float scale = static_cast<float>(std::sqrt(static_cast<double>(channels)));
  // F.normalize clamps the norm at eps = 1e-12 (no eps inside a sqrt).
  constexpr float kNormEps = 1e-12f;
  float* data = x.data();
  pool.parallel_for(pixels, [&](int64_t begin, int64_t end) {
    std::vector<double> sum_sq(static_cast<size_t>(end - begin), 0.0);
    for (int64_t c = 0; c < channels; ++c) {
      const float* row = data + c * pixels;
      for (int64_t p = begin; p < end; ++p) sum_sq[static_cast<size_t>(p - begin)] += static_cast<double>(row[p]) * row[p];
    }
    std::vector<float> denom(sum_sq.size());
    for (size_t i = 0; i < sum_sq.size(); ++i) denom[i] = std::max(static_cast<float>(std::sqrt(sum_sq[i])), kNormEps);
    for (int64_t c = 0; c < channels; ++c) {
      float* row = data + c * pixels;
      const float g = gamma_[static_cast<size_t>(c)];
      for (int64_t p = begin; p < end; ++p) row[p] = row[p] / denom[static_cast<size_t>(p - begin)] * scale * g;
      if (silu) silu_inplace(row + begin, end - begin, kernels());  // vector exp: ~650 M elements per 256x256x9 decode
    }
  });
}

Conv3dParams conv_params(int64_t c_in, int64_t c_out, int64_t kt, int64_t ks, int64_t pad) {
  Conv3dParams p;
  p.c_in = c_in;
  p.c_out = c_out;
  p.kernel_t = kt;
  p.kernel_h = p.kernel_w = ks;
  p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = pad;
  return p;
}

Expected<VaeConv> VaeConv::load(const WeightStore& store, const std::string& name, const Conv3dParams& params,
                                bool two_d, int64_t causal_front) {
  CHECK(!two_d || params.kernel_t == 1, "a Conv2d has no time kernel");
  std::vector<int64_t> shape = {params.c_out, params.c_in};
  if (!two_d) shape.push_back(params.kernel_t);
  shape.push_back(params.kernel_h);
  shape.push_back(params.kernel_w);
  auto weight = store.load_matrix(name + ".weight", shape, WeightPrecision::kF32);
  if (!weight) return weight.error();
  auto bias = store.load_f32(name + ".bias", {params.c_out});
  if (!bias) return bias.error();
  VaeConv conv;
  conv.params_ = params;
  conv.weight_ = std::move(*weight);
  conv.bias_ = std::move(*bias);
  conv.causal_front_ = causal_front;
  return conv;
}

Activation VaeConv::forward_frames(const std::vector<ConvFrame>& frames, int64_t h, int64_t w,
                                   VaeContext& ctx) const {
  const Conv3dParams& p = params_;
  const int64_t n_frames = static_cast<int64_t>(frames.size());
  Activation out = ctx.make(p.c_out, conv_out_size(n_frames, p.kernel_t, p.stride_t, 0, 0),
                            conv_out_size(h * p.upsample, p.kernel_h, p.stride_h, p.pad_top, p.pad_bottom),
                            conv_out_size(w * p.upsample, p.kernel_w, p.stride_w, p.pad_left, p.pad_right));
  const ConvTileMode mode = conv_tile_mode_in_effect();
  if (mode != ConvTileMode::kOff && (tiles_.empty() || (mode == ConvTileMode::kX3 && tiles_.planes() != 2))) {
    tiles_ = pack_conv_tiles(weight_.view(), p, mode, ctx.pool);
  }
  conv3d_frames(frames.data(), n_frames, h, w, p, weight_.view(), bias_.data(), out.data(), *ctx.pool, ctx.conv,
                &tiles_);
  return out;
}

Activation VaeConv::forward(const Activation& x, VaeContext& ctx) {
  CHECK(x.c() == params_.c_in, "VaeConv: input channel count differs from the weight");
  std::vector<ConvFrame> frames;
  if (causal_front_ > 0) {
    // Zeros for the frames before the start, then the cached frames, then the chunk.
    frames.resize(static_cast<size_t>(causal_front_ - n_cached_));
    for (int64_t i = 0; i < n_cached_; ++i) {
      frames.push_back(ConvFrame{cache_.data() + i * params_.c_in * x.plane(), x.plane()});
    }
  }
  for (int64_t t = 0; t < x.t(); ++t) frames.push_back(x.frame(t));
  Activation out = forward_frames(frames, x.h(), x.w(), ctx);
  if (causal_front_ > 0) update_cache(x, ctx);
  return out;
}

void VaeConv::update_cache(const Activation& x, VaeContext& ctx) {
  const int64_t frame_elems = params_.c_in * x.plane();
  if (cache_.empty()) {
    cache_ = ctx.make(causal_front_, params_.c_in, x.h(), x.w());
    n_cached_ = 0;
  }
  CHECK(cache_.h() == x.h() && cache_.w() == x.w(), "VaeConv: frame size changed within a sequence");
  // The sequence seen so far ends with [cached frames, x frames]; keep its last m frames. A kept cached
  // frame moves from index j to i <= j, so copying in increasing i never overwrites a pending source.
  const int64_t m = std::min(causal_front_, n_cached_ + x.t());
  const int64_t first = n_cached_ + x.t() - m;  // index in the combined sequence of kept frame 0
  float* cache = cache_.data();
  for (int64_t i = 0; i < m; ++i) {
    const int64_t j = first + i;
    float* dst = cache + i * frame_elems;
    if (j < n_cached_) {
      if (j != i) std::memmove(dst, cache + j * frame_elems, static_cast<size_t>(frame_elems) * sizeof(float));
      continue;
    }
    const int64_t t = j - n_cached_;
    for (int64_t c = 0; c < params_.c_in; ++c) {
      std::memcpy(dst + c * x.plane(), x.plane_ptr(c, t), static_cast<size_t>(x.plane()) * sizeof(float));
    }
  }
  n_cached_ = m;
}

void VaeConv::reset() {
  cache_ = Activation();
  n_cached_ = 0;
}

}  // namespace frugal::video::vae

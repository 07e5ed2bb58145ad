#include "video/vae/vae_blocks.h"

#include <cmath>
#include <cstring>

#include "core/check.h"
#include "ops/attention.h"
#include "ops/elementwise.h"
#include "ops/matmul.h"

namespace frugal::video::vae {

Expected<std::unique_ptr<ResidualBlock>> ResidualBlock::load(const WeightStore& store, const std::string& name,
                                                             int64_t in_dim, int64_t out_dim) {
  auto block = std::make_unique<ResidualBlock>();
  auto norm1 = RmsNorm::load(store, name + ".residual.0.gamma", in_dim, /*images=*/false);
  if (!norm1) return norm1.error();
  auto conv1 = VaeConv::load(store, name + ".residual.2", conv_params(in_dim, out_dim, 3, 3, 1), false, 2);
  if (!conv1) return conv1.error();
  auto norm2 = RmsNorm::load(store, name + ".residual.3.gamma", out_dim, /*images=*/false);
  if (!norm2) return norm2.error();
  auto conv2 = VaeConv::load(store, name + ".residual.6", conv_params(out_dim, out_dim, 3, 3, 1), false, 2);
  if (!conv2) return conv2.error();
  if (in_dim != out_dim) {
    auto shortcut = VaeConv::load(store, name + ".shortcut", conv_params(in_dim, out_dim, 1, 1, 0), false, 0);
    if (!shortcut) return shortcut.error();
    block->shortcut_ = std::make_unique<VaeConv>(std::move(*shortcut));
  }
  block->norm1_ = std::move(*norm1);
  block->conv1_ = std::move(*conv1);
  block->norm2_ = std::move(*norm2);
  block->conv2_ = std::move(*conv2);
  return block;
}

Activation ResidualBlock::forward(Activation x, VaeContext& ctx) {
  // The shortcut is taken first so that, with a 1x1x1 shortcut, x itself can be normalized in place.
  Activation shortcut;
  if (shortcut_ != nullptr) shortcut = shortcut_->forward(x, ctx);  // [out, T, H, W]
  Activation h;                                                    // [in, T, H, W]
  if (shortcut_ != nullptr) {
    h = std::move(x);
  } else {
    h = ctx.make(x.c(), x.t(), x.h(), x.w());
    std::memcpy(h.data(), x.data(), static_cast<size_t>(x.size()) * sizeof(float));
    shortcut = std::move(x);
  }
  norm1_.apply(h, /*silu=*/true, *ctx.pool);
  Activation mid = conv1_.forward(h, ctx);  // [out, T, H, W]
  h = Activation();
  norm2_.apply(mid, /*silu=*/true, *ctx.pool);
  Activation out = conv2_.forward(mid, ctx);  // [out, T, H, W]
  mid = Activation();
  add_inplace(out.data(), shortcut.data(), out.size());
  return out;
}

void ResidualBlock::reset() {
  conv1_.reset();
  conv2_.reset();
}

Expected<std::unique_ptr<AttentionBlock>> AttentionBlock::load(const WeightStore& store, const std::string& name,
                                                               int64_t dim) {
  auto block = std::make_unique<AttentionBlock>();
  block->dim_ = dim;
  auto norm = RmsNorm::load(store, name + ".norm.gamma", dim, /*images=*/true);
  if (!norm) return norm.error();
  block->norm_ = std::move(*norm);
  auto qkv = store.load_matrix(name + ".to_qkv.weight", {3 * dim, dim, 1, 1}, WeightPrecision::kF32);
  if (!qkv) return qkv.error();
  block->to_qkv_ = std::move(*qkv);
  auto qkv_bias = store.load_f32(name + ".to_qkv.bias", {3 * dim});
  if (!qkv_bias) return qkv_bias.error();
  block->to_qkv_bias_ = std::move(*qkv_bias);
  auto proj = store.load_matrix(name + ".proj.weight", {dim, dim, 1, 1}, WeightPrecision::kF32);
  if (!proj) return proj.error();
  block->proj_ = std::move(*proj);
  auto proj_bias = store.load_f32(name + ".proj.bias", {dim});
  if (!proj_bias) return proj_bias.error();
  block->proj_bias_ = std::move(*proj_bias);
  return block;
}

Activation AttentionBlock::forward(Activation x, VaeContext& ctx) {
  CHECK(x.c() == dim_, "AttentionBlock: channel count differs from the weights");
  for (int64_t t = 0; t < x.t(); ++t) attend_frame(x, t, ctx);
  return x;
}

// x[:, t] += proj(attention(to_qkv(norm(x[:, t])))) for one frame.
void AttentionBlock::attend_frame(Activation& x, int64_t t, VaeContext& ctx) const {
  const int64_t c = dim_, n = x.plane();
  Activation normed = ctx.make(c, 1, x.h(), x.w());  // [C, 1, H, W]
  for (int64_t ci = 0; ci < c; ++ci) {
    std::memcpy(normed.plane_ptr(ci, 0), x.plane_ptr(ci, t), static_cast<size_t>(n) * sizeof(float));
  }
  norm_.apply(normed, /*silu=*/false, *ctx.pool);
  Activation tokens = ctx.make(1, 1, n, c);  // [HW, C]
  for (int64_t ci = 0; ci < c; ++ci) {
    const float* src = normed.plane_ptr(ci, 0);
    for (int64_t p = 0; p < n; ++p) tokens.data()[p * c + ci] = src[p];
  }
  normed = Activation();
  Activation qkv = ctx.make(1, 1, n, 3 * c);  // [HW, 3C]
  matmul(to_qkv_.view(), tokens.data(), n, qkv.data(), *ctx.pool, ctx.matmul);
  add_bias_rows(qkv.data(), to_qkv_bias_.data(), n, 3 * c);
  Activation q = ctx.make(3, 1, n, c);  // q, k, v: [3][HW, C]
  for (int64_t p = 0; p < n; ++p) {
    for (int64_t part = 0; part < 3; ++part) {
      std::memcpy(q.data() + (part * n + p) * c, qkv.data() + p * 3 * c + part * c, static_cast<size_t>(c) * sizeof(float));
    }
  }
  qkv = Activation();
  const AttentionShape shape{1, 1, c, static_cast<float>(1.0 / std::sqrt(static_cast<double>(c)))};
  attention_full(q.data(), n, q.data() + n * c, q.data() + 2 * n * c, n, shape, tokens.data(), *ctx.pool);
  q = Activation();
  Activation projected = ctx.make(1, 1, n, c);  // [HW, C]
  matmul(proj_.view(), tokens.data(), n, projected.data(), *ctx.pool, ctx.matmul);
  add_bias_rows(projected.data(), proj_bias_.data(), n, c);
  for (int64_t ci = 0; ci < c; ++ci) {
    float* dst = x.plane_ptr(ci, t);
    for (int64_t p = 0; p < n; ++p) dst[p] += projected.data()[p * c + ci];
  }
}

}  // namespace frugal::video::vae

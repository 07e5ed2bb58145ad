#include "video/vae/wan_vae.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "core/check.h"
#include "video/vae/vae_activation.h"
#include "video/vae/vae_coder.h"
#include "video/vae/vae_layers.h"

namespace frugal::video {

// WanVAE.__init__ (wan/modules/vae.py), as float32 tensors.
const std::array<float, kWanVaeZDim> kWanVaeLatentMean = {
    -0.7571f, -0.7089f, -0.9113f, 0.1075f, -0.1745f, 0.9653f, -0.1517f, 1.5508f,
    0.4134f,  -0.0715f, 0.5517f,  -0.3632f, -0.1922f, -0.9497f, 0.2503f, -0.2921f};
const std::array<float, kWanVaeZDim> kWanVaeLatentStd = {
    2.8184f, 1.4541f, 2.3275f, 2.6558f, 1.2196f, 1.7708f, 2.6052f, 2.0743f,
    3.2687f, 2.1526f, 2.8652f, 1.5579f, 1.6382f, 1.1253f, 2.8251f, 1.9160f};

std::array<float, kWanVaeZDim> wan_vae_inv_std() {
  std::array<float, kWanVaeZDim> inv{};
  for (int64_t c = 0; c < kWanVaeZDim; ++c) inv[static_cast<size_t>(c)] = 1.0f / kWanVaeLatentStd[static_cast<size_t>(c)];
  return inv;
}

namespace {

// The encoder eats frame 0 alone, then groups of this many frames (the temporal compression).
constexpr int64_t kFramesPerLatent = 4;
// Spatial compression of the three downsampling levels.
constexpr int64_t kSpatialFactor = 8;

std::string shape_str(const std::array<int64_t, 4>& s) {
  return shape_string(std::vector<int64_t>(s.begin(), s.end()));
}

}  // namespace

struct WanVae::State {
  vae::WanVaeConfig config;
  vae::CausalCoder encoder;
  vae::CausalCoder decoder;
  vae::VaeConv conv1;  // 2 z_dim -> 2 z_dim, 1x1x1 (posterior mean | log-variance)
  vae::VaeConv conv2;  // z_dim -> z_dim, 1x1x1
  std::array<float, kWanVaeZDim> inv_std = wan_vae_inv_std();
  vae::VaeContext ctx;
  VaeTilePlan last_plan;

  void begin_call(ThreadPool& pool) {
    ctx.pool = &pool;
    ctx.meter.reset_peak();
  }
};

WanVae::WanVae(std::unique_ptr<State> state) : state_(std::move(state)) {}
WanVae::WanVae(WanVae&&) noexcept = default;
WanVae& WanVae::operator=(WanVae&&) noexcept = default;
WanVae::~WanVae() = default;

const vae::WanVaeConfig& WanVae::config() const { return state_->config; }

Expected<WanVae> WanVae::load(const WeightStore& store) {
  auto state = std::make_unique<State>();
  auto cfg = vae::infer_vae_config(store);
  if (!cfg) return cfg.error();
  if (cfg->z_dim != kWanVaeZDim) {
    return unimplemented("Wan VAE with z_dim " + std::to_string(cfg->z_dim) + ": only Wan2.1's z_dim 16 (with its " +
                         "latent mean/std) is supported");
  }
  state->config = *cfg;
  auto encoder = vae::CausalCoder::load_encoder(store, *cfg);
  if (!encoder) return encoder.error();
  state->encoder = std::move(*encoder);
  auto decoder = vae::CausalCoder::load_decoder(store, *cfg);
  if (!decoder) return decoder.error();
  state->decoder = std::move(*decoder);
  const int64_t z = cfg->z_dim;
  auto conv1 = vae::VaeConv::load(store, "conv1", vae::conv_params(2 * z, 2 * z, 1, 1, 0), false, 0);
  if (!conv1) return conv1.error();
  state->conv1 = std::move(*conv1);
  auto conv2 = vae::VaeConv::load(store, "conv2", vae::conv_params(z, z, 1, 1, 0), false, 0);
  if (!conv2) return conv2.error();
  state->conv2 = std::move(*conv2);
  return WanVae(std::move(state));
}

std::array<int64_t, 4> WanVae::encoded_shape(const std::array<int64_t, 4>& s) {
  return {kWanVaeZDim, 1 + (s[1] - 1) / kFramesPerLatent, s[2] / kSpatialFactor, s[3] / kSpatialFactor};
}

std::array<int64_t, 4> WanVae::decoded_shape(const std::array<int64_t, 4>& s) {
  return {3, 1 + kFramesPerLatent * (s[1] - 1), s[2] * kSpatialFactor, s[3] * kSpatialFactor};
}

Expected<VaeTensor> WanVae::encode(const float* video, const std::array<int64_t, 4>& shape, ThreadPool& pool) {
  const auto [channels, frames, height, width] = shape;
  if (channels != 3 || frames < 1 || height < kSpatialFactor || width < kSpatialFactor ||
      height % kSpatialFactor != 0 || width % kSpatialFactor != 0) {
    return invalid_argument("VAE encode takes a video [3, F >= 1, H, W] with H and W positive multiples of 8; got " +
                            shape_str(shape));
  }
  State& st = *state_;
  st.begin_call(pool);
  VaeTensor latent;
  latent.shape = encoded_shape(shape);
  const int64_t n_latent = latent.shape[1], lat_plane = latent.shape[2] * latent.shape[3];
  latent.data.resize(static_cast<size_t>(kWanVaeZDim * n_latent * lat_plane));
  const int64_t plane = height * width;
  st.encoder.reset();
  for (int64_t i = 0; i < n_latent; ++i) {
    const int64_t first = i == 0 ? 0 : 1 + kFramesPerLatent * (i - 1);
    const int64_t count = i == 0 ? 1 : kFramesPerLatent;
    vae::Activation chunk = st.ctx.make(3, count, height, width);  // [3, count, H, W]
    for (int64_t c = 0; c < 3; ++c) {
      std::memcpy(chunk.plane_ptr(c, 0), video + (c * frames + first) * plane,
                  static_cast<size_t>(count * plane) * sizeof(float));
    }
    vae::Activation moments = st.conv1.forward(st.encoder.forward(std::move(chunk), st.ctx), st.ctx);  // [2z, 1, h, w]
    CHECK(moments.t() == 1 && moments.plane() == lat_plane, "encoder chunk did not give one latent frame");
    for (int64_t c = 0; c < kWanVaeZDim; ++c) {  // the mean is channels [0, z_dim)
      const float* mu = moments.plane_ptr(c, 0);
      float* dst = latent.data.data() + (c * n_latent + i) * lat_plane;
      const float mean = kWanVaeLatentMean[static_cast<size_t>(c)], inv = st.inv_std[static_cast<size_t>(c)];
      for (int64_t p = 0; p < lat_plane; ++p) dst[p] = (mu[p] - mean) * inv;
    }
  }
  st.encoder.reset();
  return latent;
}

namespace {

Status check_latent_shape(const std::array<int64_t, 4>& shape) {
  const auto [channels, frames, height, width] = shape;
  if (channels != kWanVaeZDim || frames < 1 || height < 1 || width < 1) {
    return invalid_argument("VAE decode takes latents [16, T >= 1, h >= 1, w >= 1]; got " + shape_str(shape));
  }
  return Status::ok();
}

}  // namespace

Status WanVae::decode(const float* z, const std::array<int64_t, 4>& shape, const VaeFrameSink& sink, ThreadPool& pool) {
  return decode(z, shape, sink, pool, VaeDecodeOptions{});
}

Expected<VaeTilePlan> WanVae::plan_decode(const std::array<int64_t, 4>& shape, const VaeDecodeOptions& options) const {
  if (Status s = check_latent_shape(shape); !s) return s;
  if (options.tile_h > 0 && options.tile_w > 0) {
    if (options.overlap_h < 0 || options.overlap_w < 0) return invalid_argument("VAE tile overlap must be >= 0");
    return vae_fixed_tile_plan(state_->config, shape, options.tile_h, options.tile_w, options.overlap_h,
                               options.overlap_w);
  }
  if (options.tile_h != 0 || options.tile_w != 0) return invalid_argument("VAE tiles need both sides > 0");
  if (options.mem_budget_bytes < 0) return invalid_argument("the VAE memory budget must be positive");
  return plan_vae_decode(state_->config, shape, options.mem_budget_bytes);
}

const VaeTilePlan& WanVae::last_plan() const { return state_->last_plan; }

Status WanVae::decode(const float* z, const std::array<int64_t, 4>& shape, const VaeFrameSink& sink, ThreadPool& pool,
                      const VaeDecodeOptions& options) {
  auto plan = plan_decode(shape, options);
  if (!plan) return plan.error();
  State& st = *state_;
  st.begin_call(pool);
  st.last_plan = *plan;
  if (plan->tiled) return decode_tiled(z, shape, sink, *plan, options);
  return decode_stream(z, shape, sink);
}

Status WanVae::decode_stream(const float* z, const std::array<int64_t, 4>& shape, const VaeFrameSink& sink) {
  const auto [channels, frames, height, width] = shape;
  State& st = *state_;
  const int64_t plane = height * width;
  st.decoder.reset();
  Status status;
  for (int64_t i = 0; i < frames && status.is_ok(); ++i) {
    vae::Activation x = st.ctx.make(kWanVaeZDim, 1, height, width);  // [z, 1, h, w]
    for (int64_t c = 0; c < kWanVaeZDim; ++c) {
      const float* src = z + (c * frames + i) * plane;
      float* dst = x.plane_ptr(c, 0);
      const float mean = kWanVaeLatentMean[static_cast<size_t>(c)], inv = st.inv_std[static_cast<size_t>(c)];
      for (int64_t p = 0; p < plane; ++p) dst[p] = src[p] / inv + mean;  // a division by 1/std, as the official
    }
    vae::Activation out = st.decoder.forward(st.conv2.forward(x, st.ctx), st.ctx);  // [3, n, 8h, 8w]
    x = vae::Activation();
    status = sink(out.data(), out.t());
  }
  st.decoder.reset();
  return status;
}

Expected<VaeTensor> WanVae::decode_all(const float* z, const std::array<int64_t, 4>& shape, ThreadPool& pool,
                                       const VaeDecodeOptions& options) {
  VaeTensor video;
  video.shape = decoded_shape(shape);
  const int64_t total = video.shape[1], plane = video.shape[2] * video.shape[3];
  if (shape[0] == kWanVaeZDim && shape[1] >= 1 && shape[2] >= 1 && shape[3] >= 1) {
    video.data.resize(static_cast<size_t>(3 * total * plane));
  }
  int64_t next_frame = 0;
  Status s = decode(z, shape, [&](const float* frames, int64_t n) {
    for (int64_t c = 0; c < 3; ++c) {
      std::memcpy(video.data.data() + (c * total + next_frame) * plane, frames + c * n * plane,
                  static_cast<size_t>(n * plane) * sizeof(float));
    }
    next_frame += n;
    return Status::ok();
  }, pool, options);
  if (!s) return s;
  CHECK(next_frame == total, "decode produced an unexpected frame count");
  return video;
}

int64_t WanVae::peak_scratch_bytes() const {
  const vae::VaeContext& ctx = state_->ctx;
  const MatmulScratch& mm = ctx.matmul;
  return ctx.meter.peak_bytes() + ctx.conv.capacity_bytes() +
         static_cast<int64_t>(mm.act_bytes.capacity() + mm.row_f32.capacity() * sizeof(float));
}

int64_t WanVae::peak_activation_bytes() const { return state_->ctx.meter.peak_bytes(); }

void clamp_unit(float* x, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    if (x[i] < -1.0f) x[i] = -1.0f;
    if (x[i] > 1.0f) x[i] = 1.0f;
  }
}

}  // namespace frugal::video

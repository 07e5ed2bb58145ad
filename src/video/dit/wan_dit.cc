#include "video/dit/wan_dit.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "core/check.h"
#include "ops/elementwise.h"
#include "video/dit/time_embedding.h"

namespace frugal::video {

Expected<WanDit> WanDit::load(const WeightStore& store, const DitConfig& config, WeightPrecision precision) {
  if (Status s = validate_dit_config(config); !s) return s;
  auto weights = load_dit_weights(store, config, precision);
  if (!weights) return weights.error();
  WanDit dit;
  dit.config_ = config;
  dit.weights_ = std::move(*weights);
  dit.rope_ = Rope3d(config.head_dim());
  return dit;
}

void WanDit::report(const char* name, const float* data, int64_t n) const {
  if (hook_) hook_(name, data, n);
}

Expected<DitGrid> WanDit::check_input(int64_t frames, int64_t height, int64_t width, float timestep) const {
  const auto& p = config_.patch_size;
  if (frames <= 0 || height <= 0 || width <= 0) {
    return invalid_argument("DiT input: frames, height and width must be positive, got " + std::to_string(frames) +
                            "x" + std::to_string(height) + "x" + std::to_string(width));
  }
  if (frames % p[0] != 0 || height % p[1] != 0 || width % p[2] != 0) {
    return invalid_argument("DiT input: latent size " + std::to_string(frames) + "x" + std::to_string(height) + "x" +
                            std::to_string(width) + " is not a multiple of the patch size (" + std::to_string(p[0]) +
                            "," + std::to_string(p[1]) + "," + std::to_string(p[2]) +
                            "): latent H and W must be even (image size a multiple of 16)");
  }
  const DitGrid grid{frames / p[0], height / p[1], width / p[2]};
  if (grid.frames > kMaxRopePositions || grid.height > kMaxRopePositions || grid.width > kMaxRopePositions) {
    return invalid_argument("DiT input: a patch-grid axis exceeds the RoPE table's " +
                            std::to_string(kMaxRopePositions) + " positions");
  }
  if (!std::isfinite(timestep)) return invalid_argument("DiT input: the timestep is not finite");
  return grid;
}

void WanDit::reserve(const DitGrid& grid) {
  const DitConfig& c = config_;
  const int64_t n = grid.n_tokens();
  block_scratch_.reserve(c, n);
  block_scratch_.matmul.tile_f16 = true;  // a pass is never batched with others: AMX-BF16 F16 prefill may run
  x_.resize(static_cast<size_t>(n * c.dim));
  patches_.resize(static_cast<size_t>(n * c.in_dim * c.patch_volume()));
  head_out_.resize(static_cast<size_t>(n * c.patch_volume() * c.out_dim));
  sinusoid_.resize(static_cast<size_t>(c.freq_dim));
  time_hidden_.resize(static_cast<size_t>(c.dim));
  e_.resize(static_cast<size_t>(c.dim));
  e_silu_.resize(static_cast<size_t>(c.dim));
  e0_.resize(static_cast<size_t>(6 * c.dim));
  head_mod_.resize(static_cast<size_t>(2 * c.dim));
}

Status WanDit::embed_context(const float* context, int64_t ctx_len, float* embedded, ThreadPool& pool) {
  const DitConfig& c = config_;
  if (ctx_len < 0 || ctx_len > c.text_len) {
    return invalid_argument("DiT context: " + std::to_string(ctx_len) + " rows, the model takes at most text_len = " +
                            std::to_string(c.text_len));
  }
  CHECK(embedded != nullptr && (context != nullptr || ctx_len == 0), "embed_context: null buffer");
  ctx_padded_.assign(static_cast<size_t>(c.text_len * c.text_dim), 0.0f);  // zero rows past ctx_len
  std::copy(context, context + ctx_len * c.text_dim, ctx_padded_.begin());
  ctx_hidden_.resize(static_cast<size_t>(c.text_len * c.dim));
  MatmulScratch& mm = block_scratch_.matmul;
  apply_linear(weights_.text_in, ctx_padded_.data(), c.text_len, ctx_hidden_.data(), pool, mm);  // [text_len, dim]
  gelu_tanh_inplace(ctx_hidden_.data(), c.text_len * c.dim);
  apply_linear(weights_.text_out, ctx_hidden_.data(), c.text_len, embedded, pool, mm);  // [text_len, dim]
  report("text_embed", embedded, c.text_len * c.dim);
  return Status::ok();
}

void WanDit::embed_time(double timestep, ThreadPool& pool) {
  const DitConfig& c = config_;
  MatmulScratch& mm = block_scratch_.matmul;
  // One row each: the reference path (f32 activations, double accumulation) costs nothing here and
  // keeps the time path f32 as the official autocast(float32) region does.
  constexpr MatmulPath kPath = MatmulPath::kReference;
  timestep_sinusoid(c.freq_dim, timestep, sinusoid_.data());                                     // [freq_dim]
  apply_linear(weights_.time_in, sinusoid_.data(), 1, time_hidden_.data(), pool, mm, kPath);     // [dim]
  silu_inplace(time_hidden_.data(), c.dim);
  apply_linear(weights_.time_out, time_hidden_.data(), 1, e_.data(), pool, mm, kPath);           // [dim]
  std::copy(e_.begin(), e_.end(), e_silu_.begin());
  silu_inplace(e_silu_.data(), c.dim);
  apply_linear(weights_.time_projection, e_silu_.data(), 1, e0_.data(), pool, mm, kPath);        // [6, dim]
  report("time_embed_e", e_.data(), c.dim);
  report("time_proj_e0", e0_.data(), 6 * c.dim);
}

void WanDit::patchify(const float* x, const DitGrid& grid, ThreadPool& pool) {
  const DitConfig& c = config_;
  const int64_t pt = c.patch_size[0], ph = c.patch_size[1], pw = c.patch_size[2];
  const int64_t frames = grid.frames * pt, height = grid.height * ph, width = grid.width * pw;
  const int64_t patch_len = c.in_dim * c.patch_volume();  // Conv3d weight order (c, kt, kh, kw)
  pool.parallel_for(grid.n_tokens(), [&](int64_t begin, int64_t end) {
    for (int64_t token = begin; token < end; ++token) {
      const int64_t gw = token % grid.width, gh = (token / grid.width) % grid.height;
      const int64_t gf = token / (grid.width * grid.height);
      float* row = patches_.data() + token * patch_len;  // [in_dim, pt, ph, pw]
      for (int64_t ch = 0; ch < c.in_dim; ++ch) {
        for (int64_t kt = 0; kt < pt; ++kt) {
          for (int64_t kh = 0; kh < ph; ++kh) {
            const float* src = x + ((ch * frames + gf * pt + kt) * height + gh * ph + kh) * width + gw * pw;
            std::copy(src, src + pw, row + ((ch * pt + kt) * ph + kh) * pw);
          }
        }
      }
    }
  });
  apply_linear(weights_.patch_embedding, patches_.data(), grid.n_tokens(), x_.data(), pool, block_scratch_.matmul);
  report("patch_embed", x_.data(), grid.n_tokens() * c.dim);
}

void WanDit::run_head(const DitGrid& grid, float* out, ThreadPool& pool) {
  const DitConfig& c = config_;
  const int64_t n = grid.n_tokens();
  for (int64_t d = 0; d < 2 * c.dim; ++d) {
    head_mod_[static_cast<size_t>(d)] = weights_.head_modulation[static_cast<size_t>(d)] + e_[static_cast<size_t>(d % c.dim)];
  }
  const float* shift = head_mod_.data();
  const float* scale = head_mod_.data() + c.dim;
  float* normed = block_scratch_.h.data();  // [L, dim]
  modulated_layer_norm(x_.data(), shift, scale, n, c.dim, c.eps, normed, pool);
  apply_linear(weights_.head, normed, n, head_out_.data(), pool, block_scratch_.matmul);
  const int64_t row_len = c.patch_volume() * c.out_dim;  // (kt, kh, kw, c), c fastest
  report("head_out", head_out_.data(), n * row_len);
  const int64_t pt = c.patch_size[0], ph = c.patch_size[1], pw = c.patch_size[2];
  const int64_t frames = grid.frames * pt, height = grid.height * ph, width = grid.width * pw;
  pool.parallel_for(n, [&](int64_t begin, int64_t end) {
    for (int64_t token = begin; token < end; ++token) {
      const int64_t gw = token % grid.width, gh = (token / grid.width) % grid.height;
      const int64_t gf = token / (grid.width * grid.height);
      const float* row = head_out_.data() + token * row_len;
      for (int64_t kt = 0; kt < pt; ++kt) {
        for (int64_t kh = 0; kh < ph; ++kh) {
          for (int64_t kw = 0; kw < pw; ++kw) {
            const float* src = row + ((kt * ph + kh) * pw + kw) * c.out_dim;
            const int64_t pixel = ((gf * pt + kt) * height + gh * ph + kh) * width + gw * pw + kw;
            for (int64_t ch = 0; ch < c.out_dim; ++ch) out[ch * frames * height * width + pixel] = src[ch];
          }
        }
      }
    }
  });
}

bool WanDit::cache_skips(const DitGrid& grid, StepCacheStream& cache, bool force_compute, float timestep,
                         ThreadPool& pool) {
  const DitConfig& c = config_;
  const int64_t n = grid.n_tokens();
  // Block 0's modulated input (shift/scale msa = rows 0 and 1 of modulation + e0), into the scratch
  // the blocks overwrite anyway.
  std::vector<float>& mod = block_scratch_.mod;
  const std::vector<float>& m0 = weights_.blocks[0].modulation;
  for (int64_t i = 0; i < 2 * c.dim; ++i) mod[static_cast<size_t>(i)] = m0[static_cast<size_t>(i)] + e0_[static_cast<size_t>(i)];
  float* h = block_scratch_.h.data();
  modulated_layer_norm(x_.data(), mod.data(), mod.data() + c.dim, n, c.dim, c.eps, h, pool);
  return cache.should_skip(h, n * c.dim, force_compute, timestep);
}

Status WanDit::forward_embedded(const float* x, int64_t frames, int64_t height, int64_t width,
                                const float* context_embedded, float timestep, float* out, ThreadPool& pool,
                                StepCacheStream* cache, bool force_compute) {
  auto grid = check_input(frames, height, width, timestep);
  if (!grid) return grid.error();
  CHECK(x != nullptr && context_embedded != nullptr && out != nullptr, "WanDit::forward_embedded: null buffer");
  reserve(*grid);
  embed_time(static_cast<double>(timestep), pool);
  patchify(x, *grid, pool);
  const int64_t n_x = grid->n_tokens() * config_.dim;
  if (cache != nullptr && cache_skips(*grid, *cache, force_compute, timestep, pool)) {
    cache->apply_residual(x_.data(), n_x);
  } else {
    if (cache != nullptr) cache->save_input(x_.data(), n_x);
    for (int64_t layer_idx = 0; layer_idx < config_.num_layers; ++layer_idx) {
      run_dit_block(weights_.blocks[static_cast<size_t>(layer_idx)], config_, layer_idx, rope_, *grid, e0_.data(),
                    context_embedded, x_.data(), block_scratch_, pool, hook_ ? &hook_ : nullptr);
    }
    if (cache != nullptr) cache->save_residual(x_.data(), n_x);
  }
  run_head(*grid, out, pool);
  return Status::ok();
}

Status WanDit::forward(const float* x, int64_t frames, int64_t height, int64_t width, const float* context,
                       int64_t ctx_len, float timestep, float* out, ThreadPool& pool) {
  if (auto grid = check_input(frames, height, width, timestep); !grid) return grid.error();
  ctx_embedded_.resize(static_cast<size_t>(embedded_context_size()));
  if (Status s = embed_context(context, ctx_len, ctx_embedded_.data(), pool); !s) return s;
  return forward_embedded(x, frames, height, width, ctx_embedded_.data(), timestep, out, pool);
}

}  // namespace frugal::video

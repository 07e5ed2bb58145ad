#include "video/dit/step_cache.h"

#include <cmath>
#include <utility>

#include "core/check.h"

namespace frugal::video {

const char* step_cache_mode_name(StepCacheMode mode) {
  return mode == StepCacheMode::kExtrapolate ? "extrapolate" : "reuse";
}

std::optional<StepCacheMode> parse_step_cache_mode(const std::string& name) {
  if (name == "reuse") return StepCacheMode::kReuse;
  if (name == "extrapolate") return StepCacheMode::kExtrapolate;
  return std::nullopt;
}

bool StepCacheStream::should_skip(const float* m, int64_t n, bool force_compute, float timestep) {
  const auto size = static_cast<size_t>(n);
  bool skip = false;
  if (prev_m_.size() == size && has_residual_ && residual_.size() == size) {
    double diff = 0, base = 0;
    for (size_t i = 0; i < size; ++i) {
      diff += std::fabs(static_cast<double>(m[i]) - prev_m_[i]);
      base += std::fabs(static_cast<double>(prev_m_[i]));
    }
    last_rel_ = base > 0 ? diff / base : (diff > 0 ? INFINITY : 0.0);
    accumulated_ += last_rel_;
    const bool capped = config_.max_skips > 0 && skips_in_row_ >= config_.max_skips;
    // Extrapolation needs two computed passes: until then the blocks run.
    const bool history = config_.mode != StepCacheMode::kExtrapolate || has_previous_;
    skip = !force_compute && !capped && history && accumulated_ < config_.threshold;
  }
  prev_m_.assign(m, m + n);
  timestep_ = timestep;
  if (skip) {
    ++skipped_;
    ++skips_in_row_;
  } else {
    accumulated_ = 0;
    skips_in_row_ = 0;
    ++run_;
  }
  return skip;
}

void StepCacheStream::apply_residual(float* x, int64_t n) const {
  CHECK(has_residual_ && residual_.size() == static_cast<size_t>(n), "StepCacheStream: no residual of this size");
  const float* r1 = residual_.data();
  if (config_.mode == StepCacheMode::kExtrapolate && has_previous_ && t1_ != t0_) {
    // r(t) ~ r1 + (r1 - r0) / (t1 - t0) * (t - t1)
    const float k = (timestep_ - t1_) / (t1_ - t0_);
    const float* r0 = previous_.data();
    for (int64_t i = 0; i < n; ++i) x[i] += r1[i] + k * (r1[i] - r0[i]);
    return;
  }
  for (int64_t i = 0; i < n; ++i) x[i] += r1[i];
}

void StepCacheStream::save_input(const float* x, int64_t n) {
  if (config_.mode == StepCacheMode::kExtrapolate && has_residual_) {
    std::swap(previous_, residual_);
    t0_ = t1_;
    has_previous_ = true;
  }
  residual_.assign(x, x + n);
  has_residual_ = false;
  t1_ = timestep_;
}

void StepCacheStream::save_residual(const float* x, int64_t n) {
  CHECK(residual_.size() == static_cast<size_t>(n), "StepCacheStream: save_input first");
  for (int64_t i = 0; i < n; ++i) residual_[static_cast<size_t>(i)] = x[i] - residual_[static_cast<size_t>(i)];
  has_residual_ = true;
  has_previous_ = has_previous_ && previous_.size() == residual_.size();
}

StepCacheStream* StepCache::stream(int index) {
  if (!enabled()) return nullptr;
  CHECK(index >= 0, "StepCache: negative stream");
  while (static_cast<int>(streams_.size()) <= index) {
    StepCacheConfig c = config_;
    if (streams_.size() % 2 == 1) c.threshold *= c.uncond_scale;
    streams_.emplace_back(c);
  }
  return &streams_[static_cast<size_t>(index)];
}

int StepCache::passes_run() const {
  int total = 0;
  for (const auto& s : streams_) total += s.passes_run();
  return total;
}

int StepCache::passes_skipped() const {
  int total = 0;
  for (const auto& s : streams_) total += s.passes_skipped();
  return total;
}

}  // namespace frugal::video

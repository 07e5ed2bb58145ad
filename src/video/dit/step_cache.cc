#include "video/dit/step_cache.h"

#include <cmath>

#include "core/check.h"

namespace frugal::video {

bool StepCacheStream::should_skip(const float* m, int64_t n, bool force_compute) {
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
    skip = !force_compute && accumulated_ < threshold_;
  }
  prev_m_.assign(m, m + n);
  if (skip) {
    ++skipped_;
  } else {
    accumulated_ = 0;
    ++run_;
  }
  return skip;
}

void StepCacheStream::apply_residual(float* x, int64_t n) const {
  CHECK(has_residual_ && residual_.size() == static_cast<size_t>(n), "StepCacheStream: no residual of this size");
  for (int64_t i = 0; i < n; ++i) x[i] += residual_[static_cast<size_t>(i)];
}

void StepCacheStream::save_input(const float* x, int64_t n) {
  residual_.assign(x, x + n);
  has_residual_ = false;
}

void StepCacheStream::save_residual(const float* x, int64_t n) {
  CHECK(residual_.size() == static_cast<size_t>(n), "StepCacheStream: save_input first");
  for (int64_t i = 0; i < n; ++i) residual_[static_cast<size_t>(i)] = x[i] - residual_[static_cast<size_t>(i)];
  has_residual_ = true;
}

StepCacheStream* StepCache::stream(int index) {
  if (!enabled()) return nullptr;
  CHECK(index >= 0, "StepCache: negative stream");
  while (static_cast<int>(streams_.size()) <= index) streams_.emplace_back(threshold_);
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

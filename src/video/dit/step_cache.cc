#include "video/dit/step_cache.h"

#include <cmath>
#include <utility>

#include "core/check.h"

namespace frugal::video {

const char* step_cache_mode_name(StepCacheMode mode) {
  switch (mode) {
    case StepCacheMode::kExtrapolate: return "extrapolate";
    case StepCacheMode::kQuadratic: return "quadratic";
    case StepCacheMode::kReuse: break;
  }
  return "reuse";
}

std::optional<StepCacheMode> parse_step_cache_mode(const std::string& name) {
  if (name == "reuse") return StepCacheMode::kReuse;
  if (name == "extrapolate") return StepCacheMode::kExtrapolate;
  if (name == "quadratic") return StepCacheMode::kQuadratic;
  return std::nullopt;
}

bool StepCacheConfig::allows_skip(int step, int steps) const {
  if (steps <= 0) return false;
  // The window's first and end steps, rounded to the nearest step (0.1 of 30 steps = step 3).
  const int first = static_cast<int>(std::lround(start * steps));
  const int stop = static_cast<int>(std::lround(end * steps));
  return step >= first && step < stop;
}

void StepCacheStream::set_delta_base(StepCacheStream* base) {
  CHECK(base != nullptr && base != this, "StepCacheStream: a delta base is another stream");
  base_ = base;
  base->keep_applied_ = true;
}

void StepCacheStream::pair_with(StepCacheStream* other) {
  CHECK(other != nullptr && other != this, "StepCacheStream: a partner is another stream");
  partner_ = other;
  other->partner_ = this;
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
    // A delta stream needs its base's residual of this very call (the base runs first each step).
    const bool base_ready = base_ == nullptr || (base_->calls() == calls() + 1 && base_->applied().size() == size);
    // Error control: the summed predicted error of the skips since the last computed call.
    const double predicted = skip_error(timestep);
    const bool within_error =
        config_.error_tol <= 0 || (predicted < config_.error_tol && paired_allows(predicted, timestep, force_compute));
    skip = may_skip(force_compute) && base_ready && within_error && accumulated_ < config_.threshold;
    if (skip) predicted_error_ = predicted;
  }
  prev_m_.assign(m, m + n);
  timestep_ = timestep;
  last_skipped_ = skip;
  if (skip) {
    ++skipped_;
    ++skips_in_row_;
  } else {
    accumulated_ = 0;
    predicted_error_ = 0;
    skips_in_row_ = 0;
    ++run_;
  }
  return skip;
}

double StepCacheStream::skip_error(float timestep) const {
  if (config_.error_tol <= 0 || !has_previous_) return 0;
  // Until kappa is measured: one skip in a row on the plain rules, no more.
  if (kappa_ < 0) return skips_in_row_ == 0 ? 0 : INFINITY;
  const double t = timestep;
  return predicted_error_ + kappa_ * std::fabs((t - t1_) * (t - t0_));
}

bool StepCacheStream::may_skip(bool force_compute) const {
  const bool capped = config_.max_skips > 0 && skips_in_row_ >= config_.max_skips;
  // Extrapolation needs two computed passes: until then the blocks run.
  const bool history = (config_.mode == StepCacheMode::kReuse || has_previous_) && run_ >= config_.min_run;
  return !force_compute && !capped && history && has_residual_;
}

bool StepCacheStream::paired_allows(double predicted, float timestep, bool force_compute) const {
  if (partner_ == nullptr) return true;
  const double pair_tol = config_.error_tol * config_.error_pair;
  const bool measured = kappa_ >= 0 && partner_->kappa_ >= 0;
  if (partner_->calls() == calls()) {
    // The first branch of the step: skip when the other one cannot (it computes), when both
    // together stay under the pair tolerance, or when the other one's skip would err more (it
    // computes instead).
    const double other = partner_->skip_error(timestep);
    if (!partner_->may_skip(force_compute) || !(other < config_.error_tol)) return true;
    return (measured && predicted + other < pair_tol) || predicted <= other;
  }
  if (partner_->calls() == calls() + 1 && partner_->last_skipped_) {
    // The other branch skipped this step: skip too only as a pair.
    return measured && partner_->predicted_error_ + predicted < pair_tol;
  }
  return true;
}

void StepCacheStream::apply_residual(float* x, int64_t n) {
  CHECK(has_residual_ && residual_.size() == static_cast<size_t>(n), "StepCacheStream: no residual of this size");
  // What this call adds: the base's residual of this step (delta streams) + r, r by mode.
  const float* base = nullptr;
  if (base_ != nullptr) {
    CHECK(base_->applied().size() == static_cast<size_t>(n), "StepCacheStream: the delta base did not run first");
    base = base_->applied().data();
  }
  float* keep = nullptr;
  if (keep_applied_) {
    applied_.resize(static_cast<size_t>(n));
    keep = applied_.data();
  }
  // r(t): reuse r1; linear r1 + (r1 - r0) k through (t1, r1), (t0, r0); quadratic: the Lagrange
  // weights of the parabola through those and (t2, r2).
  const float* r1 = residual_.data();
  const float* r0 = previous_.data();
  const float* r2 = previous2_.data();
  const double t = timestep_, t1 = t1_, t0 = t0_, t2 = t2_;
  const bool quadratic = config_.mode == StepCacheMode::kQuadratic && has_previous2_ && t1 != t0 && t0 != t2 && t1 != t2;
  const bool linear = !quadratic && config_.mode != StepCacheMode::kReuse && has_previous_ && t1 != t0;
  const float k = linear ? (timestep_ - t1_) / (t1_ - t0_) : 0.0f;  // in float, as before kQuadratic
  float w1 = 1, w0 = 0, w2 = 0;
  if (quadratic) {
    w1 = static_cast<float>((t - t0) * (t - t2) / ((t1 - t0) * (t1 - t2)));
    w0 = static_cast<float>((t - t1) * (t - t2) / ((t0 - t1) * (t0 - t2)));
    w2 = static_cast<float>((t - t1) * (t - t0) / ((t2 - t1) * (t2 - t0)));
  }
  for (int64_t i = 0; i < n; ++i) {
    float r = r1[i];
    if (linear) r = r1[i] + k * (r1[i] - r0[i]);
    if (quadratic) r = w1 * r1[i] + w0 * r0[i] + w2 * r2[i];
    if (base != nullptr) r += base[i];
    if (keep != nullptr) keep[i] = r;
    x[i] += r;
  }
}

void StepCacheStream::save_input(const float* x, int64_t n) {
  if (config_.mode != StepCacheMode::kReuse && has_residual_) {
    if ((config_.mode == StepCacheMode::kQuadratic || config_.error_tol > 0) && has_previous_) {
      std::swap(previous2_, previous_);
      t2_ = t0_;
      has_previous2_ = true;
    }
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
  if (base_ != nullptr) {  // cfg_delta: keep what this branch adds beyond the base's residual of this step
    const std::vector<float>& base = base_->applied();
    CHECK(base.size() == residual_.size() && base_->calls() == calls(), "StepCacheStream: the delta base did not run first");
    for (size_t i = 0; i < base.size(); ++i) residual_[i] -= base[i];
  }
  has_residual_ = true;
  has_previous_ = has_previous_ && previous_.size() == residual_.size();
  has_previous2_ = has_previous2_ && has_previous_ && previous2_.size() == residual_.size();
  if (config_.error_tol > 0 && has_previous2_) update_curvature();
}

void StepCacheStream::update_curvature() {
  // What the line through (t2, r2), (t0, r0) predicted for this call at t1, against what it got:
  // e = mean|pred - r1| / mean|r1|, and the line's leading error term is kappa * |(t1 - t0)(t1 - t2)|.
  const double span = (static_cast<double>(t1_) - t0_) * (static_cast<double>(t1_) - t2_);
  if (t0_ == t2_ || span == 0) return;
  const double k = (static_cast<double>(t1_) - t0_) / (static_cast<double>(t0_) - t2_);
  double miss = 0, size = 0;
  for (size_t i = 0; i < residual_.size(); ++i) {
    const double pred = previous_[i] + k * (static_cast<double>(previous_[i]) - previous2_[i]);
    miss += std::fabs(pred - residual_[i]);
    size += std::fabs(static_cast<double>(residual_[i]));
  }
  kappa_ = size > 0 ? miss / size / std::fabs(span) : 0.0;
}

StepCacheStream* StepCache::stream(int index) {
  if (!enabled()) return nullptr;
  CHECK(index >= 0, "StepCache: negative stream");
  while (static_cast<int>(streams_.size()) <= index) {
    StepCacheConfig c = config_;
    const bool uncond = streams_.size() % 2 == 1;
    c.threshold *= uncond ? c.uncond_scale : c.cond_scale;
    if (uncond && c.uncond_max_skips >= 0) c.max_skips = c.uncond_max_skips;
    // Stagger: one computed call more than the history needs (reuse 1, extrapolation 2, quadratic 2).
    if (uncond && c.stagger) c.min_run = (c.mode == StepCacheMode::kReuse ? 1 : 2) + 1;
    streams_.emplace_back(c);
    if (uncond && c.cfg_delta) streams_.back().set_delta_base(&streams_[streams_.size() - 2]);
    // Error control with stagger: the two branches of a step decide together (paired_allows).
    if (uncond && c.stagger && c.error_tol > 0) {
      streams_.back().pair_with(&streams_[streams_.size() - 2]);
    }
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

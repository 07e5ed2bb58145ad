// Step caching for the DiT (video/dit layer), TeaCache / TaylorSeer style: a denoising step whose
// input to the blocks has barely changed since the last computed pass skips the blocks and stands
// in a residual (blocks' output - blocks' input) for them. The signal is the modulated input of
// block 0, m = LN(patch_embed(x)) * (1 + scale_msa) + shift_msa, which moves with both the latent
// and the timestep. Per call:
//   rel = mean|m - m_prev| / mean|m_prev|   (m_prev: the previous call's m, computed or not)
//   accumulated += rel;  skip when accumulated < threshold (and fewer than max_skips calls in a row
//   were skipped), else run the blocks and reset it to 0.
// A skipped call's residual is, by StepCacheMode:
//   kReuse:       r1, the last computed pass's residual as is (TeaCache);
//   kExtrapolate: r1 + (r1 - r0) * (t - t1) / (t1 - t0), first order in the timestep t through the
//                 last two computed passes (t1, r1), (t0, r0) (TaylorSeer / FORA); r1 while only one
//                 pass has been computed.
//   kQuadratic:   the parabola in t through the last three computed passes (TaylorSeer's second
//                 order); kExtrapolate's line while only two have been computed.
// The first call of a stream and any call with force_compute set always run. One stream per
// distinct forward sequence (with CFG: even index conditional, odd index unconditional; the
// conditional streams use threshold * cond_scale, the unconditional ones threshold * uncond_scale
// and their own cap uncond_max_skips), one StepCache per generation. With cfg_delta the
// unconditional streams cache the DIFFERENCE of their residual from the conditional stream's of the
// same step (FasterCache's CFG cache at the residual): a skipped unconditional call adds the
// conditional call's residual of this step (computed or itself cached) plus the reused or
// extrapolated difference, so the part both branches share is never stale. With stagger the
// unconditional streams compute one more call before their first skip, so that under max_skips 1
// the two branches skip on alternate steps (one exact branch in every step). With error_tol (error
// control) a skip also needs its predicted error below the tolerance, from a curvature each computed
// call measures for free (one more [n] residual kept per stream); with stagger as well the two
// branches of a step decide together (paired_allows). The steps a generation
// may skip at all are a window of the sampler's steps (start, end: allows_skip). No polynomial
// rescaling of rel: the threshold is chosen per tier from the measured passes-saved vs PSNR curve
// (scripts/video-quality-sweep, docs/PERFORMANCE.md "Video speed modes").
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace frugal::video {

enum class StepCacheMode { kReuse, kExtrapolate, kQuadratic };
const char* step_cache_mode_name(StepCacheMode mode);
std::optional<StepCacheMode> parse_step_cache_mode(const std::string& name);  // "reuse" | "extrapolate" | "quadratic"

struct StepCacheConfig {
  double threshold = 0;                            // accumulated relative change; 0 = off
  StepCacheMode mode = StepCacheMode::kReuse;
  int max_skips = 0;                               // most consecutive skipped calls per stream; 0 = no cap
  double uncond_scale = 1.0;                       // the unconditional streams' threshold / threshold
  double cond_scale = 1.0;                         // the conditional streams' threshold / threshold (0: never skip)
  int uncond_max_skips = -1;                       // the unconditional streams' cap; -1: max_skips
  bool cfg_delta = false;                          // unconditional streams cache (uncond - cond) residuals
  double start = 0.0, end = 1.0;                   // fractions of the steps: skipping only in [start, end)
  bool stagger = false;                            // unconditional streams first skip one call later
  int min_run = 0;                                 // computed calls before a stream's first skip (set per stream)
  // Error control (an ODE step controller; 0 = off): a call may skip only while the predicted
  // relative error of the skipped residuals since the last computed call, summed, stays below
  // error_tol. The prediction is the linear extrapolation's leading error term,
  // kappa * |(t - t1) (t - t0)|, with kappa measured for free at every computed call from how far
  // the extrapolation through the two computed calls before it missed the residual it got.
  double error_tol = 0;
  // With stagger (and error_tol > 0) the two CFG branches decide each step together: the branch
  // whose skip would err more computes and the other skips; both skip only while their summed
  // predicted error is below error_tol * error_pair (0: never both; not a flag: measured at 0.5
  // and 1, docs/PERFORMANCE.md).
  double error_pair = 1.0;

  // Whether sampler step `step` of `steps` (0-based) lies in the window where passes may be skipped.
  bool allows_skip(int step, int steps) const;
};

class StepCacheStream {
 public:
  explicit StepCacheStream(double threshold) { config_.threshold = threshold; }
  explicit StepCacheStream(const StepCacheConfig& config) : config_(config) {}

  // Decides for this call from the modulated input m [n] at timestep t (and remembers both).
  // True: the blocks are skipped, apply_residual stands in for them.
  bool should_skip(const float* m, int64_t n, bool force_compute, float timestep = 0.0f);
  // Skipped call: x[i] += the residual of this call (by mode, at the timestep should_skip saw).
  // Computed call: save_input before the blocks, save_residual after.
  void apply_residual(float* x, int64_t n);
  void save_input(const float* x, int64_t n);
  void save_residual(const float* x, int64_t n);  // residual = x - saved input

  // cfg_delta: this (unconditional) stream caches its residual minus `base`'s residual of the same
  // call; base (the conditional stream of the same expert) must be called first in every step and
  // keeps the residual it added (`applied`).
  void set_delta_base(StepCacheStream* base);
  // Error control with stagger: this stream and `other` (the two CFG branches of one expert) decide
  // each step together (paired_allows); the first of them called in a step decides first.
  void pair_with(StepCacheStream* other);
  // The residual the last call added to x (computed or cached); empty until a call completes,
  // and only kept by a delta base.
  const std::vector<float>& applied() const { return last_skipped_ ? applied_ : residual_; }
  int calls() const { return run_ + skipped_; }

  int passes_run() const { return run_; }
  int passes_skipped() const { return skipped_; }
  double last_relative_change() const { return last_rel_; }
  // Error control: kappa (relative error per timestep^2) from the last computed call; -1 until three
  // calls have been computed.
  double curvature() const { return kappa_; }

 private:
  void update_curvature();  // error control: kappa from the last three computed residuals
  // Error control: the summed predicted relative error if this stream skipped its call at
  // `timestep` (0 while kappa is unknown and nothing was skipped, infinity after one such skip).
  double skip_error(float timestep) const;
  // Whether the rules other than the threshold and the error let this stream skip its next call.
  bool may_skip(bool force_compute) const;
  // Error control with a partner (the other CFG branch of the same expert, stagger on): whether the
  // pair's rule lets this stream skip. Per step: the branch whose skip would err more computes, the
  // other skips; both skip when their summed predicted error is below error_tol * error_pair.
  bool paired_allows(double predicted, float timestep, bool force_compute) const;

  StepCacheConfig config_;
  double accumulated_ = 0;
  double last_rel_ = 0;
  double kappa_ = -1;                       // error control: measured curvature, -1 = not yet
  double predicted_error_ = 0;              // error control: summed over the skips since the last run
  bool has_residual_ = false, has_previous_ = false, has_previous2_ = false;
  int run_ = 0, skipped_ = 0, skips_in_row_ = 0;
  bool keep_applied_ = false, last_skipped_ = false;
  StepCacheStream* base_ = nullptr;         // cfg_delta: the conditional stream of the same step
  StepCacheStream* partner_ = nullptr;      // error control + stagger: the other branch of the expert
  float timestep_ = 0;                      // this call's
  float t1_ = 0, t0_ = 0, t2_ = 0;          // timesteps of residual_, previous_ and previous2_
  std::vector<float> prev_m_;               // [n]
  std::vector<float> residual_;             // [n] saved input, then blocks' output - input
  std::vector<float> previous_;             // [n] the computed residual before residual_
  std::vector<float> previous2_;            // [n] kQuadratic: the one before previous_
  std::vector<float> applied_;              // [n] delta base: the residual a skipped call added
};

// The streams of one generation: stream(i) for forward sequence i (even: conditional, odd:
// unconditional).
class StepCache {
 public:
  explicit StepCache(double threshold) { config_.threshold = threshold; }
  explicit StepCache(const StepCacheConfig& config) : config_(config) {}
  bool enabled() const { return config_.threshold > 0; }
  StepCacheStream* stream(int index);  // null when disabled
  int passes_run() const;
  int passes_skipped() const;

 private:
  StepCacheConfig config_;
  std::deque<StepCacheStream> streams_;  // deque: stream pointers stay valid as it grows
};

}  // namespace frugal::video

// Step caching for the DiT (video/dit layer), TeaCache / MagCache style: a denoising step whose
// input to the blocks has barely changed since the last computed pass reuses that pass's residual
// (blocks' output - blocks' input) instead of running the blocks. The signal is the modulated input
// of block 0, m = LN(patch_embed(x)) * (1 + scale_msa) + shift_msa, which moves with both the latent
// and the timestep. Per call:
//   rel = mean|m - m_prev| / mean|m_prev|   (m_prev: the previous call's m, computed or not)
//   accumulated += rel;  skip when accumulated < threshold, else run the blocks and reset it to 0.
// The first call of a stream and any call with force_compute set always run. One stream per
// distinct forward sequence (with CFG: one for the conditional, one for the unconditional passes),
// one StepCache per generation. No polynomial rescaling of rel (TeaCache fits one per model; the
// threshold is instead chosen per tier from the measured passes-saved vs PSNR curve,
// scripts/video-step-cache-sweep).
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

namespace frugal::video {

class StepCacheStream {
 public:
  explicit StepCacheStream(double threshold) : threshold_(threshold) {}

  // Decides for this call from the modulated input m [n] (and remembers m). True: reuse the residual.
  bool should_skip(const float* m, int64_t n, bool force_compute);
  // Skipped call: x[i] += residual[i]. Computed call: save_input before the blocks, save_residual after.
  void apply_residual(float* x, int64_t n) const;
  void save_input(const float* x, int64_t n);
  void save_residual(const float* x, int64_t n);  // residual = x - saved input

  int passes_run() const { return run_; }
  int passes_skipped() const { return skipped_; }
  double last_relative_change() const { return last_rel_; }

 private:
  double threshold_ = 0;
  double accumulated_ = 0;
  double last_rel_ = 0;
  bool has_residual_ = false;
  int run_ = 0, skipped_ = 0;
  std::vector<float> prev_m_;    // [n]
  std::vector<float> residual_;  // [n] saved input, then blocks' output - input
};

// The streams of one generation: stream(i) for forward sequence i (0: conditional, 1: unconditional).
class StepCache {
 public:
  explicit StepCache(double threshold) : threshold_(threshold) {}
  bool enabled() const { return threshold_ > 0; }
  StepCacheStream* stream(int index);  // null when disabled
  int passes_run() const;
  int passes_skipped() const;

 private:
  double threshold_ = 0;
  std::deque<StepCacheStream> streams_;  // deque: stream pointers stay valid as it grows
};

}  // namespace frugal::video

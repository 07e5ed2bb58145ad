// Activations of the Wan VAE and the per-call compute context (video/vae layer): a channel-first
// f32 tensor [C, T, H, W] whose bytes are counted by a MemoryMeter while it lives, so a whole
// encode/decode can report its peak working set (the streaming decode's bound is tested).
#pragma once

#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "ops/conv.h"
#include "ops/matmul.h"

namespace frugal::video::vae {

// Live and peak bytes of the activations and caches of one call.
class MemoryMeter {
 public:
  void add(int64_t bytes) {
    live_bytes_ += bytes;
    if (live_bytes_ > peak_bytes_) peak_bytes_ = live_bytes_;
  }
  void sub(int64_t bytes) { live_bytes_ -= bytes; }
  void reset_peak() { peak_bytes_ = live_bytes_; }
  int64_t live_bytes() const { return live_bytes_; }
  int64_t peak_bytes() const { return peak_bytes_; }

 private:
  int64_t live_bytes_ = 0;
  int64_t peak_bytes_ = 0;
};

// A dense f32 tensor [c, t, h, w] (C order). Move-only; its bytes are on `meter` while it lives.
class Activation {
 public:
  Activation() = default;
  Activation(MemoryMeter& meter, int64_t c, int64_t t, int64_t h, int64_t w);  // zero-filled
  Activation(Activation&& other) noexcept;
  Activation& operator=(Activation&& other) noexcept;
  Activation(const Activation&) = delete;
  Activation& operator=(const Activation&) = delete;
  ~Activation();

  int64_t c() const { return c_; }
  int64_t t() const { return t_; }
  int64_t h() const { return h_; }
  int64_t w() const { return w_; }
  int64_t plane() const { return h_ * w_; }
  int64_t size() const { return c_ * t_ * h_ * w_; }
  bool empty() const { return size() == 0; }
  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  // Frame t as a convolution input: channel stride T * H * W.
  ConvFrame frame(int64_t t) const { return ConvFrame{data() + t * plane(), t_ * plane()}; }
  // Element (c, t) plane start.
  float* plane_ptr(int64_t c, int64_t t) { return data() + (c * t_ + t) * plane(); }
  const float* plane_ptr(int64_t c, int64_t t) const { return data() + (c * t_ + t) * plane(); }

 private:
  void release();
  MemoryMeter* meter_ = nullptr;
  int64_t c_ = 0, t_ = 0, h_ = 0, w_ = 0;
  std::vector<float> data_;  // [c, t, h, w]
};

// What every layer needs to run: the pool of the current call, the convolution/matmul scratch and
// the meter. Owned by the model and reused across calls; the layers' causal caches are counted on
// its meter too. Threading contract: one call (encode or decode) at a time uses a context.
struct VaeContext {
  ThreadPool* pool = nullptr;  // set for the duration of one call
  ConvScratch conv;
  MatmulScratch matmul;
  MemoryMeter meter;
  Activation make(int64_t c, int64_t t, int64_t h, int64_t w) { return Activation(meter, c, t, h, w); }
};

}  // namespace frugal::video::vae

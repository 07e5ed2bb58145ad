#include "video/vae/vae_activation.h"

#include <utility>

#include "core/check.h"

namespace frugal::video::vae {

Activation::Activation(MemoryMeter& meter, int64_t c, int64_t t, int64_t h, int64_t w)
    : meter_(&meter), c_(c), t_(t), h_(h), w_(w) {
  CHECK(c >= 0 && t >= 0 && h >= 0 && w >= 0, "Activation: negative extent");
  data_.assign(static_cast<size_t>(c * t * h * w), 0.0f);
  meter_->add(static_cast<int64_t>(data_.size() * sizeof(float)));
}

Activation::Activation(Activation&& other) noexcept
    : meter_(std::exchange(other.meter_, nullptr)),
      c_(std::exchange(other.c_, 0)),
      t_(std::exchange(other.t_, 0)),
      h_(std::exchange(other.h_, 0)),
      w_(std::exchange(other.w_, 0)),
      data_(std::move(other.data_)) {
  other.data_.clear();
}

Activation& Activation::operator=(Activation&& other) noexcept {
  if (this != &other) {
    release();
    meter_ = std::exchange(other.meter_, nullptr);
    c_ = std::exchange(other.c_, 0);
    t_ = std::exchange(other.t_, 0);
    h_ = std::exchange(other.h_, 0);
    w_ = std::exchange(other.w_, 0);
    data_ = std::move(other.data_);
    other.data_.clear();
  }
  return *this;
}

Activation::~Activation() { release(); }

void Activation::release() {
  if (meter_ != nullptr) meter_->sub(static_cast<int64_t>(data_.size() * sizeof(float)));
  meter_ = nullptr;
  data_ = {};
  c_ = t_ = h_ = w_ = 0;
}

}  // namespace frugal::video::vae

#include "trust/watermark_layout.h"

#include <algorithm>
#include <string>

#include "core/check.h"

namespace frugal::trust {
namespace {

// A keyed byte stream: HMAC-SHA256(key, label ‖ ":" ‖ block index), 32 bytes per block.
class KeyedStream {
 public:
  KeyedStream(const WatermarkKey& key, std::string label) : key_(key), label_(std::move(label)) {}
  uint32_t next_u32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | next_byte();
    return v;
  }
  uint8_t next_byte() {
    if (used_ == block_.size()) {
      block_ = hmac_sha256(key_, label_ + ":" + std::to_string(counter_++));
      used_ = 0;
    }
    return block_[used_++];
  }
  // Uniform in [0, n) by rejection (no modulo bias).
  uint32_t uniform(uint32_t n) {
    const uint32_t limit = UINT32_MAX - UINT32_MAX % n;
    for (;;) {
      const uint32_t v = next_u32();
      if (v < limit) return v % n;
    }
  }

 private:
  const WatermarkKey& key_;
  std::string label_;
  std::array<uint8_t, 32> block_{};
  size_t used_ = 32;
  uint64_t counter_ = 0;
};

}  // namespace

WatermarkLayout make_watermark_layout(const WatermarkKey& key, int grid) {
  CHECK(grid > 0 && grid * grid % kWatermarkBits == 0);
  const int cells = grid * grid;
  WatermarkLayout layout;
  layout.grid = grid;
  layout.chip.resize(static_cast<size_t>(cells));
  layout.bit.resize(static_cast<size_t>(cells));
  KeyedStream chips(key, "frugal-watermark-chips-" + std::to_string(grid));
  for (int cell = 0; cell < cells; cell += 8) {
    const uint8_t byte = chips.next_byte();
    for (int k = 0; k < 8 && cell + k < cells; ++k) layout.chip[static_cast<size_t>(cell + k)] = (byte >> k & 1) ? 1 : -1;
  }
  // Fisher–Yates over the slots: slot s holds bit s % 64, so every bit gets cells / 64 cells.
  std::vector<int> slot(static_cast<size_t>(cells));
  for (int i = 0; i < cells; ++i) slot[static_cast<size_t>(i)] = i;
  KeyedStream order(key, "frugal-watermark-order-" + std::to_string(grid));
  for (int i = cells - 1; i > 0; --i) {
    std::swap(slot[static_cast<size_t>(i)], slot[order.uniform(static_cast<uint32_t>(i + 1))]);
  }
  for (int cell = 0; cell < cells; ++cell) layout.bit[static_cast<size_t>(cell)] = static_cast<uint8_t>(slot[static_cast<size_t>(cell)] % kWatermarkBits);
  return layout;
}

int watermark_grid_for(int width, int height) { return std::min(width, height) >= 256 ? 32 : 16; }

bool watermark_grid_searched(int grid, int width, int height) {
  const int side = std::min(width, height);
  if (grid == 32) return side >= 128;
  return grid == 16;
}

}  // namespace frugal::trust

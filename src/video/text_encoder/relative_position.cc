#include "video/text_encoder/relative_position.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "core/check.h"

namespace frugal::video {

int32_t t5_relative_bucket(int64_t rel_pos, int64_t num_buckets, int64_t max_distance, bool bidirectional) {
  CHECK(num_buckets >= 2 && max_distance > 0, "t5_relative_bucket: bad bucket parameters");
  int64_t bucket = 0;
  int64_t n = num_buckets;
  int64_t distance = 0;
  if (bidirectional) {
    n = num_buckets / 2;
    if (rel_pos > 0) bucket += n;
    distance = std::abs(rel_pos);
  } else {
    distance = rel_pos < 0 ? -rel_pos : 0;
  }
  const int64_t max_exact = n / 2;
  if (distance < max_exact) return static_cast<int32_t>(bucket + distance);
  // torch: log(rel.float() / max_exact) / math.log(max_dist / max_exact) * (n - max_exact), then .long()
  // (truncation). The Python scalars enter the float32 tensor ops as float32.
  const float ratio = static_cast<float>(distance) / static_cast<float>(max_exact);
  const float log_range = static_cast<float>(std::log(static_cast<double>(max_distance) / static_cast<double>(max_exact)));
  const float scaled = std::log(ratio) / log_range * static_cast<float>(n - max_exact);
  const int64_t large = std::min<int64_t>(max_exact + static_cast<int64_t>(scaled), n - 1);
  return static_cast<int32_t>(bucket + large);
}

std::vector<int32_t> t5_offset_buckets(int64_t n_q, int64_t n_kv, int64_t num_buckets, int64_t max_distance,
                                       bool bidirectional) {
  CHECK(n_q > 0 && n_kv > 0, "t5_offset_buckets: empty attention");
  std::vector<int32_t> buckets(static_cast<size_t>(n_q + n_kv - 1));
  for (int64_t i = 0; i < n_q + n_kv - 1; ++i) {
    buckets[static_cast<size_t>(i)] = t5_relative_bucket(i - (n_q - 1), num_buckets, max_distance, bidirectional);
  }
  return buckets;
}

}  // namespace frugal::video

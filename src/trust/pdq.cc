#include "trust/pdq.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>
#include <vector>

namespace frugal::trust {
namespace {

constexpr int kSide = 64;  // the decimated image is kSide × kSide
constexpr int kDct = 16;   // DCT coefficients kept per axis

// Box-filter window for shrinking `old_size` samples to `new_size`: ceil(old / (2 · new)).
int jarosz_window(int old_size, int new_size) { return (old_size + 2 * new_size - 1) / (2 * new_size); }

// One pass of a box filter of `window` taps over `n` samples spaced `stride` apart, from `in` to
// `out`: out[i] is the mean of in[i - left .. i + right] clipped to [0, n), with right = window / 2
// and left = window - 1 - right (an even window reaches one further right). A running float sum:
// each step adds the sample entering on the right, then drops the one leaving on the left.
void box_1d(const float* in, float* out, int n, int stride, int window) {
  const int right = window / 2;
  const int left = window - 1 - right;
  float sum = 0;
  int count = 0;
  for (int i = 0; i < std::min(right, n); ++i) {  // the window of out[0], less its last sample
    sum += in[static_cast<size_t>(i) * stride];
    ++count;
  }
  for (int i = 0; i < n; ++i) {
    const int enter = i + right;
    if (enter < n) {
      sum += in[static_cast<size_t>(enter) * stride];
      ++count;
    }
    const int leave = i - left - 1;
    if (leave >= 0) {
      sum -= in[static_cast<size_t>(leave) * stride];
      --count;
    }
    out[static_cast<size_t>(i) * stride] = sum / static_cast<float>(count);
  }
}

// The Jarosz filter in place over `image` [rows, cols] (`scratch` is the same size): along rows,
// along columns, twice.
void jarosz_filter(std::vector<float>& image, std::vector<float>& scratch, int rows, int cols) {
  const int window_along_rows = jarosz_window(cols, kSide);
  const int window_along_cols = jarosz_window(rows, kSide);
  for (int pass = 0; pass < 2; ++pass) {
    for (int r = 0; r < rows; ++r) {
      box_1d(&image[static_cast<size_t>(r) * cols], &scratch[static_cast<size_t>(r) * cols], cols, 1, window_along_rows);
    }
    for (int c = 0; c < cols; ++c) box_1d(&scratch[c], &image[c], rows, cols, window_along_cols);
  }
}

// Samples the filtered image at the centres of a 64 × 64 grid of cells: [64, 64].
std::vector<float> decimate(const std::vector<float>& image, int rows, int cols) {
  std::vector<float> out(kSide * kSide);
  for (int i = 0; i < kSide; ++i) {
    const int r = static_cast<int>(((i + 0.5) * rows) / kSide);
    for (int j = 0; j < kSide; ++j) {
      const int c = static_cast<int>(((j + 0.5) * cols) / kSide);
      out[static_cast<size_t>(i) * kSide + j] = image[static_cast<size_t>(r) * cols + c];
    }
  }
  return out;
}

// Summed absolute differences of vertical and horizontal neighbours, each in whole percent of
// full scale (255), / 90, at most 100.
int quality_of(const std::vector<float>& small) {
  int total = 0;
  for (int i = 0; i + 1 < kSide; ++i) {
    for (int j = 0; j < kSide; ++j) {
      const float d = (small[i * kSide + j] - small[(i + 1) * kSide + j]) * 100 / 255;
      total += static_cast<int>(std::fabs(d));
    }
  }
  for (int i = 0; i < kSide; ++i) {
    for (int j = 0; j + 1 < kSide; ++j) {
      const float d = (small[i * kSide + j] - small[i * kSide + j + 1]) * 100 / 255;
      total += static_cast<int>(std::fabs(d));
    }
  }
  return std::min(100, total / 90);
}

// The DCT-II basis rows 1..16 of length 64, orthonormal scale: [16, 64].
const std::vector<float>& dct_basis() {
  static const std::vector<float> basis = [] {
    std::vector<float> m(kDct * kSide);
    const double scale = std::sqrt(2.0 / kSide);
    for (int u = 0; u < kDct; ++u) {
      for (int x = 0; x < kSide; ++x) {
        m[static_cast<size_t>(u) * kSide + x] =
            static_cast<float>(scale * std::cos(std::numbers::pi / (2.0 * kSide) * (u + 1) * (2 * x + 1)));
      }
    }
    return m;
  }();
  return basis;
}

// B = D · A · Dᵀ with D [16, 64] and A [64, 64]: [16, 16].
std::vector<float> dct_16x16(const std::vector<float>& a) {
  const std::vector<float>& d = dct_basis();
  std::vector<float> da(kDct * kSide);  // D · A: [16, 64]
  for (int u = 0; u < kDct; ++u) {
    for (int x = 0; x < kSide; ++x) {
      float sum = 0;
      for (int k = 0; k < kSide; ++k) sum += d[u * kSide + k] * a[k * kSide + x];
      da[u * kSide + x] = sum;
    }
  }
  std::vector<float> b(kDct * kDct);
  for (int u = 0; u < kDct; ++u) {
    for (int v = 0; v < kDct; ++v) {
      float sum = 0;
      for (int k = 0; k < kSide; ++k) sum += da[u * kSide + k] * d[v * kSide + k];
      b[u * kDct + v] = sum;
    }
  }
  return b;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string PdqHash::to_hex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  text.reserve(64);
  for (int w = 15; w >= 0; --w) {
    for (int shift = 12; shift >= 0; shift -= 4) text += kDigits[(words[static_cast<size_t>(w)] >> shift) & 0xf];
  }
  return text;
}

Expected<PdqHash> parse_pdq_hex(const std::string& text) {
  if (text.size() != 64) {
    return invalid_argument("a PDQ hash is 64 hex digits, not " + std::to_string(text.size()) + " characters");
  }
  PdqHash hash;
  for (size_t i = 0; i < 64; ++i) {
    const int value = hex_value(text[i]);
    if (value < 0) return invalid_argument("a PDQ hash is hex digits only; '" + std::string(1, text[i]) + "' is not one");
    const size_t word = 15 - i / 4;
    hash.words[word] = static_cast<uint16_t>(hash.words[word] | (value << (12 - 4 * (i % 4))));
  }
  return hash;
}

int hamming_distance(const PdqHash& a, const PdqHash& b) {
  int distance = 0;
  for (size_t w = 0; w < a.words.size(); ++w) distance += std::popcount(static_cast<uint16_t>(a.words[w] ^ b.words[w]));
  return distance;
}

Expected<PdqResult> pdq_hash_rgb(const uint8_t* rgb, int width, int height, size_t size_bytes) {
  if (rgb == nullptr || width <= 0 || height <= 0) return invalid_argument("PDQ needs a non-empty image");
  if (size_bytes != static_cast<size_t>(width) * static_cast<size_t>(height) * 3) {
    return invalid_argument("PDQ: " + std::to_string(size_bytes) + " bytes is not a " + std::to_string(width) + "x" +
                            std::to_string(height) + " RGB image");
  }
  const int rows = height, cols = width;
  std::vector<float> luma(static_cast<size_t>(rows) * cols);  // [rows, cols]
  for (size_t p = 0; p < luma.size(); ++p) {
    luma[p] = 0.299f * rgb[3 * p] + 0.587f * rgb[3 * p + 1] + 0.114f * rgb[3 * p + 2];
  }
  std::vector<float> scratch(luma.size());
  jarosz_filter(luma, scratch, rows, cols);
  const std::vector<float> small = decimate(luma, rows, cols);  // [64, 64]
  PdqResult result;
  result.quality = quality_of(small);
  const std::vector<float> coefficients = dct_16x16(small);  // [16, 16]
  std::vector<float> sorted = coefficients;
  std::nth_element(sorted.begin(), sorted.begin() + 127, sorted.end());
  const float median = sorted[127];  // the 128th smallest of 256
  for (int k = 0; k < kDct * kDct; ++k) {
    if (coefficients[static_cast<size_t>(k)] > median) result.hash.words[static_cast<size_t>(k / 16)] |= 1u << (k % 16);
  }
  return result;
}

}  // namespace frugal::trust

// Seedable Gaussian noise for the initial video latent (video samplers layer).
//
// Element i of the stream for `seed` depends only on (seed, i): never on the thread count, the
// chunking of the range or the machine's SIMD width. So a latent can be filled by any number of
// threads, in any pieces, and the same seed always gives the same video on the same build.
//
// Construction: Philox4x32-10 (Salmon et al., "Parallel Random Numbers: As Easy as 1, 2, 3", SC'11;
// the Random123 reference), a counter-based generator: output = bijection_key(counter).
//   key     = {seed & 0xffffffff, seed >> 32}
//   counter = {pair & 0xffffffff, pair >> 32, 0, 0} with pair = i / 2
//   words w0..w3 -> u1 = (((w1:w0) >> 11) + 1) * 2^-53 in (0, 1], u2 = ((w3:w2) >> 11) * 2^-53 in [0, 1)
//   Box-Muller in double: r = sqrt(-2 ln u1), z = r cos(2 pi u2) for even i, r sin(2 pi u2) for odd i,
//   then rounded to float.
// The values depend on libm's log/cos/sin (last-bit differences between C libraries are possible);
// they are not torch.randn's: the official reference noise cannot be reproduced (nor is it the
// same on CPU and CUDA), so golden tests load it from file.
#pragma once

#include <array>
#include <cstdint>

namespace frugal {
class ThreadPool;
}

namespace frugal::video {

using PhiloxCounter = std::array<uint32_t, 4>;
using PhiloxKey = std::array<uint32_t, 2>;

// The Philox4x32 bijection with 10 rounds (Random123's philox4x32_10).
PhiloxCounter philox4x32_10(PhiloxCounter counter, PhiloxKey key);

// Standard normal element `index` of the stream `seed`. Precondition: index >= 0.
float gaussian_at(uint64_t seed, int64_t index);

// out[k] = gaussian_at(seed, offset + k) for k in [0, n). Preconditions: n >= 0, offset >= 0.
void fill_gaussian(uint64_t seed, float* out, int64_t n, int64_t offset = 0);

// The same values, filled by the pool's threads (bit-identical to fill_gaussian).
void fill_gaussian(uint64_t seed, float* out, int64_t n, ThreadPool& pool, int64_t offset = 0);

}  // namespace frugal::video

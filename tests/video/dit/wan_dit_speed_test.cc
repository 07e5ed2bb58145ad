// The DiT's speed modes against its dense, uncached pass: sliding-tile / block-sparse attention
// that covers every tile gives the dense output bit for bit (and small windows attend the counted
// fraction of tile pairs), and step caching reuses the blocks' residual only when the modulated
// input moved less than the threshold.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/thread_pool.h"
#include "video/dit/dit_test_util.h"
#include "video/dit/step_cache.h"
#include "video/dit/wan_dit.h"

namespace frugal::video {
namespace {

using testing::DitCase;
using testing::load_dit_case;

struct Loaded {
  DitCase c = load_dit_case("dit_a");  // x [16, 3, 8, 12]: a 3 x 4 x 6 token grid
  WeightStore store = std::move(*WeightStore::open({c.path("diffusion_pytorch_model.safetensors")}));
  WanDit dit = std::move(*WanDit::load(store, c.config, WeightPrecision::kF32));
  ThreadPool pool{2};
  std::vector<float> embedded = std::vector<float>(static_cast<size_t>(dit.embedded_context_size()));
  Loaded() { EXPECT_TRUE(dit.embed_context(c.context.data(), c.ctx_len, embedded.data(), pool).is_ok()); }

  std::vector<float> run(const std::vector<float>& x, float t, StepCacheStream* cache = nullptr, bool force = false) {
    std::vector<float> out(x.size());
    EXPECT_TRUE(dit.forward_embedded(x.data(), c.frames, c.height, c.width, embedded.data(), t, out.data(), pool, cache,
                                     force)
                    .is_ok());
    return out;
  }
};

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(WanDitSpeed, TiledAttentionOverEveryTileIsTheDenseOutputBitForBit) {
  Loaded m;
  const auto dense = m.run(m.c.x, 999.0f);
  TiledAttentionConfig config;
  config.tile = {1, 2, 2};  // 3 x 2 x 3 = 18 tiles
  config.mode = AttentionMode::kSlidingTile;
  config.window = {3, 2, 3};
  m.dit.set_attention(config);
  EXPECT_TRUE(same_bits(m.run(m.c.x, 999.0f), dense)) << "sliding-tile, window = the whole grid";
  config.mode = AttentionMode::kBlockSparse;
  config.keep = 1.0;
  m.dit.set_attention(config);
  EXPECT_TRUE(same_bits(m.run(m.c.x, 999.0f), dense)) << "block-sparse, every tile kept";
  EXPECT_EQ(m.dit.attention_stats().tile_pairs_computed, m.dit.attention_stats().tile_pairs_total);
}

TEST(WanDitSpeed, SmallWindowsAttendTheCountedFractionAndChangeTheOutput) {
  Loaded m;
  const auto dense = m.run(m.c.x, 500.0f);
  const TiledAttentionStats before = m.dit.attention_stats();
  TiledAttentionConfig config;
  config.mode = AttentionMode::kSlidingTile;
  config.tile = {1, 2, 2};
  config.window = {1, 1, 1};  // each query tile attends to itself only
  m.dit.set_attention(config);
  const auto local = m.run(m.c.x, 500.0f);
  const TiledAttentionStats& after = m.dit.attention_stats();
  const int64_t layers = m.c.config.num_layers, heads = m.c.config.num_heads;
  EXPECT_EQ(after.tile_pairs_computed - before.tile_pairs_computed, layers * heads * 18);
  EXPECT_EQ(after.tile_pairs_total - before.tile_pairs_total, layers * heads * 18 * 18);
  EXPECT_FALSE(same_bits(local, dense));
  for (float v : local) ASSERT_TRUE(std::isfinite(v));
}

TEST(StepCacheStream, AccumulatesRelativeChangeAndResetsWhenItRuns) {
  StepCacheStream s(0.025);
  std::vector<float> m(100, 1.0f);
  const auto scaled = [&](double f) {
    std::vector<float> v(m.size());
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(m[i] * f);
    return v;
  };
  std::vector<float> x(100, 0.5f);
  EXPECT_FALSE(s.should_skip(m.data(), 100, false));  // first call: nothing to reuse
  s.save_input(x.data(), 100);
  std::vector<float> y(100, 2.0f);
  s.save_residual(y.data(), 100);  // residual 1.5
  auto m1 = scaled(1.01);
  EXPECT_TRUE(s.should_skip(m1.data(), 100, false));  // accumulated 0.01
  EXPECT_NEAR(s.last_relative_change(), 0.01, 1e-6);
  auto m2 = scaled(1.01 * 1.01);
  EXPECT_TRUE(s.should_skip(m2.data(), 100, false));  // accumulated 0.02
  auto m3 = scaled(1.01 * 1.01 * 1.01);
  EXPECT_FALSE(s.should_skip(m3.data(), 100, false));  // accumulated 0.03 >= 0.025: run, reset
  auto m4 = scaled(1.01 * 1.01 * 1.01 * 1.01);
  EXPECT_TRUE(s.should_skip(m4.data(), 100, false));  // 0.01 again after the reset
  EXPECT_FALSE(s.should_skip(m4.data(), 100, true));  // forced
  EXPECT_EQ(s.passes_run(), 3);
  EXPECT_EQ(s.passes_skipped(), 3);
  std::vector<float> z(100, 1.0f);
  s.apply_residual(z.data(), 100);
  EXPECT_FLOAT_EQ(z[7], 2.5f);
}

TEST(StepCache, DisabledAtZeroAndOneStreamPerIndex) {
  StepCache off(0.0);
  EXPECT_EQ(off.stream(0), nullptr);
  StepCache on(0.1);
  StepCacheStream* a = on.stream(0);
  StepCacheStream* b = on.stream(3);
  EXPECT_NE(a, nullptr);
  EXPECT_NE(a, b);
  EXPECT_EQ(on.stream(0), a);  // stable across growth
}

TEST(WanDitSpeed, StepCacheSkipsTheBlocksOnlyWhenTheInputBarelyMoved) {
  Loaded m;
  StepCacheStream cache(0.05);
  const auto first = m.run(m.c.x, 900.0f, &cache);
  EXPECT_EQ(m.run(m.c.x, 900.0f), first) << "a computed pass through the cache is the uncached pass";
  // The same input again: no change, so the residual is reused; the head's output is the same up to
  // the rounding of (x + (blocks(x) - x)).
  const auto again = m.run(m.c.x, 900.0f, &cache);
  EXPECT_EQ(cache.passes_skipped(), 1);
  testing::expect_close("cached pass", again, first, 1e-5);
  // A very different input runs the blocks again.
  std::vector<float> other = m.c.x;
  for (float& v : other) v = -v * 2.0f;
  const auto moved = m.run(other, 100.0f, &cache);
  EXPECT_EQ(cache.passes_run(), 2);
  EXPECT_EQ(moved, m.run(other, 100.0f));
  // Forced passes always run.
  m.run(other, 100.0f, &cache, /*force=*/true);
  EXPECT_EQ(cache.passes_run(), 3);
}

}  // namespace
}  // namespace frugal::video

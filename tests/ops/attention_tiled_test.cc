// attention_full_3d's modes against dense attention and a scalar masked reference: every tile
// chosen gives attention_full's bits; small windows / top-k equal double-precision attention over
// exactly the allowed keys (the mask is rebuilt here from tile coordinates / pooled scores). Run
// with FRUGAL_ISA=ref|avx2|avx512 to cover each compiled kernel table.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "ops/attention_tiled.h"
#include "common/random_fill.h"

namespace frugal {
namespace {

struct Case {
  TokenGrid3 grid{5, 6, 7};  // edges not multiples of the tiles below
  AttentionShape shape{3, 3, 16, 0.25f};
  std::vector<float> q, k, v;
  Case() {
    const int64_t n = grid.n_tokens() * shape.n_head * shape.head_dim;
    q = testing::gaussian(n, 1);
    k = testing::gaussian(n, 2);
    v = testing::gaussian(n, 3);
  }
  int64_t n() const { return grid.n_tokens(); }
};

// Tile coordinate of token `tok` along each axis.
std::array<int64_t, 3> tile_of(const TokenGrid3& g, const std::array<int64_t, 3>& tile, int64_t tok) {
  const int64_t f = tok / (g.h * g.w), y = (tok / g.w) % g.h, x = tok % g.w;
  return {f / tile[0], y / tile[1], x / tile[2]};
}

// Double-precision attention of head h's queries over the keys allowed(query, key).
template <typename Allowed>
std::vector<double> masked_reference(const Case& c, Allowed allowed) {
  const int64_t n = c.n(), H = c.shape.n_head, D = c.shape.head_dim;
  std::vector<double> out(static_cast<size_t>(n * H * D), 0.0);
  for (int64_t h = 0; h < H; ++h) {
    for (int64_t i = 0; i < n; ++i) {
      std::vector<double> s;
      std::vector<int64_t> keys;
      for (int64_t j = 0; j < n; ++j) {
        if (!allowed(h, i, j)) continue;
        double dot = 0;
        for (int64_t d = 0; d < D; ++d) dot += double(c.q[(i * H + h) * D + d]) * c.k[(j * H + h) * D + d];
        s.push_back(dot * c.shape.scale);
        keys.push_back(j);
      }
      const double mx = *std::max_element(s.begin(), s.end());
      double sum = 0;
      for (double& x : s) sum += (x = std::exp(x - mx));
      for (size_t e = 0; e < keys.size(); ++e) {
        for (int64_t d = 0; d < D; ++d) out[(i * H + h) * D + d] += s[e] / sum * c.v[(keys[e] * H + h) * D + d];
      }
    }
  }
  return out;
}

std::vector<float> run(const Case& c, const TiledAttentionConfig& config, TiledAttentionStats* stats = nullptr) {
  ThreadPool pool(3);
  TiledAttentionScratch scratch;
  std::vector<float> out(c.q.size(), -7.0f);
  attention_full_3d(c.q.data(), c.k.data(), c.v.data(), c.grid, c.shape, config, out.data(), pool, scratch, stats);
  return out;
}

std::vector<float> dense(const Case& c) {
  ThreadPool pool(2);
  std::vector<float> out(c.q.size());
  attention_full(c.q.data(), c.n(), c.k.data(), c.v.data(), c.n(), c.shape, out.data(), pool);
  return out;
}

void expect_same_bits(const std::vector<float>& a, const std::vector<float>& b, const char* what) {
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float))) << what;
}

TEST(TiledAttention, EveryTileChosenIsDenseBitForBit) {
  const Case c;
  const auto want = dense(c);
  TiledAttentionConfig config;
  config.tile = {2, 3, 2};
  config.mode = AttentionMode::kDense;
  expect_same_bits(run(c, config), want, "dense");
  config.mode = AttentionMode::kSlidingTile;
  config.window = {3, 2, 4};  // >= the 3 x 2 x 4 tiles of the grid
  TiledAttentionStats stats;
  expect_same_bits(run(c, config, &stats), want, "sliding-tile, window over everything");
  EXPECT_EQ(stats.tile_pairs_computed, stats.tile_pairs_total);
  config.mode = AttentionMode::kBlockSparse;
  config.keep = 1.0;
  expect_same_bits(run(c, config), want, "block-sparse, top-k = all tiles");
}

TEST(TiledAttention, SlidingTileEqualsMaskedDenseReference) {
  const Case c;
  TiledAttentionConfig config;
  config.mode = AttentionMode::kSlidingTile;
  config.tile = {2, 3, 2};  // 3 x 2 x 4 tiles
  config.window = {1, 1, 3};
  // The window per axis, rebuilt here: centred, shifted inside the axis, whole axis when larger.
  const std::array<int64_t, 3> n_tiles{3, 2, 4};
  auto allowed = [&](int64_t, int64_t i, int64_t j) {
    const auto a = tile_of(c.grid, config.tile, i), b = tile_of(c.grid, config.tile, j);
    for (int ax = 0; ax < 3; ++ax) {
      const int64_t w = config.window[ax], n = n_tiles[ax];
      const int64_t lo = w >= n ? 0 : std::clamp<int64_t>(a[ax] - w / 2, 0, n - w);
      if (b[ax] < lo || b[ax] >= lo + std::min(w, n)) return false;
    }
    return true;
  };
  const auto want = masked_reference(c, allowed);
  TiledAttentionStats stats;
  const auto got = run(c, config, &stats);
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 2e-5) << "element " << i;
  // 24 query tiles x 3 key tiles (a 1x1x3 window, each fully inside an axis of 4 tiles) x 3 heads.
  EXPECT_EQ(stats.tile_pairs_computed, 24 * 3 * 3);
  EXPECT_EQ(stats.tile_pairs_total, 24 * 24 * 3);
  EXPECT_DOUBLE_EQ(stats.fraction(), 3.0 / 24.0);
}

TEST(TiledAttention, BlockSparseEqualsMaskedReferenceOverTopKPooledTiles) {
  const Case c;
  TiledAttentionConfig config;
  config.mode = AttentionMode::kBlockSparse;
  config.tile = {2, 3, 2};
  config.keep = 0.3;  // ceil(0.3 * 24) = 8 key tiles per query tile
  const int64_t H = c.shape.n_head, D = c.shape.head_dim, n_tiles = 24;
  auto tile_index = [&](int64_t tok) {
    const auto t = tile_of(c.grid, config.tile, tok);
    return (t[0] * 2 + t[1]) * 4 + t[2];
  };
  // allowed[h][query tile][key tile], from pooled means computed here.
  std::vector<std::vector<std::vector<bool>>> chosen(H, std::vector<std::vector<bool>>(n_tiles, std::vector<bool>(n_tiles)));
  ThreadPool pool(2);
  for (int64_t h = 0; h < H; ++h) {
    std::vector<double> pq(n_tiles * D, 0.0), pk(n_tiles * D, 0.0), count(n_tiles, 0.0);
    for (int64_t tok = 0; tok < c.n(); ++tok) {
      const int64_t t = tile_index(tok);
      count[t] += 1;
      for (int64_t d = 0; d < D; ++d) {
        pq[t * D + d] += c.q[(tok * H + h) * D + d];
        pk[t * D + d] += c.k[(tok * H + h) * D + d];
      }
    }
    const auto api = select_key_tiles(c.q.data(), c.k.data(), c.grid, c.shape, config, h, pool);
    ASSERT_EQ(api.size(), static_cast<size_t>(n_tiles));
    for (int64_t qt = 0; qt < n_tiles; ++qt) {
      std::vector<std::pair<double, int64_t>> scores;
      for (int64_t kt = 0; kt < n_tiles; ++kt) {
        double s = 0;
        for (int64_t d = 0; d < D; ++d) s += pq[qt * D + d] / count[qt] * (pk[kt * D + d] / count[kt]);
        scores.push_back({-s, kt});
      }
      std::sort(scores.begin(), scores.end());
      std::vector<int32_t> mine;
      for (int e = 0; e < 8; ++e) {
        chosen[h][qt][scores[e].second] = true;
        mine.push_back(static_cast<int32_t>(scores[e].second));
      }
      std::sort(mine.begin(), mine.end());
      EXPECT_EQ(api[qt], mine) << "head " << h << " query tile " << qt;
    }
  }
  const auto want = masked_reference(c, [&](int64_t h, int64_t i, int64_t j) { return chosen[h][tile_index(i)][tile_index(j)]; });
  TiledAttentionStats stats;
  const auto got = run(c, config, &stats);
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 2e-5) << "element " << i;
  EXPECT_EQ(stats.tile_pairs_computed, 24 * 8 * 3);
  // Two calls accumulate.
  run(c, config, &stats);
  EXPECT_EQ(stats.tile_pairs_computed, 2 * 24 * 8 * 3);
}

// rest = pooled: the reference rebuilt from the formula: exact over the chosen tiles' keys, plus one
// row per unchosen tile T with score scale * q . mean_T(k) + log |T| and value mean_T(v).
std::vector<double> pooled_reference(const Case& c, const TiledAttentionConfig& config, ThreadPool& pool) {
  const int64_t n = c.n(), H = c.shape.n_head, D = c.shape.head_dim;
  const TiledAttentionConfig cfg = config;
  const int64_t nt0 = (c.grid.t + cfg.tile[0] - 1) / cfg.tile[0], nt1 = (c.grid.h + cfg.tile[1] - 1) / cfg.tile[1];
  const int64_t nt2 = (c.grid.w + cfg.tile[2] - 1) / cfg.tile[2], n_tiles = nt0 * nt1 * nt2;
  auto tile_index = [&](int64_t tok) {
    const auto t = tile_of(c.grid, cfg.tile, tok);
    return (t[0] * nt1 + t[1]) * nt2 + t[2];
  };
  std::vector<double> out(static_cast<size_t>(n * H * D), 0.0);
  for (int64_t h = 0; h < H; ++h) {
    std::vector<double> mk(n_tiles * D, 0.0), mv(n_tiles * D, 0.0), count(n_tiles, 0.0);
    for (int64_t tok = 0; tok < n; ++tok) {
      const int64_t t = tile_index(tok);
      count[t] += 1;
      for (int64_t d = 0; d < D; ++d) {
        mk[t * D + d] += c.k[(tok * H + h) * D + d];
        mv[t * D + d] += c.v[(tok * H + h) * D + d];
      }
    }
    for (int64_t t = 0; t < n_tiles; ++t) {
      for (int64_t d = 0; d < D; ++d) mk[t * D + d] /= count[t], mv[t * D + d] /= count[t];
    }
    const auto chosen = select_key_tiles(c.q.data(), c.k.data(), c.grid, c.shape, cfg, h, pool);
    for (int64_t i = 0; i < n; ++i) {
      const auto& mine = chosen[static_cast<size_t>(tile_index(i))];
      std::vector<double> s;
      std::vector<const float*> vf;
      std::vector<const double*> vd;
      for (int64_t j = 0; j < n; ++j) {
        if (!std::binary_search(mine.begin(), mine.end(), static_cast<int32_t>(tile_index(j)))) continue;
        double dot = 0;
        for (int64_t d = 0; d < D; ++d) dot += double(c.q[(i * H + h) * D + d]) * c.k[(j * H + h) * D + d];
        s.push_back(dot * c.shape.scale);
        vf.push_back(&c.v[(j * H + h) * D]);
        vd.push_back(nullptr);
      }
      for (int64_t t = 0; t < n_tiles; ++t) {
        if (std::binary_search(mine.begin(), mine.end(), static_cast<int32_t>(t))) continue;
        double dot = 0;
        for (int64_t d = 0; d < D; ++d) dot += double(c.q[(i * H + h) * D + d]) * mk[t * D + d];
        s.push_back(dot * c.shape.scale + std::log(count[t]));
        vf.push_back(nullptr);
        vd.push_back(&mv[t * D]);
      }
      const double mx = *std::max_element(s.begin(), s.end());
      double sum = 0;
      for (double& x : s) sum += (x = std::exp(x - mx));
      for (size_t e = 0; e < s.size(); ++e) {
        for (int64_t d = 0; d < D; ++d) {
          out[(i * H + h) * D + d] += s[e] / sum * (vf[e] != nullptr ? double(vf[e][d]) : vd[e][d]);
        }
      }
    }
  }
  return out;
}

TEST(TiledAttention, PooledRestCoveringEveryTileIsDenseBitForBit) {
  const Case c;
  const auto want = dense(c);
  TiledAttentionConfig config;
  config.tile = {2, 3, 2};
  config.rest = AttentionRest::kPooled;
  config.mode = AttentionMode::kSlidingTile;
  config.window = {3, 2, 4};
  TiledAttentionStats stats;
  expect_same_bits(run(c, config, &stats), want, "sliding-tile pooled, window over everything");
  EXPECT_EQ(stats.pooled_tile_pairs, 0);
  config.mode = AttentionMode::kBlockSparse;
  config.keep = 1.0;
  expect_same_bits(run(c, config), want, "block-sparse pooled, top-k = all tiles");
}

TEST(TiledAttention, PooledRestEqualsTheFormulaReference) {
  const Case c;
  ThreadPool pool(2);
  TiledAttentionConfig config;
  config.tile = {2, 3, 2};  // 3 x 2 x 4 tiles, edge tiles smaller (log |T| differs per tile)
  config.rest = AttentionRest::kPooled;
  for (AttentionMode mode : {AttentionMode::kBlockSparse, AttentionMode::kSlidingTile}) {
    config.mode = mode;
    config.keep = 0.3;         // 8 of 24 key tiles
    config.window = {1, 1, 3};  // 3 of 24
    const auto want = pooled_reference(c, config, pool);
    TiledAttentionStats stats;
    const auto got = run(c, config, &stats);
    for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 2e-5) << attention_mode_name(mode) << " element " << i;
    const int64_t exact = mode == AttentionMode::kBlockSparse ? 8 : 3;
    EXPECT_EQ(stats.tile_pairs_computed, 24 * exact * 3);
    EXPECT_EQ(stats.pooled_tile_pairs, 24 * (24 - exact) * 3);
  }
}

// Keys and values constant over each tile: a tile's mean row with bias log |T| carries exactly its
// softmax mass and value, so the pooled rest equals dense attention (to rounding) while dropping
// the rest does not.
TEST(TiledAttention, PooledRestIsExactWhenTilesAreUniform) {
  Case c;
  const std::array<int64_t, 3> tile{2, 3, 2};
  const int64_t H = c.shape.n_head, D = c.shape.head_dim;
  for (int64_t tok = 0; tok < c.n(); ++tok) {  // every token takes its tile's first token's K/V
    const auto t = tile_of(c.grid, tile, tok);
    const int64_t first = (t[0] * tile[0] * c.grid.h + t[1] * tile[1]) * c.grid.w + t[2] * tile[2];
    for (int64_t x = 0; x < H * D; ++x) {
      c.k[tok * H * D + x] = c.k[first * H * D + x];
      c.v[tok * H * D + x] = c.v[first * H * D + x];
    }
  }
  const auto want = dense(c);
  TiledAttentionConfig config;
  config.tile = tile;
  config.mode = AttentionMode::kBlockSparse;
  config.keep = 0.2;
  config.rest = AttentionRest::kPooled;
  const auto pooled = run(c, config);
  config.rest = AttentionRest::kDrop;
  const auto dropped = run(c, config);
  double worst_pooled = 0, worst_dropped = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    worst_pooled = std::max(worst_pooled, double(std::fabs(pooled[i] - want[i])));
    worst_dropped = std::max(worst_dropped, double(std::fabs(dropped[i] - want[i])));
  }
  EXPECT_LT(worst_pooled, 2e-5);
  EXPECT_GT(worst_dropped, 1e-2);
}

TEST(TiledAttention, ModesParseAndBadConfigsAreRefused) {
  EXPECT_EQ(*parse_attention_rest("drop"), AttentionRest::kDrop);
  EXPECT_EQ(*parse_attention_rest("pooled"), AttentionRest::kPooled);
  EXPECT_FALSE(parse_attention_rest("mean").has_value());
  for (AttentionRest r : {AttentionRest::kDrop, AttentionRest::kPooled}) {
    EXPECT_EQ(*parse_attention_rest(attention_rest_name(r)), r);
  }
  EXPECT_EQ(*parse_attention_mode("sliding-tile"), AttentionMode::kSlidingTile);
  EXPECT_EQ(*parse_attention_mode("block-sparse"), AttentionMode::kBlockSparse);
  EXPECT_EQ(*parse_attention_mode("dense"), AttentionMode::kDense);
  EXPECT_FALSE(parse_attention_mode("sparse").has_value());
  for (AttentionMode m : {AttentionMode::kDense, AttentionMode::kSlidingTile, AttentionMode::kBlockSparse}) {
    EXPECT_EQ(*parse_attention_mode(attention_mode_name(m)), m);
  }
  TiledAttentionConfig c;
  EXPECT_TRUE(validate_tiled_attention(c).is_ok());
  c.keep = 0;
  EXPECT_FALSE(validate_tiled_attention(c).is_ok());
  c.keep = 1.5;
  EXPECT_FALSE(validate_tiled_attention(c).is_ok());
  c.keep = 0.5;
  c.tile[1] = 0;
  EXPECT_FALSE(validate_tiled_attention(c).is_ok());
  c.tile[1] = 4;
  c.window[2] = 0;
  EXPECT_FALSE(validate_tiled_attention(c).is_ok());
}

}  // namespace
}  // namespace frugal

#include "ops/attention_tiled.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/check.h"

namespace frugal {
namespace {

// The tile grid of a token grid: tiles per axis and each tile's tokens (CSR, ascending).
struct TileGrid {
  std::array<int64_t, 3> n{};  // tiles along (t, h, w)
  int64_t count() const { return n[0] * n[1] * n[2]; }
};

TileGrid build_tiles(const TokenGrid3& g, const std::array<int64_t, 3>& tile, std::vector<int32_t>& offsets,
                     std::vector<int32_t>& tokens) {
  const std::array<int64_t, 3> size{g.t, g.h, g.w};
  TileGrid tg;
  for (int a = 0; a < 3; ++a) tg.n[static_cast<size_t>(a)] = (size[a] + tile[a] - 1) / tile[a];
  offsets.assign(1, 0);
  tokens.clear();
  tokens.reserve(static_cast<size_t>(g.n_tokens()));
  for (int64_t a = 0; a < tg.n[0]; ++a) {
    for (int64_t b = 0; b < tg.n[1]; ++b) {
      for (int64_t c = 0; c < tg.n[2]; ++c) {
        for (int64_t f = a * tile[0]; f < std::min(g.t, (a + 1) * tile[0]); ++f) {
          for (int64_t y = b * tile[1]; y < std::min(g.h, (b + 1) * tile[1]); ++y) {
            for (int64_t x = c * tile[2]; x < std::min(g.w, (c + 1) * tile[2]); ++x) {
              tokens.push_back(static_cast<int32_t>((f * g.h + y) * g.w + x));
            }
          }
        }
        offsets.push_back(static_cast<int32_t>(tokens.size()));
      }
    }
  }
  return tg;
}

// The window [lo, lo + w) of tiles on one axis of n tiles around tile i, shifted inside the axis.
std::pair<int64_t, int64_t> window_range(int64_t i, int64_t w, int64_t n) {
  if (w >= n) return {0, n};
  const int64_t lo = std::clamp<int64_t>(i - w / 2, 0, n - w);
  return {lo, lo + w};
}

std::vector<int32_t> sliding_tiles(const TileGrid& tg, const std::array<int64_t, 3>& window, int64_t qt) {
  const int64_t qa = qt / (tg.n[1] * tg.n[2]), qb = (qt / tg.n[2]) % tg.n[1], qc = qt % tg.n[2];
  const auto [a0, a1] = window_range(qa, window[0], tg.n[0]);
  const auto [b0, b1] = window_range(qb, window[1], tg.n[1]);
  const auto [c0, c1] = window_range(qc, window[2], tg.n[2]);
  std::vector<int32_t> out;
  for (int64_t a = a0; a < a1; ++a) {
    for (int64_t b = b0; b < b1; ++b) {
      for (int64_t c = c0; c < c1; ++c) out.push_back(static_cast<int32_t>((a * tg.n[1] + b) * tg.n[2] + c));
    }
  }
  return out;  // ascending: row-major loops
}

// Means over each tile's tokens of head `head`'s rows of x: [n_tiles, head_dim].
void pool_tiles(const float* x, const AttentionShape& shape, int64_t head, const std::vector<int32_t>& offsets,
                const std::vector<int32_t>& tokens, std::vector<float>& pooled) {
  const int64_t n_tiles = static_cast<int64_t>(offsets.size()) - 1, dim = shape.head_dim;
  pooled.assign(static_cast<size_t>(n_tiles * dim), 0.0f);
  std::vector<double> sum(static_cast<size_t>(dim));
  for (int64_t t = 0; t < n_tiles; ++t) {
    std::fill(sum.begin(), sum.end(), 0.0);
    for (int32_t i = offsets[t]; i < offsets[t + 1]; ++i) {
      const float* row = x + (static_cast<int64_t>(tokens[i]) * shape.n_head + head) * dim;
      for (int64_t d = 0; d < dim; ++d) sum[static_cast<size_t>(d)] += row[d];
    }
    const double inv = 1.0 / (offsets[t + 1] - offsets[t]);
    for (int64_t d = 0; d < dim; ++d) pooled[static_cast<size_t>(t * dim + d)] = static_cast<float>(sum[d] * inv);
  }
}

int64_t top_k_count(double keep, int64_t n_tiles) {
  return std::clamp<int64_t>(static_cast<int64_t>(std::ceil(keep * static_cast<double>(n_tiles) - 1e-9)), 1, n_tiles);
}

// The top-k key tiles of every query tile by pooled q . pooled k (ties: lower index), ascending.
std::vector<std::vector<int32_t>> sparse_tiles(const float* q, const float* k, const AttentionShape& shape,
                                               int64_t head, double keep, const std::vector<int32_t>& offsets,
                                               const std::vector<int32_t>& tokens, ThreadPool& pool) {
  std::vector<float> pq, pk;
  pool_tiles(q, shape, head, offsets, tokens, pq);
  pool_tiles(k, shape, head, offsets, tokens, pk);
  const int64_t n_tiles = static_cast<int64_t>(offsets.size()) - 1, dim = shape.head_dim;
  const int64_t top_k = top_k_count(keep, n_tiles);
  std::vector<std::vector<int32_t>> chosen(static_cast<size_t>(n_tiles));
  pool.parallel_for(n_tiles, [&](int64_t begin, int64_t end) {
  std::vector<double> score(static_cast<size_t>(n_tiles));
  std::vector<int32_t> order(static_cast<size_t>(n_tiles));
  for (int64_t qt = begin; qt < end; ++qt) {
    for (int64_t kt = 0; kt < n_tiles; ++kt) {
      double s = 0;
      for (int64_t d = 0; d < dim; ++d) s += static_cast<double>(pq[qt * dim + d]) * pk[kt * dim + d];
      score[static_cast<size_t>(kt)] = s;
    }
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + top_k, order.end(), [&](int32_t a, int32_t b) {
      return score[a] != score[b] ? score[a] > score[b] : a < b;
    });
    auto& c = chosen[static_cast<size_t>(qt)];
    c.assign(order.begin(), order.begin() + top_k);
    std::sort(c.begin(), c.end());
  }
  });
  return chosen;
}

// Attends every query tile to the key rows of its chosen tiles. q / out: [n, n_head, hd] (the full
// shape); kv: the K/V rows of head head0 (a row holds `heads` heads). With `pooled`, each unchosen
// key tile T is one more key row, K/V row n + T of kv (its means), with logit bias log |T|.
void attend_chosen(const float* q, const KvRows& kv, const AttentionShape& full, int64_t head0, int64_t heads,
                   const std::vector<std::vector<int32_t>>& chosen, bool pooled, float* out, ThreadPool& pool,
                   TiledAttentionScratch& s) {
  const int64_t n_tiles = static_cast<int64_t>(chosen.size()), dim = full.head_dim;
  const int64_t n = s.tile_offsets.back();
  s.slot_offsets.assign(static_cast<size_t>(n_tiles + 1), 0);
  for (int64_t qt = 0; qt < n_tiles; ++qt) {
    const auto& c = chosen[static_cast<size_t>(qt)];
    int64_t rows = pooled ? n_tiles - static_cast<int64_t>(c.size()) : 0;
    for (int32_t kt : c) rows += s.tile_offsets[kt + 1] - s.tile_offsets[kt];
    s.slot_offsets[static_cast<size_t>(qt + 1)] = static_cast<int32_t>(s.slot_offsets[static_cast<size_t>(qt)] + rows);
  }
  s.slots.resize(static_cast<size_t>(s.slot_offsets.back()));
  if (pooled) s.slot_bias.assign(static_cast<size_t>(s.slot_offsets.back()), 0.0f);
  pool.parallel_for(n_tiles, [&](int64_t begin, int64_t end) {
    for (int64_t qt = begin; qt < end; ++qt) {
      const auto& c = chosen[static_cast<size_t>(qt)];
      int32_t* dst = s.slots.data() + s.slot_offsets[static_cast<size_t>(qt)];
      int32_t* cursor = dst;
      for (int32_t kt : c) {
        cursor = std::copy(s.tile_tokens.begin() + s.tile_offsets[kt], s.tile_tokens.begin() + s.tile_offsets[kt + 1], cursor);
      }
      std::sort(dst, cursor);  // ascending token order: the dense op's visiting order
      if (!pooled) continue;
      float* bias = s.slot_bias.data() + (cursor - s.slots.data());
      size_t next = 0;  // c is ascending: walk it to skip the chosen tiles
      for (int32_t kt = 0; kt < static_cast<int32_t>(n_tiles); ++kt) {
        if (next < c.size() && c[next] == kt) {
          ++next;
          continue;
        }
        *cursor++ = static_cast<int32_t>(n + kt);
        *bias++ = static_cast<float>(std::log(static_cast<double>(s.tile_offsets[kt + 1] - s.tile_offsets[kt])));
      }
    }
  });
  s.seqs.resize(static_cast<size_t>(n_tiles));
  s.positions.resize(static_cast<size_t>(n));
  s.seq_of_token.resize(static_cast<size_t>(n));
  s.q_tiled.resize(static_cast<size_t>(n * heads * dim));
  s.out_tiled.resize(static_cast<size_t>(n * heads * dim));
  const int64_t row = full.n_head * dim, sub = heads * dim;
  for (int64_t qt = 0; qt < n_tiles; ++qt) {
    const int32_t first = s.slot_offsets[static_cast<size_t>(qt)];
    const int32_t n_kv = s.slot_offsets[static_cast<size_t>(qt + 1)] - first;
    s.seqs[static_cast<size_t>(qt)] = {s.slots.data() + first, n_kv, pooled ? s.slot_bias.data() + first : nullptr};
    for (int32_t i = s.tile_offsets[qt]; i < s.tile_offsets[qt + 1]; ++i) {
      s.positions[static_cast<size_t>(i)] = n_kv - 1;  // every chosen key is visible
      s.seq_of_token[static_cast<size_t>(i)] = static_cast<int32_t>(qt);
    }
  }
  pool.parallel_for(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      std::copy_n(q + s.tile_tokens[i] * row + head0 * dim, sub, s.q_tiled.data() + i * sub);
    }
  });
  const AttentionShape shape{heads, heads, dim, full.scale};
  attention(s.q_tiled.data(), s.positions.data(), s.seq_of_token.data(), n, kv, s.seqs.data(), shape,
            s.out_tiled.data(), pool);
  pool.parallel_for(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      std::copy_n(s.out_tiled.data() + i * sub, sub, out + s.tile_tokens[i] * row + head0 * dim);
    }
  });
}

// Head `head`'s K/V rows, contiguous, followed by each tile's mean key and value:
// s.kv_head = [n + n_tiles rows, (key, value), head_dim]; the means are summed in double.
KvRows gather_head_with_means(const float* k, const float* v, const AttentionShape& shape, int64_t head,
                              ThreadPool& pool, TiledAttentionScratch& s) {
  const int64_t n = s.tile_offsets.back(), n_tiles = static_cast<int64_t>(s.tile_offsets.size()) - 1;
  const int64_t dim = shape.head_dim, row = shape.n_head * dim, stride = 2 * dim;
  s.kv_head.resize(static_cast<size_t>((n + n_tiles) * stride));
  float* dst = s.kv_head.data();
  pool.parallel_for(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      std::copy_n(k + i * row + head * dim, dim, dst + i * stride);
      std::copy_n(v + i * row + head * dim, dim, dst + i * stride + dim);
    }
  });
  pool.parallel_for(n_tiles, [&](int64_t begin, int64_t end) {
    std::vector<double> sum(static_cast<size_t>(stride));
    for (int64_t t = begin; t < end; ++t) {
      std::fill(sum.begin(), sum.end(), 0.0);
      for (int32_t i = s.tile_offsets[t]; i < s.tile_offsets[t + 1]; ++i) {
        const float* src = dst + static_cast<int64_t>(s.tile_tokens[i]) * stride;
        for (int64_t d = 0; d < stride; ++d) sum[static_cast<size_t>(d)] += src[d];
      }
      const double inv = 1.0 / (s.tile_offsets[t + 1] - s.tile_offsets[t]);
      float* mean = dst + (n + t) * stride;
      for (int64_t d = 0; d < stride; ++d) mean[d] = static_cast<float>(sum[static_cast<size_t>(d)] * inv);
    }
  });
  return KvRows{dst, dst + dim, stride};
}

std::vector<std::vector<int32_t>> choose(const float* q, const float* k, const TileGrid& tg,
                                         const AttentionShape& shape, const TiledAttentionConfig& config, int64_t head,
                                         const TiledAttentionScratch& s, ThreadPool& pool) {
  if (config.mode == AttentionMode::kBlockSparse) {
    return sparse_tiles(q, k, shape, head, config.keep, s.tile_offsets, s.tile_tokens, pool);
  }
  std::vector<std::vector<int32_t>> chosen(static_cast<size_t>(tg.count()));
  for (int64_t qt = 0; qt < tg.count(); ++qt) chosen[static_cast<size_t>(qt)] = sliding_tiles(tg, config.window, qt);
  return chosen;
}

int64_t pairs(const std::vector<std::vector<int32_t>>& chosen) {
  int64_t total = 0;
  for (const auto& c : chosen) total += static_cast<int64_t>(c.size());
  return total;
}

}  // namespace

Expected<AttentionMode> parse_attention_mode(const std::string& text) {
  if (text == "dense") return AttentionMode::kDense;
  if (text == "sliding-tile") return AttentionMode::kSlidingTile;
  if (text == "block-sparse") return AttentionMode::kBlockSparse;
  return invalid_argument("attention mode must be dense, sliding-tile or block-sparse, not \"" + text + "\"");
}

const char* attention_mode_name(AttentionMode mode) {
  switch (mode) {
    case AttentionMode::kDense: return "dense";
    case AttentionMode::kSlidingTile: return "sliding-tile";
    case AttentionMode::kBlockSparse: return "block-sparse";
  }
  return "dense";
}

Expected<AttentionRest> parse_attention_rest(const std::string& text) {
  if (text == "drop") return AttentionRest::kDrop;
  if (text == "pooled") return AttentionRest::kPooled;
  return invalid_argument("attention rest must be drop or pooled, not \"" + text + "\"");
}

const char* attention_rest_name(AttentionRest rest) { return rest == AttentionRest::kPooled ? "pooled" : "drop"; }

Status validate_tiled_attention(const TiledAttentionConfig& c) {
  for (int a = 0; a < 3; ++a) {
    if (c.tile[static_cast<size_t>(a)] < 1 || c.tile[static_cast<size_t>(a)] > 4096) {
      return invalid_argument("attention tile sizes must be 1..4096 tokens per axis");
    }
    if (c.window[static_cast<size_t>(a)] < 1 || c.window[static_cast<size_t>(a)] > 4096) {
      return invalid_argument("attention window sizes must be 1..4096 tiles per axis");
    }
  }
  if (!(c.keep > 0.0 && c.keep <= 1.0)) return invalid_argument("block-sparse keep fraction must be in (0, 1]");
  return Status::ok();
}

std::vector<std::vector<int32_t>> select_key_tiles(const float* q, const float* k, const TokenGrid3& grid,
                                                   const AttentionShape& shape, const TiledAttentionConfig& config,
                                                   int64_t head, ThreadPool& pool) {
  CHECK(validate_tiled_attention(config).is_ok(), "select_key_tiles: invalid config");
  TiledAttentionScratch s;
  const TileGrid tg = build_tiles(grid, config.tile, s.tile_offsets, s.tile_tokens);
  if (config.mode == AttentionMode::kDense) {
    std::vector<int32_t> all(static_cast<size_t>(tg.count()));
    std::iota(all.begin(), all.end(), 0);
    return std::vector<std::vector<int32_t>>(static_cast<size_t>(tg.count()), all);
  }
  return choose(q, k, tg, shape, config, head, s, pool);
}

void attention_full_3d(const float* q, const float* k, const float* v, const TokenGrid3& grid,
                       const AttentionShape& shape, const TiledAttentionConfig& config, float* out, ThreadPool& pool,
                       TiledAttentionScratch& s, TiledAttentionStats* stats) {
  CHECK(shape.n_head == shape.n_head_kv && shape.n_head > 0, "attention_full_3d: needs n_head == n_head_kv");
  CHECK(validate_tiled_attention(config).is_ok(), "attention_full_3d: invalid config");
  const int64_t n = grid.n_tokens();
  CHECK(n > 0, "attention_full_3d: empty grid");
  const TileGrid tg = build_tiles(grid, config.tile, s.tile_offsets, s.tile_tokens);
  const int64_t total = tg.count() * tg.count() * shape.n_head;
  int64_t computed = total;
  int64_t pooled_pairs = 0;
  const int64_t row = shape.n_head * shape.head_dim;
  if (config.mode == AttentionMode::kDense) {
    attention_full(q, n, k, v, n, shape, out, pool);
  } else if (config.rest == AttentionRest::kPooled) {  // per head: its rows and tile means contiguous
    computed = 0;
    std::vector<std::vector<int32_t>> chosen;
    for (int64_t h = 0; h < shape.n_head; ++h) {
      if (h == 0 || config.mode == AttentionMode::kBlockSparse) chosen = choose(q, k, tg, shape, config, h, s, pool);
      computed += pairs(chosen);
      pooled_pairs += tg.count() * tg.count() - pairs(chosen);
      const KvRows kv = gather_head_with_means(k, v, shape, h, pool, s);
      attend_chosen(q, kv, shape, h, 1, chosen, true, out, pool, s);
    }
  } else if (config.mode == AttentionMode::kSlidingTile) {
    const auto chosen = choose(q, k, tg, shape, config, 0, s, pool);  // the same window for every head
    computed = pairs(chosen) * shape.n_head;
    attend_chosen(q, KvRows{k, v, row}, shape, 0, shape.n_head, chosen, false, out, pool, s);
  } else {
    computed = 0;
    for (int64_t h = 0; h < shape.n_head; ++h) {  // each head picks its own tiles
      const auto chosen = choose(q, k, tg, shape, config, h, s, pool);
      computed += pairs(chosen);
      attend_chosen(q, KvRows{k + h * shape.head_dim, v + h * shape.head_dim, row}, shape, h, 1, chosen, false, out,
                    pool, s);
    }
  }
  if (stats != nullptr) {
    stats->tile_pairs_computed += computed;
    stats->tile_pairs_total += total;
    stats->pooled_tile_pairs += pooled_pairs;
  }
}

}  // namespace frugal

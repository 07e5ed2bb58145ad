// Full attention over a 3D token grid with tile-sparse modes (ops layer): the video DiT's
// self-attention, dense or restricted to a subset of key tiles per query tile.
//   The grid [t, h, w] (tokens row-major, (f, h, w) order) is cut into tiles of tile[0] x tile[1] x
//   tile[2] tokens (edge tiles may be smaller). A query tile attends to a set of key tiles:
//   - dense:         every key tile (exactly attention_full);
//   - sliding-tile:  a 3D window of window[0] x window[1] x window[2] tiles around the query tile,
//                    shifted inward at the grid's edges so it keeps its size (as STA does; a window
//                    at least the grid's tile count on an axis covers the whole axis);
//   - block-sparse:  the top-k key tiles by the coarse score mean(q over the query tile) .
//                    mean(k over the key tile), chosen per head, k = ceil(keep * n_tiles) (the
//                    selection pass of VSA; ties go to the lower tile index).
//   Within the chosen tiles the arithmetic is attention()'s: the chosen key rows are visited in
//   ascending token order, so when every tile is chosen the result is attention_full's bit for bit.
//   The key tiles not chosen (the rest) are either dropped (rest = drop: softmax over the chosen
//   keys only) or pooled (rest = pooled): each stands in as ONE extra key row, its mean key with
//   the logit bias log(tile tokens) and its mean value, in the same softmax as the exact rows:
//     out = (sum_{j in chosen} e^{s q.k_j} v_j + sum_{T not chosen} |T| e^{s q.kbar_T} vbar_T) / (same without v)
//   i.e. each unchosen tile's softmax mass and value are approximated to first order around its
//   mean (the coarse stage of VSA, merged with the fine stage so nothing is counted twice). It
//   costs (n_tiles - chosen) extra rows per query (1/tile tokens of a dense row each).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/expected.h"
#include "core/thread_pool.h"
#include "ops/attention.h"

namespace frugal {

enum class AttentionMode { kDense, kSlidingTile, kBlockSparse };
// What the sparse modes do with the key tiles they do not attend exactly.
enum class AttentionRest { kDrop, kPooled };

// "dense" | "sliding-tile" | "block-sparse"; kInvalidArgument otherwise.
Expected<AttentionMode> parse_attention_mode(const std::string& text);
const char* attention_mode_name(AttentionMode mode);
// "drop" | "pooled"; kInvalidArgument otherwise.
Expected<AttentionRest> parse_attention_rest(const std::string& text);
const char* attention_rest_name(AttentionRest rest);

struct TiledAttentionConfig {
  AttentionMode mode = AttentionMode::kDense;
  std::array<int64_t, 3> tile{4, 4, 4};    // tokens per tile along (t, h, w), each >= 1
  std::array<int64_t, 3> window{3, 3, 3};  // sliding-tile: tiles per window along (t, h, w), each >= 1
  double keep = 0.25;                      // block-sparse: fraction of key tiles per query tile, (0, 1]
  AttentionRest rest = AttentionRest::kDrop;  // sparse modes: the unchosen key tiles dropped or pooled
};

// kInvalidArgument naming the field when a size is < 1 or keep is outside (0, 1].
Status validate_tiled_attention(const TiledAttentionConfig& config);

// (query tile, key tile) pairs attended, summed over heads and calls.
struct TiledAttentionStats {
  int64_t tile_pairs_computed = 0;
  int64_t tile_pairs_total = 0;  // what dense attention would have computed
  int64_t pooled_tile_pairs = 0;  // rest = pooled: (query tile, key tile) pairs attended as one mean row
  double fraction() const {
    return tile_pairs_total > 0 ? static_cast<double>(tile_pairs_computed) / static_cast<double>(tile_pairs_total) : 1.0;
  }
};

struct TokenGrid3 {
  int64_t t = 0, h = 0, w = 0;
  int64_t n_tokens() const { return t * h * w; }
};

// Working memory of the sparse modes, reused across calls (resized, never shrunk).
struct TiledAttentionScratch {
  std::vector<int32_t> tile_offsets, tile_tokens;  // CSR: tokens of each tile, ascending
  std::vector<float> q_tiled, out_tiled;           // queries / outputs in tile order
  std::vector<float> pooled_q, pooled_k, coarse;   // block-sparse: [n_tiles, head_dim] means, scores
  std::vector<int32_t> selected;                   // [n_tiles, k] chosen key tiles
  std::vector<int32_t> slot_offsets, slots;        // CSR: each query tile's key rows, ascending
  std::vector<float> kv_head, slot_bias;           // rest = pooled: [n + n_tiles, 2, head_dim] K/V of one head
                                                   // (rows n.. the tile means), per-slot logit bias
  std::vector<int32_t> positions, seq_of_token;
  std::vector<AttentionSeq> seqs;
};

// out = attention of q over (k, v) on `grid` with the config's mode (no heads grouping: n_head_kv
// must equal n_head). q, k, v, out: [n, n_head, head_dim], n = grid.n_tokens(). Adds the pairs
// attended to *stats when it is non-null. The config must be valid (CHECKed).
void attention_full_3d(const float* q, const float* k, const float* v, const TokenGrid3& grid,
                       const AttentionShape& shape, const TiledAttentionConfig& config, float* out, ThreadPool& pool,
                       TiledAttentionScratch& scratch, TiledAttentionStats* stats);

// The key tiles each query tile attends to under `config` for head `head` (sorted ascending;
// tiles numbered row-major over the tile grid). For tests and tools; attention_full_3d uses it.
std::vector<std::vector<int32_t>> select_key_tiles(const float* q, const float* k, const TokenGrid3& grid,
                                                   const AttentionShape& shape, const TiledAttentionConfig& config,
                                                   int64_t head, ThreadPool& pool);

}  // namespace frugal

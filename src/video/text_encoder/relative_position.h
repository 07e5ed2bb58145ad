// T5's relative-position buckets (video text_encoder layer): which learned bias a query/key pair uses,
// as T5RelativeEmbedding._relative_position_bucket of wan/modules/t5.py computes it.
#pragma once

#include <cstdint>
#include <vector>

namespace frugal::video {

// The bucket of rel_pos = key_pos − query_pos. Bidirectional (the encoder): half the buckets per
// direction, +num_buckets/2 when the key is after the query. Within a direction of n buckets, offsets
// below n/2 get their own bucket; larger ones share log-spaced buckets
//   n/2 + trunc(log(|rel| / (n/2)) / log(max_distance / (n/2)) · (n − n/2)), at most n − 1,
// evaluated in float32 as torch does (float64 gives the same table for T5's 32 buckets / 128).
// Unidirectional (a decoder): only keys at or before the query are told apart.
int32_t t5_relative_bucket(int64_t rel_pos, int64_t num_buckets, int64_t max_distance, bool bidirectional);

// The buckets of every offset k − q of an n_q × n_kv attention, indexed (k − q) + n_q − 1, as
// ops/attention_bias.h's RelativeBias::offset_bucket wants them.   [n_q + n_kv − 1]
std::vector<int32_t> t5_offset_buckets(int64_t n_q, int64_t n_kv, int64_t num_buckets, int64_t max_distance,
                                       bool bidirectional);

}  // namespace frugal::video

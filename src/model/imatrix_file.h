// Importance-matrix files (model layer): per weight matrix, the sum over calibration tokens of the
// square of each input column's activation, and how many tokens were summed. Both of llama.cpp's
// layouts (tools/imatrix at 34af94cd) are read; either is written, so files interchange with
// llama-imatrix and llama-quantize both ways (docs/design/imatrix.md):
//   GGUF (default): general.type = "imatrix", imatrix.datasets [string], imatrix.chunk_count u32,
//     imatrix.chunk_size u32; per matrix NAME two F32 tensors, NAME.in_sum2 [n_cols, n_mat] (raw
//     sums of x^2) and NAME.counts [1, n_mat] (tokens), names sorted.
//   legacy .dat: int32 n_entries, then per entry int32 name length, name bytes, int32 ncall,
//     int32 n_values, f32 values[n_values] = mean(x^2) * ncall; then int32 chunk count, int32
//     dataset-name length, dataset-name bytes (the trailer is optional when reading).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/expected.h"

namespace frugal {

struct ImatrixEntry {
  std::vector<float> sums;      // [n_mat, n_cols]: sum of x^2 (legacy files: mean * ncall)
  std::vector<int64_t> counts;  // [n_mat]: tokens summed (legacy files: ncall)
};

struct Imatrix {
  std::map<std::string, ImatrixEntry> entries;  // by weight tensor name, e.g. "blk.0.attn_q.weight"
  std::vector<std::string> datasets;            // calibration file names
  int64_t chunk_count = 0;                      // windows processed
  int64_t chunk_size = 0;                       // tokens per window (0 in legacy files)

  // mean(x^2) per input column of `tensor` for its first (dense: only) matrix: sums / count,
  // 1 where the count is 0 (llama-quantize's rule). kNotFound when the file has no entry for the
  // tensor; kInvalidArgument when its column count is not n_cols.
  Expected<std::vector<float>> importance(const std::string& tensor, int64_t n_cols) const;
};

// Reads a GGUF or legacy imatrix (sniffed by the GGUF magic). kInvalidArgument names the file
// and what is wrong: truncated, no entries, a sums/counts pair missing or not F32, sizes that do
// not divide, negative or non-finite values.
Expected<Imatrix> read_imatrix(const std::string& path);

// Writes GGUF, or the legacy layout when path ends in ".dat".
Status write_imatrix(const Imatrix& imatrix, const std::string& path);

}  // namespace frugal

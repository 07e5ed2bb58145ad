// Importance-matrix collection (engine layer), the method of llama.cpp's llama-imatrix: the
// calibration tokens are cut into windows of n_ctx tokens, each window's first token replaced by
// BOS, each window run from an empty context; for every weight matrix of the transformer blocks
// ("blk.*") the square of each input column is summed over every token, with the token count.
// importance[j] = sum / count is then the mean square of the activation column j multiplies,
// which `frugal quantize --imatrix` uses to weight the rounding error (docs/design/imatrix.md).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/expected.h"
#include "model/imatrix_file.h"
#include "model/model.h"

namespace frugal {

struct ImatrixOptions {
  int64_t n_ctx = 0;            // window length in tokens (BOS included); 0 = the model's training context
  int64_t max_chunks = -1;      // < 0: every full window
  int num_threads = 0;          // 0 = default_num_threads()
  bool include_output = false;  // also output.weight (llama-imatrix --process-output)
  std::string dataset;          // recorded in the file (imatrix.datasets)
};

// chunk_idx: windows done so far (1-based).
using ImatrixProgress = std::function<void(int64_t chunk_idx, int64_t n_chunks)>;

// tokens: the tokenized calibration text. bos_id < 0 keeps each window's own first token.
// Errors: n_ctx < 16 (llama-imatrix ignores products of fewer rows), a token outside the
// vocabulary, fewer tokens than one window, non-finite activations (names the tensor).
Expected<Imatrix> collect_imatrix(const Model& model, const std::vector<int32_t>& tokens, int32_t bos_id,
                                  const ImatrixOptions& options, const ImatrixProgress& progress = nullptr);

}  // namespace frugal

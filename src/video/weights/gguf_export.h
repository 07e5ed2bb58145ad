// Writes a component's weights as GGUF with quantized matrices (video/weights layer), the layout the
// community ships Wan DiTs in: the official tensor names; GGUF dimension order (ne[0] innermost);
// tensors of rank > 4 (the Conv3d patch embedding) stored as [out, in·k...] with their real shape
// under "comfy.gguf.orig_shape.<name>". Used by `frugal quantize` on a DiT and by the tests that
// check quantized DiTs against F32.
#pragma once

#include <string>

#include "core/status.h"
#include "core/thread_pool.h"
#include "tensor/dtype.h"
#include "video/weights/weight_store.h"

namespace frugal {

// Which tensors are quantized: weight matrices (".weight", rank ≥ 2, named in a Linear/Conv of the
// blocks or embeddings) whose rows are a whole number of `matrix_type` blocks. Everything else —
// norms, biases, modulations, the head, rows that do not fit the block size — stays F32, as the
// community's converters keep the small and sensitive tensors in full precision.
bool gguf_export_quantizes(const std::string& name, const std::vector<int64_t>& shape, DType matrix_type);

// store → path. `architecture` goes to general.architecture ("wan" for a DiT).
Status write_weights_gguf(const WeightStore& store, const std::string& path, DType matrix_type,
                          const std::string& architecture, ThreadPool& pool);

}  // namespace frugal

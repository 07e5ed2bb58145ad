// Quantization recipes (model layer): which type each tensor of a model gets for a file type such
// as Q4_K_M. The same mixtures llama.cpp's quantizer uses by default, so files are comparable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tensor/dtype.h"

namespace frugal {

enum class FileType { kF32, kF16, kBF16, kQ8_0, kQ4_0, kQ5_0, kQ4_K_M, kQ5_K_M, kQ6_K };

std::optional<FileType> file_type_from_name(std::string_view name);  // "q4_k_m", "Q8_0", "f16", ...
std::string_view file_type_name(FileType type);
// llama.cpp's general.file_type value (llama_ftype) for a file type.
uint32_t file_type_gguf_id(FileType type);

// The dtype a tensor gets. name: GGUF tensor name; row_len: ne[0]; n_layer: block count.
// 1-D tensors and MoE routers (ffn_gate_inp) stay F32; 3-D expert stacks are quantized row by row. The output matrix (output.weight, or token_embd.weight when tied) gets
// Q6_K in the quantized mixtures; attn_v/ffn_down get more bits in some layers for *_K_M. When a
// row length is not a multiple of the chosen type's block, the type falls back (Q8_0, then F16).
DType recipe_dtype(FileType type, std::string_view name, int n_dims, int64_t row_len, int64_t n_layer,
                   bool is_output_matrix);

}  // namespace frugal

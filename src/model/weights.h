// ModelWeights: the tensors of a decoder-only transformer, bound to a GGUF mapping (model layer).
// Matrices stay in the file's format (views into the mmap); 1-D norms and biases are converted to
// f32 once at load time.
#pragma once

#include <vector>

#include "core/expected.h"
#include "gguf/gguf_reader.h"
#include "model/config.h"
#include "ops/matmul.h"
#include "tensor/tensor_view.h"

namespace frugal {

struct LayerWeights {
  std::vector<float> attn_norm;  // [n_embd]
  TensorView wq;                 // [q_dim, n_embd]   (ne = {n_embd, q_dim})
  TensorView wk;                 // [kv_dim, n_embd]
  TensorView wv;                 // [kv_dim, n_embd]
  TensorView wo;                 // [n_embd, q_dim]
  std::vector<float> bq;         // [q_dim]  (empty without QKV bias)
  std::vector<float> bk;         // [kv_dim]
  std::vector<float> bv;         // [kv_dim]
  std::vector<float> q_norm;     // QkNorm::kPerHead: [head_dim]; kFull: [q_dim]; else empty
  std::vector<float> k_norm;     // QkNorm::kPerHead: [head_dim]; kFull: [kv_dim]
  std::vector<float> ffn_norm;   // [n_embd]
  // Dense FFN (config.n_expert == 0)
  TensorView w_gate;             // [n_ff, n_embd]
  TensorView w_up;               // [n_ff, n_embd]
  TensorView w_down;             // [n_embd, n_ff]
  // Mixture of experts (config.n_expert > 0). The 3-D ffn_*_exps tensors [n_expert, rows, cols]
  // are bound as one 2-D view per expert into the same mapping, so each expert is an ordinary matrix.
  TensorView gate_inp;                  // router [n_expert, n_embd]
  std::vector<TensorView> gate_exps;    // [n_expert] x [n_ff_exp, n_embd]
  std::vector<TensorView> up_exps;      // [n_expert] x [n_ff_exp, n_embd]
  std::vector<TensorView> down_exps;    // [n_expert] x [n_embd, n_ff_exp]
  std::vector<float> shexp_gate;        // shared expert's gate vector [n_embd] (empty without one)
  TensorView gate_shexp;                // [n_ff_shexp, n_embd]
  TensorView up_shexp;                  // [n_ff_shexp, n_embd]
  TensorView down_shexp;                // [n_embd, n_ff_shexp]
};

struct ModelWeights {
  TensorView token_embd;          // [n_vocab, n_embd]
  std::vector<float> output_norm; // [n_embd]
  TensorView output;              // [n_vocab, n_embd]; == token_embd when tied
  std::vector<LayerWeights> layers;
  PackedWeights packed;  // kernel-layout copies of the matrices (pack_matrices), if any
};

// Re-lays out every matrix the forward pass multiplies by (not token_embd, which is only gathered)
// for the kernel table in use, where it has a packed layout for the matrix's type. The file's pages
// of each packed matrix are then released (only the reference path and get_rows read them again,
// and they come back from the file).
void pack_matrices(ModelWeights& weights, const GgufFile& file);

// Binds and validates every tensor (presence, shape, type). Fills config.n_vocab and
// config.tied_output, and config.rope.freq_factors from `rope_freqs.weight` when present.
// Errors name the tensor, the expected and the actual shape.
Expected<ModelWeights> bind_weights(const GgufFile& file, ModelConfig& config);

}  // namespace frugal

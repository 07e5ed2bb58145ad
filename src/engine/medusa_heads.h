// MedusaHeads: K Medusa decoding heads on a frozen base model, loaded from a GGUF sidecar written by
// tools/train/medusa.py (engine layer). Head k (0-based) maps the base's final hidden row h (after
// output_norm, the row the output matrix multiplies) to z_k = h + SiLU(W_k h + b_k) and scores z_k
// with the BASE's output matrix: its argmax guesses the token k + 2 positions after h's token (the
// base's own row guesses k + 1 = 1). File layout: docs/design/speculative.md, "Medusa heads".
//
// NOTE (why the base's output matrix): a head then costs n_embd^2 + n_embd parameters instead of
// also n_vocab x n_embd, trains in minutes from little data, and all heads of all sequences are
// scored by ONE batched matmul over the output matrix (read once per step).
// Pairing: the file names the base's shape and a fingerprint (FNV-1a 64 of output_norm.weight as
// f32 bytes: kept in f32 by every quantization, so a quantized copy of the base still matches);
// a file made for another model is a load error, never silently bad proposals.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/expected.h"
#include "core/thread_pool.h"
#include "gguf/gguf_reader.h"
#include "model/model.h"
#include "ops/matmul.h"

namespace frugal {

// The fingerprint medusa.py stores for a base: 16 lowercase hex digits.
std::string medusa_base_fingerprint(const Model& base);

class MedusaHeads {
 public:
  // Errors (invalid_argument, naming the file): not a medusa GGUF, bad/missing tensors, a base of
  // another shape or fingerprint.
  static Expected<std::shared_ptr<const MedusaHeads>> load(const std::string& path, const Model& base);

  int32_t num_heads() const { return num_heads_; }
  int32_t top_ranks() const { return top_ranks_; }
  int64_t n_embd() const { return base_.config().n_embd; }
  const Model& base() const { return base_; }
  // Cumulative held-out top-r accuracy of head k at [k * top_ranks() + r - 1] (the trainer's table).
  const std::vector<float>& accuracy() const { return accuracy_; }
  // The candidate tree measured from joint acceptance (medusa.tree.*: most likely node first,
  // parents first; empty for files without one). Checked at load: parent in [-1, i), rank <
  // top_ranks, depth <= num_heads, chance in [0, 1].
  const std::vector<int32_t>& tree_parent() const { return tree_parent_; }
  const std::vector<int32_t>& tree_rank() const { return tree_rank_; }
  const std::vector<float>& tree_chance() const { return tree_chance_; }

  // The token ids the heads score (medusa.shortlist, ascending; empty = the whole vocabulary).
  const std::vector<int32_t>& shortlist() const { return shortlist_; }

  // hidden: [n, n_embd] final-norm rows of the base. out: [n, heads, ranks] token ids of heads
  // 0 .. heads - 1 (heads <= num_heads(): a tree of depth d needs only the first d), each head's
  // best first. ranks <= n_vocab. Scratch buffers are the caller's (engine thread).
  struct Scratch {
    std::vector<float> pre, z, logits;
    std::vector<MatmulTarget> targets;
    std::vector<int32_t> order;
    MatmulScratch matmul;
  };
  void top_tokens(const float* hidden, int64_t n, int32_t heads, int32_t ranks, ThreadPool& pool, Scratch& scratch,
                  std::vector<int32_t>& out) const;

 private:
  MedusaHeads(GgufFile file, const Model& base) : file_(std::move(file)), base_(base) {}
  Status load_tree(const std::string& path);       // medusa.tree.*, when present
  Status load_shortlist(const std::string& path);  // medusa.shortlist, when present
  void prepare_weights();                          // f16 packed copies of the W_k

  GgufFile file_;  // owns the mapped tensors
  const Model& base_;
  int32_t num_heads_ = 0;
  int32_t top_ranks_ = 0;
  std::vector<float> accuracy_;
  std::vector<int32_t> tree_parent_, tree_rank_;
  std::vector<float> tree_chance_;
  std::vector<TensorView> weights_;  // [K] each [n_embd, n_embd] F32 (the file's)
  std::vector<const float*> biases_;  // [K] each [n_embd]
  // NOTE (why F16 copies): the W_k are read once per step for one row each; F16 halves those
  // bytes and runs on the packed kernels of the base's own F16 matrices. The candidates are
  // proposals only (the target verifies every token), so rounding W_k to F16 cannot change output.
  std::vector<uint16_t> weights_f16_;   // [K, n_embd, n_embd]
  std::vector<TensorView> weights16_;   // [K] views of weights_f16_, packed
  std::vector<int32_t> shortlist_;      // [V'] ascending token ids, or empty
  std::vector<uint8_t> shortlist_rows_;  // [V'] rows of the base's output matrix, its dtype
  TensorView shortlist_output_;          // [V', n_embd] over shortlist_rows_, packed
  PackedWeights packed_;
};

}  // namespace frugal

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

  // hidden: [n, n_embd] final-norm rows of the base. out: [n, num_heads, ranks] token ids, each
  // head's best first. ranks <= n_vocab. Scratch buffers are the caller's (engine thread).
  struct Scratch {
    std::vector<float> pre, z, logits;
    MatmulScratch matmul;
  };
  void top_tokens(const float* hidden, int64_t n, int32_t ranks, ThreadPool& pool, Scratch& scratch,
                  std::vector<int32_t>& out) const;

 private:
  MedusaHeads(GgufFile file, const Model& base) : file_(std::move(file)), base_(base) {}

  GgufFile file_;  // owns the mapped tensors
  const Model& base_;
  int32_t num_heads_ = 0;
  int32_t top_ranks_ = 0;
  std::vector<float> accuracy_;
  std::vector<TensorView> weights_;  // [K] each [n_embd, n_embd]
  std::vector<const float*> biases_;  // [K] each [n_embd]
};

}  // namespace frugal

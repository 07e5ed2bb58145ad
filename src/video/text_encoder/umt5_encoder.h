// UmT5Encoder: Wan2.1's umT5-XXL text encoder (wan/modules/t5.py T5Encoder, shared_pos=False, as
// T5EncoderModel runs it) on the shared ops (video text_encoder layer). Token ids in, the DiT's text
// context out.
//
// Per block, x [L, dim]:
//   x += o(attention(norm1(x)))        no 1/√d scaling; score += this layer's own bias[h, bucket(k − q)];
//                                      masked keys' scores replaced by float32 min; float32 softmax
//   x += fc2(fc1(h) · gelu_tanh(gate(h))),  h = norm2(x)
// then a final norm; norms are T5's x · rsqrt(mean(x²) + 1e-6) · w. The embedding is not scaled.
//
// NOTE (padding): the reference pads the ids to text_len (512) and runs every position with the key
// mask, then keeps the first L = Σ mask rows. A masked key's score is float32 min, so its softmax weight
// is exactly 0; the bias depends only on k − q; and rows never mix outside attention. So for a mask of
// L ones followed by zeros, running only the L real positions computes the same rows (checked against
// a full padded run in tests/video/text_encoder/umt5_encoder_test.cc: bit-identical on t5_a's 17- and
// 300-token cases, since the matmul kernels give a row the same arithmetic at any batch size). encode()
// does that (up to 512/L times less work), and falls back to the full padded run for other masks.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "core/expected.h"
#include "core/thread_pool.h"
#include "video/text_encoder/umt5_config.h"
#include "video/weights/weight_store.h"

namespace frugal::video {

// Threading contract: a loaded encoder is immutable; encode()/forward() may run concurrently from
// several threads as long as each call has its own ThreadPool (a pool serves one caller at a time).
class UmT5Encoder {
 public:
  // Called after block `layer_idx` with its output x [n_rows, dim] (before the final norm).
  using BlockObserver = std::function<void(int64_t layer_idx, const float* x, int64_t n_rows)>;

  // Reads the config from the tensor shapes (infer_umt5_config), then every tensor with its shape
  // checked. kF32: every matrix dequantized to f32 (the reference numerics). kStored: matrices kept as
  // stored (BF16 stays BF16, activations rounded to BF16 by the matmul kernels). The token embedding
  // is always kept as stored: looking up rows dequantizes them exactly, so it costs no accuracy; it is
  // read in place from the mapped file (never copied; only the looked-up rows' pages are resident).
  static Expected<UmT5Encoder> load(const WeightStore& store, WeightPrecision precision);

  const UmT5Config& config() const { return config_; }
  WeightPrecision precision() const { return precision_; }

  // T5EncoderModel.__call__ for one prompt. ids, mask: [text_len] as the tokenizer pads them (ids < vocab,
  // mask 0/1). Returns [L, dim], L = Σ mask (L = 0 gives an empty result). kInvalidArgument on an id
  // outside the vocabulary, a mask value other than 0/1, or ids/mask of different lengths.
  Expected<std::vector<float>> encode(std::span<const int32_t> ids, std::span<const int32_t> mask, ThreadPool& pool,
                                      const BlockObserver* observer = nullptr) const;

  // T5Encoder.forward: every one of the n = ids.size() positions, keys masked by `mask` ([n] 0/1, or
  // empty for no mask). Returns [n, dim]. Same errors as encode().
  Expected<std::vector<float>> forward(std::span<const int32_t> ids, std::span<const int32_t> mask, ThreadPool& pool,
                                       const BlockObserver* observer = nullptr) const;

 private:
  struct Layer {
    std::vector<float> norm1;     // [dim]
    std::vector<float> norm2;     // [dim]
    std::vector<float> pos_bias;  // [num_buckets, num_heads]
    MatrixWeight q, k, v;         // [dim_attn, dim]
    MatrixWeight o;               // [dim, dim_attn]
    MatrixWeight gate, fc1;       // [dim_ffn, dim]
    MatrixWeight fc2;             // [dim, dim_ffn]
  };
  struct Workspace;

  static Expected<Layer> load_layer(const WeightStore& store, const UmT5Config& c, int64_t layer_idx,
                                    WeightPrecision precision);
  Status check_inputs(std::span<const int32_t> ids, std::span<const int32_t> mask) const;
  // x += o(attention(norm1(x))) over n rows.   x: [n, dim]
  void attention_block(const Layer& layer, int64_t n, const int32_t* key_mask, const std::vector<int32_t>& buckets,
                       Workspace& ws, ThreadPool& pool) const;
  // x += fc2(fc1(h) · gelu_tanh(gate(h))), h = norm2(x).   x: [n, dim]
  void ffn_block(const Layer& layer, int64_t n, Workspace& ws, ThreadPool& pool) const;

  UmT5Config config_;
  WeightPrecision precision_ = WeightPrecision::kF32;
  MatrixWeight token_embedding_;  // [vocab, dim], as stored, mapped from the file (MatrixUse::kMappedRows)
  std::vector<Layer> layers_;     // [num_layers]
  std::vector<float> final_norm_; // [dim]
};

}  // namespace frugal::video

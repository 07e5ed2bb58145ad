#include "ops/matmul.h"

#include <algorithm>

#include "core/check.h"
#include "kernels/kernel_table.h"

namespace frugal {
namespace {

// Rows per work item when splitting the output dimension across threads: large enough that a
// thread streams contiguous weight memory, small enough to balance 2..16 threads.
constexpr int64_t kRowsPerChunk = 16;
// Up to this many activation rows are quantized without a parallel region (~1 us per 2048 floats,
// about the cost of one pool wake-up and barrier).
constexpr int64_t kInlineQuantizeTokens = 4;

void matmul_fast(const TensorView& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool,
                 MatmulScratch& scratch) {
  const KernelTable& table = kernels();
  const int64_t k = w.row_elems();
  const int64_t n_out = w.num_rows();
  const DType act_dtype = activation_dtype(w.dtype);
  const int64_t act_row_bytes = dtype_row_bytes(act_dtype, k);
  const auto quantize = table.quantize_row[static_cast<size_t>(act_dtype)];
  CHECK(quantize != nullptr, "no activation quantizer for this weight type");
  scratch.act_bytes.resize(static_cast<size_t>(act_row_bytes * n_tokens) + 64);
  uint8_t* acts = scratch.act_bytes.data();

  // Phase 1: convert activations (one row per token) to the weight's activation format. A few
  // rows (decode) cost less than waking the pool, so they are converted on the calling thread.
  if (n_tokens <= kInlineQuantizeTokens) {
    for (int64_t t = 0; t < n_tokens; ++t) quantize(x + t * k, acts + t * act_row_bytes, k);
  } else {
    pool.parallel_for(n_tokens, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) quantize(x + t * k, acts + t * act_row_bytes, k);
    });
  }

  // Phase 2: each thread takes contiguous chunks of output rows for all tokens.
  const int64_t n_chunks = (n_out + kRowsPerChunk - 1) / kRowsPerChunk;
  pool.parallel_for(n_chunks, [&](int64_t chunk_begin, int64_t chunk_end) {
    MulMatArgs args;
    args.k = k;
    args.weights = w.data;
    args.weight_row_bytes = w.row_bytes();
    args.row_begin = chunk_begin * kRowsPerChunk;
    args.row_end = std::min(n_out, chunk_end * kRowsPerChunk);
    args.acts = acts;
    args.act_row_bytes = act_row_bytes;
    args.n_tokens = n_tokens;
    args.out = y;
    args.out_row_stride = n_out;
    table.mul_mat(w.dtype, args);
  });
}

void matmul_reference(const TensorView& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
  const KernelTable* ref = kernels_for(Isa::kRef);
  CHECK(ref != nullptr, "reference kernels missing");
  const auto dequantize = ref->dequantize_row[static_cast<size_t>(w.dtype)];
  CHECK(dequantize != nullptr, "no dequantizer for this weight type");
  const int64_t k = w.row_elems();
  const int64_t n_out = w.num_rows();
  pool.parallel_for(n_out, [&](int64_t begin, int64_t end) {
    std::vector<float> row(static_cast<size_t>(k));
    for (int64_t r = begin; r < end; ++r) {
      dequantize(w.row(r), row.data(), k);
      for (int64_t t = 0; t < n_tokens; ++t) {
        const float* xt = x + t * k;
        double acc = 0.0;
        for (int64_t i = 0; i < k; ++i) acc += static_cast<double>(row[i]) * xt[i];
        y[t * n_out + r] = static_cast<float>(acc);
      }
    }
  });
}

}  // namespace

void matmul(const TensorView& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool,
            MatmulScratch& scratch, MatmulPath path) {
  if (n_tokens <= 0) return;
  if (path == MatmulPath::kReference) {
    matmul_reference(w, x, n_tokens, y, pool);
  } else {
    matmul_fast(w, x, n_tokens, y, pool, scratch);
  }
}

void get_rows(const TensorView& table, const int32_t* ids, int64_t n_ids, float* out) {
  const KernelTable* ref = kernels_for(Isa::kRef);
  const auto dequantize = ref->dequantize_row[static_cast<size_t>(table.dtype)];
  CHECK(dequantize != nullptr, "no dequantizer for this embedding type");
  const int64_t k = table.row_elems();
  for (int64_t i = 0; i < n_ids; ++i) {
    DCHECK(ids[i] >= 0 && ids[i] < table.num_rows(), "token id out of range");
    dequantize(table.row(ids[i]), out + i * k, k);
  }
}

}  // namespace frugal

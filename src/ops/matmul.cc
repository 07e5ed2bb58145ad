#include "ops/matmul.h"

#include <algorithm>
#include <array>
#include <cstdlib>

#include "core/check.h"
#include "kernels/kernel_table.h"
#include "kernels/tile_q8_layout.h"
#include "quant/q8_0.h"
#include "quant/q8_k.h"

namespace frugal {
namespace {

// Rows per work item when splitting the output dimension across threads: large enough that a
// thread streams contiguous weight memory, small enough to balance 2..16 threads.
constexpr int64_t kRowsPerChunk = 16;
// Up to this many activation rows are quantized without a parallel region (~1 us per 2048 floats,
// about the cost of one pool wake-up and barrier).
constexpr int64_t kInlineQuantizeTokens = 4;
// matmul_multi: at most this many weights per call (Q/K/V is the largest group a layer has).
// Q/K/V, gate/up, or a MoE decode step's chosen experts' gate and up (top-8) plus a shared
// expert's (model/moe_ffn.cc splits longer lists).
constexpr int kMaxTargets = 18;

static_assert(kRowsPerChunk % kPackedRowGroup == 0, "work items must hold whole packed row groups");

// Activations converted to one activation format: [n_tokens, row_bytes].
struct ActBuffer {
  DType dtype = DType::kF32;
  const uint8_t* data = nullptr;
  int64_t row_bytes = 0;
  const int32_t* block_sums = nullptr;  // packed weights only: see MulMatArgs::act_block_sums
  const float* block_scales = nullptr;
  const uint16_t* bf16_hi = nullptr;     // packed F16 on AMX-BF16: see MulMatArgs::act_bf16_hi
  const uint16_t* bf16_lo = nullptr;
  const int8_t* i8 = nullptr;            // tile-Q8 weights: see MulMatArgs::act_i8
  const float* i8_scales = nullptr;
};

// The AMX-BF16 arithmetic of the F16-weight targets of a call (kOff: the FMA kernel): the table
// grants tiles, the mode (or, in kAuto, the caller) asks for them, enough tokens, k in whole
// 32-element tiles and every F16 target packed.
AmxF16Mode amx_f16_for(const MatmulTarget* targets, int n_targets, int64_t k, int64_t n_tokens,
                       const MatmulScratch& scratch) {
  AmxF16Mode mode = amx_f16_mode();
  if (mode == AmxF16Mode::kAuto) mode = scratch.tile_f16 ? AmxF16Mode::kX3 : AmxF16Mode::kOff;
  if (kernels().split_bf16 == nullptr || n_tokens < kAmxF16MinTokens || k % 32 != 0) return AmxF16Mode::kOff;
  for (int i = 0; i < n_targets; ++i) {
    if (targets[i].w->dtype == DType::kF16 && targets[i].w->packed == nullptr) return AmxF16Mode::kOff;
  }
  return mode;
}

// x [n_tokens, k] -> bf16 hi (and lo for bf16x3) planes in `storage`, tile-ordered
// (KernelTable::split_bf16), n_tokens rounded up to 16 with zero padding rows.
ActBuffer split_acts_bf16(bool x3, const float* x, int64_t k, int64_t n_tokens, ThreadPool& pool,
                          std::vector<uint16_t>& storage) {
  const int64_t padded = (n_tokens + 15) / 16 * 16;
  const int64_t plane = padded * k;
  storage.resize(static_cast<size_t>(x3 ? 2 * plane : plane));
  uint16_t* hi = storage.data();
  uint16_t* lo = x3 ? hi + plane : nullptr;
  if (padded > n_tokens) {  // the last token tile: zero, then its real rows written below
    const auto tile = static_cast<size_t>(16 * k);
    std::fill_n(hi + plane - 16 * k, tile, uint16_t{0});
    if (lo != nullptr) std::fill_n(lo + plane - 16 * k, tile, uint16_t{0});
  }
  const auto split = kernels().split_bf16;
  pool.parallel_for(n_tokens, [&](int64_t begin, int64_t end) { split(x, k, begin, end, hi, lo); });
  ActBuffer acts{DType::kF16, nullptr, 0};
  acts.bf16_hi = hi;
  acts.bf16_lo = lo;
  return acts;
}

// x [n_tokens, k] -> int8 A tiles and scales for tile-Q8 weights of `group`-element scale groups
// (KernelTable::tile_q8_quantize), n_tokens rounded up to 16 with zero padding tokens.
ActBuffer quantize_acts_tiles(const float* x, int64_t k, int64_t group, int64_t n_tokens, ThreadPool& pool,
                              MatmulScratch& scratch) {
  const int64_t padded = tile_q8::padded_tokens(n_tokens), kp = tile_q8::padded_k(k);
  scratch.act_i8.resize(static_cast<size_t>(padded * kp + 64));
  scratch.act_i8_scales.resize(static_cast<size_t>(padded * (kp / group)));
  auto* q = reinterpret_cast<int8_t*>((reinterpret_cast<uintptr_t>(scratch.act_i8.data()) + 63) & ~uintptr_t{63});
  float* scales = scratch.act_i8_scales.data();
  if (padded > n_tokens) std::fill_n(q + (padded - tile_q8::kRows) * kp, tile_q8::kRows * kp, int8_t{0});
  const auto quantize = kernels().tile_q8_quantize;
  const auto run = [&](int64_t begin, int64_t end) { quantize(x, k, group, begin, end, q, scales, padded); };
  if (n_tokens <= kInlineQuantizeTokens) {
    run(0, n_tokens);
  } else {
    pool.parallel_for(n_tokens, run);
  }
  ActBuffer acts{DType::kQ8_0, nullptr, 0};
  acts.i8 = q;
  acts.i8_scales = scales;
  return acts;
}

// The per-block sums and scales packed kernels need (Q8_0 or Q8_K activations; see MulMatArgs),
// in `sums` / `scales`.
void add_block_sums(ActBuffer& acts, int64_t k, int64_t n_tokens, std::vector<int32_t>& sums,
                    std::vector<float>& scales) {
  CHECK(acts.dtype == DType::kQ8_0 || acts.dtype == DType::kQ8_K, "packed weights take Q8_0 or Q8_K activations");
  const bool q8_k = acts.dtype == DType::kQ8_K;
  const int64_t n_blocks = k / (q8_k ? 256 : 32);
  sums.resize(static_cast<size_t>(n_tokens * k / (q8_k ? 16 : 32)));
  scales.resize(static_cast<size_t>(n_tokens * n_blocks));
  for (int64_t t = 0; t < n_tokens; ++t) {
    const uint8_t* row = acts.data + t * acts.row_bytes;
    if (q8_k) {
      q8_k_block_sums(row, n_blocks, n_tokens, sums.data() + t, scales.data() + t);
    } else {
      q8_0_block_sums(row, n_blocks, n_tokens, sums.data() + t, scales.data() + t);
    }
  }
  acts.block_sums = sums.data();
  acts.block_scales = scales.data();
}

// x [n_tokens, k] -> `dtype` rows in `storage`.
ActBuffer quantize_acts(DType dtype, const float* x, int64_t k, int64_t n_tokens, ThreadPool& pool,
                        std::vector<uint8_t>& storage) {
  const auto quantize = kernels().quantize_row[static_cast<size_t>(dtype)];
  CHECK(quantize != nullptr, "no activation quantizer for this weight type");
  const int64_t row_bytes = dtype_row_bytes(dtype, k);
  storage.resize(static_cast<size_t>(row_bytes * n_tokens) + 64);
  uint8_t* acts = storage.data();
  // A few rows (decode) cost less than waking the pool: converted on the calling thread.
  if (n_tokens <= kInlineQuantizeTokens) {
    for (int64_t t = 0; t < n_tokens; ++t) quantize(x + t * k, acts + t * row_bytes, k);
  } else {
    pool.parallel_for(n_tokens, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) quantize(x + t * k, acts + t * row_bytes, k);
    });
  }
  return ActBuffer{dtype, acts, row_bytes};
}

// Runs rows [row_begin, row_end) of w for every token.
void run_rows(const TensorView& w, const ActBuffer& acts, int64_t n_tokens, float* y, int64_t row_begin,
              int64_t row_end) {
  if (row_begin >= row_end) return;
  MulMatArgs args;
  args.k = w.row_elems();
  args.weights = w.packed != nullptr ? w.packed : w.data;
  args.weight_row_bytes = w.row_bytes();
  args.row_begin = row_begin;
  args.row_end = row_end;
  args.acts = acts.data;
  args.act_row_bytes = acts.row_bytes;
  args.n_tokens = n_tokens;
  args.out = y;
  args.out_row_stride = w.num_rows();
  if (w.packed != nullptr && w.packed_tile_group > 0) {
    args.tile_group = w.packed_tile_group;
    args.act_i8 = acts.i8;
    args.act_i8_scales = acts.i8_scales;
    kernels().tile_q8_mul_mat(args);
  } else if (w.packed != nullptr) {
    args.act_block_sums = acts.block_sums;
    args.act_block_scales = acts.block_scales;
    args.act_bf16_hi = acts.bf16_hi;
    args.act_bf16_lo = acts.bf16_lo;
    kernels().mul_mat_packed(w.dtype, args);
  } else {
    kernels().mul_mat(w.dtype, args);
  }
}

// Weight bytes per work item. Decode streams weights: 256 KiB items keep each thread's reads long
// and contiguous (the kernels prefetch a few rows ahead, which is wasted at an item's end) while
// leaving a dozen or more items per projection to share out. Prefill items may be larger because
// a kernel call repacks the activations of all tokens once (amortized over the item's rows).
constexpr int64_t kDecodeChunkBytes = 256 << 10;
constexpr int64_t kPrefillChunkBytes = 256 << 10;
// Prefill: at least this many items per thread over the whole call (load balance).
constexpr int64_t kPrefillChunksPerThread = 3;

// The rows of all targets, cut into work items of whole kRowsPerChunk-row groups.
struct ChunkPlan {
  std::array<int64_t, kMaxTargets + 1> first_chunk{};  // first item of target i; [n_targets] = total
  std::array<int64_t, kMaxTargets> rows_per_chunk{};
};

ChunkPlan plan_chunks(const MatmulTarget* targets, int n_targets, int64_t n_tokens, int num_threads) {
  int64_t total_bytes = 0;
  for (int i = 0; i < n_targets; ++i) total_bytes += targets[i].w->num_rows() * targets[i].w->row_bytes();
  int64_t chunk_bytes = kDecodeChunkBytes;
  if (num_threads == 1) {
    chunk_bytes = total_bytes;  // nothing to share: one kernel call per weight
  } else if (n_tokens > kInlineQuantizeTokens) {
    chunk_bytes = std::max(kPrefillChunkBytes, total_bytes / (kPrefillChunksPerThread * num_threads));
  }
  // Small weights (a 5.8 M-parameter model's 256 x 256 projection is 128 KiB): at least one item
  // per thread, or the call runs on one thread while the others wait (-7 % per decode pass of the
  // bundled target, alternated A/B).
  if (num_threads > 1) chunk_bytes = std::min(chunk_bytes, (total_bytes + num_threads - 1) / num_threads);
  ChunkPlan plan;
  for (int i = 0; i < n_targets; ++i) {
    const TensorView& w = *targets[i].w;
    const int64_t groups = std::max<int64_t>(1, chunk_bytes / (kRowsPerChunk * w.row_bytes()));
    const int64_t rows = groups * kRowsPerChunk;
    plan.rows_per_chunk[static_cast<size_t>(i)] = rows;
    plan.first_chunk[static_cast<size_t>(i) + 1] =
        plan.first_chunk[static_cast<size_t>(i)] + (w.num_rows() + rows - 1) / rows;
  }
  return plan;
}

void matmul_multi_fast(const MatmulTarget* targets, int n_targets, const float* x, int64_t n_tokens,
                       ThreadPool& pool, MatmulScratch& scratch) {
  const int64_t k = targets[0].w->row_elems();
  // At most two distinct activation formats (each weight dtype maps to one).
  std::array<ActBuffer, kMaxTargets> acts{};
  std::array<ActBuffer, 2> formats{};
  int n_formats = 0;
  const AmxF16Mode amx_f16 = amx_f16_for(targets, n_targets, k, n_tokens, scratch);
  ActBuffer tile_acts{};  // tile-Q8 weights' activations (one scale grouping per call)
  int64_t tile_group = 0;
  for (int i = 0; i < n_targets; ++i) {
    CHECK(targets[i].w->row_elems() == k, "matmul_multi: weights must share k");
    if (const int64_t group = targets[i].w->packed_tile_group; group > 0) {
      CHECK(tile_group == 0 || tile_group == group, "matmul_multi: tile-Q8 weights with different scale groups");
      if (tile_group == 0) tile_acts = quantize_acts_tiles(x, k, group, n_tokens, pool, scratch);
      tile_group = group;
      acts[static_cast<size_t>(i)] = tile_acts;
      continue;
    }
    const DType dtype = activation_dtype(targets[i].w->dtype);
    int f = 0;
    while (f < n_formats && formats[static_cast<size_t>(f)].dtype != dtype) ++f;
    if (f == n_formats) {
      CHECK(n_formats < 2, "matmul_multi: more than two activation formats");
      formats[static_cast<size_t>(f)] =
          amx_f16 != AmxF16Mode::kOff && dtype == DType::kF16
              ? split_acts_bf16(amx_f16 == AmxF16Mode::kX3, x, k, n_tokens, pool, scratch.act_bf16)
              : quantize_acts(dtype, x, k, n_tokens, pool, f == 0 ? scratch.act_bytes : scratch.act_bytes_alt);
      ++n_formats;
    }
    const bool needs_sums = dtype == DType::kQ8_0 || dtype == DType::kQ8_K;  // F16 activations are used as they are
    if (targets[i].w->packed != nullptr && needs_sums && formats[static_cast<size_t>(f)].block_sums == nullptr) {
      add_block_sums(formats[static_cast<size_t>(f)], k, n_tokens, f == 0 ? scratch.act_block_sums : scratch.act_block_sums_alt,
                     f == 0 ? scratch.act_block_scales : scratch.act_block_scales_alt);
    }
    acts[static_cast<size_t>(i)] = formats[static_cast<size_t>(f)];
  }
  const ChunkPlan plan = plan_chunks(targets, n_targets, n_tokens, pool.num_threads());
  pool.run_chunks(plan.first_chunk[static_cast<size_t>(n_targets)], [&](int64_t chunk_idx) {
    size_t i = 0;
    while (chunk_idx >= plan.first_chunk[i + 1]) ++i;
    const int64_t rows = plan.rows_per_chunk[i];
    const int64_t row_begin = (chunk_idx - plan.first_chunk[i]) * rows;
    const int64_t n_out = targets[i].w->num_rows();
    run_rows(*targets[i].w, acts[i], n_tokens, targets[i].y, row_begin, std::min(n_out, row_begin + rows));
  });
}

void matmul_reference(const TensorView& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
  const KernelTable* ref = kernels_for(Isa::kRef);
  CHECK(ref != nullptr, "reference kernels missing");
  const auto dequantize = ref->dequantize_row[static_cast<size_t>(w.dtype)];
  CHECK(dequantize != nullptr, "no dequantizer for this weight type");
  CHECK(w.data != nullptr, "reference matmul: this weight holds only its packed copy (load it for the reference path)");
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
  const MatmulTarget target{&w, y};
  matmul_multi(&target, 1, x, n_tokens, pool, scratch, path);
}

void matmul_multi(const MatmulTarget* targets, int n_targets, const float* x, int64_t n_tokens, ThreadPool& pool,
                  MatmulScratch& scratch, MatmulPath path) {
  if (n_tokens <= 0 || n_targets <= 0) return;
  CHECK(n_targets <= kMaxTargets, "matmul_multi: too many weights");
  if (path == MatmulPath::kReference) {
    for (int i = 0; i < n_targets; ++i) matmul_reference(*targets[i].w, x, n_tokens, targets[i].y, pool);
  } else {
    matmul_multi_fast(targets, n_targets, x, n_tokens, pool, scratch);
  }
}

uint8_t* PackedWeights::allocate(int64_t bytes) {
  const size_t size = (static_cast<size_t>(bytes) + 63) / 64 * 64;
  auto* p = static_cast<uint8_t*>(std::aligned_alloc(64, size));
  CHECK(p != nullptr, "out of memory packing weights");
  buffers_.emplace_back(p);
  return p;
}

void PackedWeights::Free::operator()(uint8_t* p) const { std::free(p); }

int64_t pack_for_kernels(TensorView& w, PackedWeights& storage, bool tiles) {
  const KernelTable& kt = kernels();
  if (w.data == nullptr) return 0;
  const int64_t n_rows = w.num_rows(), k = w.row_elems();
  if (tiles && w.dtype == DType::kQ8_0 && kt.tile_q8_mul_mat != nullptr && amx_q8_group() != kAmxQ8Off) {
    const int64_t group = tile_q8::fit_group(k, amx_q8_group());
    const int64_t bytes = tile_q8::packed_size(n_rows, k, group);
    uint8_t* out = storage.allocate(bytes);
    tile_q8::pack_rows(w.data, n_rows, k, group, out);
    w.packed = out;
    w.packed_tile_group = group;
    return bytes;
  }
  const auto size = kt.packed_size[static_cast<size_t>(w.dtype)];
  const auto pack = kt.pack_rows[static_cast<size_t>(w.dtype)];
  if (size == nullptr || pack == nullptr || kt.mul_mat_packed == nullptr) return 0;
  const int64_t bytes = size(n_rows, k);
  uint8_t* out = storage.allocate(bytes);
  pack(w.data, n_rows, k, out);
  w.packed = out;
  w.packed_tile_group = 0;
  return bytes;
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

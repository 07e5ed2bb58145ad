// The register-blocked V accumulation of attention (f32_vec.h's axpy_rows contract), written once
// over a vector-width traits type S and instantiated by each x86 ISA TU with its own registers
// (kernels layer; anonymous namespace: see x86_simd.h). S provides: V, kLanes, load(const float*),
// store(float*, V), set1(float), fmadd(a, b, c) = a * b + c rounded once.
// Per query: acc += w[i] * row i for each row in order, one fused multiply-add per vector, so a
// query's result never depends on how many others share its block.
#pragma once

#include <algorithm>
#include <cstdint>

namespace frugal::x86 {
namespace {

// dim == S::kLanes * kVecs, Q queries over rows [0, n): Q * kVecs accumulators stay in registers
// across the rows and each row is read once for all Q (independent chains hide the FMA latency).
template <typename S, int kVecs, int Q>
void axpy_rows_block(const float* w, int64_t w_stride, int64_t n, const float* base, const int64_t* offsets,
                     float* acc) {
  constexpr int64_t kDim = S::kLanes * kVecs;
  typename S::V av[Q][kVecs];
  for (int j = 0; j < Q; ++j)
    for (int v = 0; v < kVecs; ++v) av[j][v] = S::load(acc + j * kDim + S::kLanes * v);
  for (int64_t i = 0; i < n; ++i) {
    const float* r = base + offsets[i];
    for (int j = 0; j < Q; ++j) {
      const typename S::V wi = S::set1(w[j * w_stride + i]);
      for (int v = 0; v < kVecs; ++v) av[j][v] = S::fmadd(wi, S::load(r + S::kLanes * v), av[j][v]);
    }
  }
  for (int j = 0; j < Q; ++j)
    for (int v = 0; v < kVecs; ++v) S::store(acc + j * kDim + S::kLanes * v, av[j][v]);
}

// Queries [0, n_q) over rows [0, n) in blocks of Q, the rest with Q / 2 (each halving runs at most
// once).
template <typename S, int kVecs, int Q>
void axpy_rows_blocks(const float* w, int64_t w_stride, int64_t n_q, int64_t n, const float* base,
                      const int64_t* offsets, float* acc) {
  constexpr int64_t kDim = S::kLanes * kVecs;
  int64_t j = 0;
  for (; j + Q <= n_q; j += Q) axpy_rows_block<S, kVecs, Q>(w + j * w_stride, w_stride, n, base, offsets, acc + j * kDim);
  if constexpr (Q > 1) axpy_rows_blocks<S, kVecs, Q / 2>(w + j * w_stride, w_stride, n_q - j, n, base, offsets, acc + j * kDim);
}

// The rows every query takes go through blocks of up to kQ queries; each query's own further rows
// (a causal block: later tokens see more) follow, in order.
template <typename S, int kVecs, int kQ>
void axpy_rows_fixed(const float* w, int64_t w_stride, const int64_t* n_rows, int64_t n_q, const float* base,
                     const int64_t* offsets, float* acc) {
  constexpr int64_t kDim = S::kLanes * kVecs;
  if (n_q <= 0) return;
  const int64_t common = *std::min_element(n_rows, n_rows + n_q);
  axpy_rows_blocks<S, kVecs, kQ>(w, w_stride, n_q, common, base, offsets, acc);
  for (int64_t j = 0; j < n_q; ++j) {
    if (n_rows[j] > common) {
      axpy_rows_block<S, kVecs, 1>(w + j * w_stride + common, w_stride, n_rows[j] - common, base, offsets + common,
                                   acc + j * kDim);
    }
  }
}

}  // namespace
}  // namespace frugal::x86

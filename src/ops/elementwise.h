// Element-wise and row-wise f32 ops of a transformer block (ops layer): RMSNorm, LayerNorm, SwiGLU,
// GELU (tanh), SiLU, residual add, bias add. Plain loops the compiler vectorizes; they are a small share of a forward pass.
#pragma once

#include <cstdint>

namespace frugal {

struct KernelTable;

// out[t, :] = x[t, :] / sqrt(mean(x[t, :]^2) + eps) * weight[:]   x, out: [n_rows, n]; weight: [n]
// out may alias x.
void rms_norm(const float* x, const float* weight, int64_t n_rows, int64_t n, float eps, float* out);

// out[t, :] = (x[t, :] - mean) / sqrt(var + eps) * weight[:] + bias[:]   (PyTorch LayerNorm: biased
// variance; mean and variance accumulated in double). weight/bias may be null (elementwise_affine=False).
// x, out: [n_rows, n]; out may alias x.
void layer_norm(const float* x, const float* weight, const float* bias, int64_t n_rows, int64_t n, float eps,
                float* out);

// x[i] = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))   (PyTorch GELU(approximate="tanh")), x: [count].
// Computed as the identical x / (1 + exp(-2 sqrt(2/pi) (x + 0.044715 x^3))) with the kernel table's
// vector exp (exp_shifted_f32: std::exp on ref, within 2 ulp of it on x86), which also avoids the
// cancellation of 1 + tanh(u) for large negative x. The table in use (kernels()), or a given one.
void gelu_tanh_inplace(float* x, int64_t count);
void gelu_tanh_inplace(float* x, int64_t count, const KernelTable& table);

// x[i] = x[i] / (1 + exp(-x[i]))   (SiLU), x: [count]; std::exp per element.
void silu_inplace(float* x, int64_t count);
// The same with the kernel table's vector exp (exp_shifted_f32: std::exp on ref, within 2 ulp of it
// on x86), for the large activations of the VAE (hundreds of millions of elements per decode).
void silu_inplace(float* x, int64_t count, const KernelTable& table);

// gate[i] = silu(gate[i]) * up[i]   (SwiGLU), gate/up: [count]
void swiglu_inplace(float* gate, const float* up, int64_t count);

// x[i] += y[i]
void add_inplace(float* x, const float* y, int64_t count);

// x[t, :] += bias[:]   x: [n_rows, n]
void add_bias_rows(float* x, const float* bias, int64_t n_rows, int64_t n);

}  // namespace frugal

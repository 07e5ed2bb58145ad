// AMX-BF16 GEMM of f32 operands split into bf16 hi / lo (kernels layer, x86): the AVX-512 TU's
// KernelTable::bf16_tile_gemm (kernels/bf16_tile_gemm.h has the layouts and the products). Built
// for the VAE's convolutions: A = the weight rows (output channels) packed once at load by
// split_row, B = 16-pixel im2col strips split by split_strip; C rows (output channels) are stored
// row-major with the bias, i.e. straight into the convolution's channel-first output.
//
// Blocking (2 MiB L2 per core): column strips in blocks of 32 (512 pixels), row tiles in blocks of
// 16 (256 channels), k in chunks of 256 elements; the C tiles of a block (up to 512 KiB) live in a
// thread-local f32 buffer across the k chunks. The inner step is a 2 x 2 tile block (32 rows x 32
// columns: tmm0-3 C, tmm4-5 A, tmm6-7 B), 1 to 3 tile products per k tile by Bf16Products.
// Called only where cpu_features grants AMX-BF16.
#pragma once

#include "kernels/bf16_tile_gemm.h"

namespace frugal::x86 {

// The table entry (split_row and gemm below).
const Bf16TileGemm& amx_bf16_f32_kernels();

}  // namespace frugal::x86

// AMX-BF16 GEMM of f32 operands split into bf16 hi / lo (kernels layer, x86): the AVX-512 TU's
// KernelTable::bf16_tile_gemm (kernels/bf16_tile_gemm.h has the layouts and the products). Built
// for the VAE's convolutions: A = im2col rows (one per output pixel), B = the weight rows packed
// once at load; C comes out transposed (channel-first) with the bias added.
//
// Blocking (2 MiB L2 per core): row tiles in blocks of kAmxF32Tb (256 rows), k in chunks of
// kAmxF32Kc (256 elements), k chunks outermost so a block's A chunk (256 rows x 256 x 2 planes x
// 2 B = 256 KiB) stays in L2 while every column strip's B chunk (16 KiB per strip) streams past it
// once per block; the C tiles of the block x ALL columns live in a thread-local f32 buffer (tile
// order; 384 columns: 384 KiB) across the chunks. The inner step is a 2 x 2 tile block (32 rows x
// 32 columns: tmm0-3 C, tmm4-5 A, tmm6-7 B), 1 to 3 tile products per k tile by Bf16Products.
// Called only where cpu_features grants AMX-BF16.
#pragma once

#include "kernels/bf16_tile_gemm.h"

namespace frugal::x86 {

// The table entry (split_row and gemm below).
const Bf16TileGemm& amx_bf16_f32_kernels();

}  // namespace frugal::x86

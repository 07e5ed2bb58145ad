// TileOperands: the addressing every x86 mul_mat tile uses on a MulMatArgs (kernels layer):
// W row `row`, X token `token` and the output cell. Shared by the AVX2 and AVX-512 tiles.
#pragma once

#include <cstdint>

#include "kernels/kernel_table.h"

namespace frugal::x86 {
// Internal linkage: each ISA TU keeps its own copy, compiled with its own flags.
namespace {

struct TileOperands {
  const MulMatArgs& args;
  const uint8_t* weight_row(int64_t row) const {
    return static_cast<const uint8_t*>(args.weights) + row * args.weight_row_bytes;
  }
  const uint8_t* act_row(int64_t token) const {
    return static_cast<const uint8_t*>(args.acts) + token * args.act_row_bytes;
  }
  float& out(int64_t token, int64_t row) const { return args.out[token * args.out_row_stride + row]; }
};

}  // namespace
}  // namespace frugal::x86

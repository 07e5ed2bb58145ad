// The 64-byte AMX tile configuration (palette 1) that _tile_loadconfig reads (kernels layer, x86).
// Each AMX kernel fills colsb/rows for the tiles it uses and loads it once per call on its thread.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace frugal::x86 {

struct alignas(64) AmxTileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};  // bytes per row of tile i
  uint8_t rows[16] = {};    // rows of tile i
};

// A 2 x 2 block of C tiles (registers 0-3) kept in memory between k chunks, tile order (16 rows x 64
// bytes = 256 elements a tile): c00 at c, c01 = c + 256, c10 = c + c_stride * 256, c11 = c10 + 256.
// T is float (TDPBF16PS sums) or int32_t (TDPBSSD sums). The AMX kernels bracket their k loop with
// load_or_zero(first) and store().
template <typename T>
struct CTileBlock {
  T* c00;
  T* c01;
  T* c10;
  T* c11;
  CTileBlock(T* c, int64_t c_stride) : c00(c), c01(c + 256), c10(c + c_stride * 256), c11(c10 + 256) {}
  // Tiles 0-3 <- zero on the first chunk, else the partial sums stored by the previous chunk.
  __attribute__((target("amx-tile"))) void load_or_zero(bool first) const {
    if (first) {
      _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);  // NOLINT
    } else {
      _tile_loadd(0, c00, 64); _tile_loadd(1, c01, 64); _tile_loadd(2, c10, 64); _tile_loadd(3, c11, 64);  // NOLINT
    }
  }
  __attribute__((target("amx-tile"))) void store() const {
    _tile_stored(0, c00, 64); _tile_stored(1, c01, 64); _tile_stored(2, c10, 64); _tile_stored(3, c11, 64);  // NOLINT
  }
};

}  // namespace frugal::x86

// The 64-byte AMX tile configuration (palette 1) that _tile_loadconfig reads (kernels layer, x86).
// Each AMX kernel fills colsb/rows for the tiles it uses and loads it once per call on its thread.
#pragma once

#include <cstdint>

namespace frugal::x86 {

struct alignas(64) AmxTileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};  // bytes per row of tile i
  uint8_t rows[16] = {};    // rows of tile i
};

}  // namespace frugal::x86

// DType: element/block formats of tensors and their traits (tensor layer).
// Enum values equal GGML's type ids, as stored in GGUF tensor infos.
// A quant format is data: its block layout lives in quant/<fmt>.h; this table holds the sizes.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace frugal {

enum class DType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kBF16 = 30,
};

// Upper bound of the enum's numeric range, for tables indexed by DType.
inline constexpr uint32_t kDTypeTableSize = 40;

struct DTypeTraits {
  DType dtype;
  std::string_view name;     // "Q4_0", as llama.cpp prints it
  int64_t block_elems;       // elements per block (1 for plain floats)
  int64_t block_bytes;       // bytes per block
  bool is_quantized;
  bool supported;            // frugal can compute with it (load, dequantize, matmul)
};

// Traits of a GGML type id, or nullopt when the id is unknown to frugal.
std::optional<DTypeTraits> dtype_traits_from_id(uint32_t ggml_type_id);
const DTypeTraits& dtype_traits(DType dtype);
inline std::string_view dtype_name(DType dtype) { return dtype_traits(dtype).name; }
// Parses "q4_0", "Q4_0", "f16", ... (case-insensitive).
std::optional<DType> dtype_from_name(std::string_view name);

// Bytes of one row of n_elems elements; requires n_elems % block_elems == 0 (CHECKed).
int64_t dtype_row_bytes(DType dtype, int64_t n_elems);

}  // namespace frugal

#include "tensor/dtype.h"

#include <array>
#include <cctype>
#include <string>

#include "core/check.h"

namespace frugal {
namespace {

// Sizes follow the GGUF/GGML block layouts (see quant/*.h for each struct).
constexpr std::array<DTypeTraits, 15> kTraits = {{
    {DType::kF32, "F32", 1, 4, false, true},
    {DType::kF16, "F16", 1, 2, false, true},
    {DType::kQ4_0, "Q4_0", 32, 18, true, true},
    {DType::kQ4_1, "Q4_1", 32, 20, true, false},
    {DType::kQ5_0, "Q5_0", 32, 22, true, true},
    {DType::kQ5_1, "Q5_1", 32, 24, true, false},
    {DType::kQ8_0, "Q8_0", 32, 34, true, true},
    {DType::kQ8_1, "Q8_1", 32, 36, true, false},
    {DType::kQ2_K, "Q2_K", 256, 84, true, false},
    {DType::kQ3_K, "Q3_K", 256, 110, true, false},
    {DType::kQ4_K, "Q4_K", 256, 144, true, true},
    {DType::kQ5_K, "Q5_K", 256, 176, true, true},
    {DType::kQ6_K, "Q6_K", 256, 210, true, true},
    {DType::kQ8_K, "Q8_K", 256, 292, true, true},
    {DType::kBF16, "BF16", 1, 2, false, true},
}};

}  // namespace

std::optional<DTypeTraits> dtype_traits_from_id(uint32_t ggml_type_id) {
  for (const auto& t : kTraits) {
    if (static_cast<uint32_t>(t.dtype) == ggml_type_id) return t;
  }
  return std::nullopt;
}

const DTypeTraits& dtype_traits(DType dtype) {
  for (const auto& t : kTraits) {
    if (t.dtype == dtype) return t;
  }
  CHECK(false, "dtype_traits: unknown DType");
  return kTraits[0];
}

std::optional<DType> dtype_from_name(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const auto& t : kTraits) {
    if (t.name == upper) return t.dtype;
  }
  return std::nullopt;
}

int64_t dtype_row_bytes(DType dtype, int64_t n_elems) {
  const auto& t = dtype_traits(dtype);
  CHECK(n_elems % t.block_elems == 0, "row length is not a multiple of the block size");
  return n_elems / t.block_elems * t.block_bytes;
}

}  // namespace frugal

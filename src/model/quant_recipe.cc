#include "model/quant_recipe.h"

#include <array>
#include <cctype>
#include <string>

namespace frugal {
namespace {

struct FileTypeInfo {
  FileType type;
  std::string_view name;
  uint32_t gguf_id;  // llama_ftype
  DType base;
};

constexpr std::array<FileTypeInfo, 9> kFileTypes = {{
    {FileType::kF32, "F32", 0, DType::kF32},
    {FileType::kF16, "F16", 1, DType::kF16},
    {FileType::kBF16, "BF16", 32, DType::kBF16},
    {FileType::kQ8_0, "Q8_0", 7, DType::kQ8_0},
    {FileType::kQ4_0, "Q4_0", 2, DType::kQ4_0},
    {FileType::kQ5_0, "Q5_0", 8, DType::kQ5_0},
    {FileType::kQ4_K_M, "Q4_K_M", 15, DType::kQ4_K},
    {FileType::kQ5_K_M, "Q5_K_M", 17, DType::kQ5_K},
    {FileType::kQ6_K, "Q6_K", 18, DType::kQ6_K},
}};

const FileTypeInfo& info(FileType type) {
  for (const auto& i : kFileTypes) {
    if (i.type == type) return i;
  }
  return kFileTypes[0];
}

// Layers that get more bits in *_K_M mixtures: the first and last eighth, and every third between.
bool use_more_bits(int64_t layer_idx, int64_t n_layer) {
  return layer_idx < n_layer / 8 || layer_idx >= 7 * n_layer / 8 || (layer_idx - n_layer / 8) % 3 == 2;
}

int64_t layer_of(std::string_view name) {
  if (name.rfind("blk.", 0) != 0) return -1;
  int64_t v = 0;
  for (size_t i = 4; i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])); ++i) v = v * 10 + (name[i] - '0');
  return v;
}

bool fits(DType dtype, int64_t row_len) { return row_len % dtype_traits(dtype).block_elems == 0; }

}  // namespace

std::optional<FileType> file_type_from_name(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const auto& i : kFileTypes) {
    if (i.name == upper) return i.type;
  }
  return std::nullopt;
}

std::string_view file_type_name(FileType type) { return info(type).name; }
uint32_t file_type_gguf_id(FileType type) { return info(type).gguf_id; }

DType recipe_dtype(FileType type, std::string_view name, int n_dims, int64_t row_len, int64_t n_layer,
                   bool is_output_matrix) {
  // 1-D tensors and MoE routers (ffn_gate_inp; llama.cpp's converter writes them F32 and its quantizer keeps them).
  if (n_dims < 2 || name.find("ffn_gate_inp") != std::string_view::npos) return DType::kF32;
  const FileTypeInfo& fi = info(type);
  DType want = fi.base;
  const bool quantized = dtype_traits(fi.base).is_quantized;
  if (quantized && is_output_matrix) {
    want = DType::kQ6_K;
  } else if (type == FileType::kQ4_K_M || type == FileType::kQ5_K_M) {
    // ffn_down covers MoE's ffn_down_exps / ffn_down_shexp too, as in llama.cpp's mixture.
    const bool more_bits_tensor = name.find("attn_v.weight") != std::string_view::npos ||
                                  name.find("ffn_down") != std::string_view::npos;
    if (more_bits_tensor && use_more_bits(layer_of(name), n_layer)) want = DType::kQ6_K;
  }
  if (fits(want, row_len)) return want;
  if (quantized && fits(DType::kQ8_0, row_len)) return DType::kQ8_0;
  return DType::kF16;
}

}  // namespace frugal

// Safetensors reader: header, metadata and tensor index over a memory-mapped file (safetensors layer).
// Format: an 8-byte little-endian header length N, N bytes of JSON
//   {"__metadata__": {str: str}, "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, ...}
// then the data; offsets are relative to the end of the header.
// As hardened as the GGUF reader: the header length, JSON nesting, every dtype, shape, offset and
// size is validated against the file before use (sizes overflow-checked, ranges inside the data and
// not overlapping); a bad file yields a Status naming the tensor and the reason, never a crash.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/expected.h"
#include "core/mapped_file.h"

namespace frugal {

// Element types of the safetensors format (names as the format spells them).
enum class StDType {
  kF64, kF32, kF16, kBF16, kF8E4M3, kF8E5M2, kI64, kI32, kI16, kI8, kU8, kBool,
};
std::string_view st_dtype_name(StDType dtype);  // "F32", "F8_E4M3", ...
int64_t st_dtype_bytes(StDType dtype);
bool st_dtype_is_float(StDType dtype);

// Largest header the reader accepts: real headers are < 10 MB (a 14B shard lists ~1,000 tensors).
inline constexpr uint64_t kSafetensorsMaxHeaderBytes = uint64_t{100} << 20;
// Deepest JSON nesting in a valid header is 3 (object → tensor → shape array); deeper is rejected
// before parsing, so hostile nesting costs neither stack nor memory.
inline constexpr int kSafetensorsMaxJsonDepth = 4;
// Highest tensor rank accepted (real weights have ≤ 5: Conv3d).
inline constexpr int kSafetensorsMaxRank = 8;

struct SafetensorsTensor {
  std::string name;
  StDType dtype = StDType::kF32;
  std::vector<int64_t> shape;   // PyTorch order: outermost first
  uint64_t offset = 0;          // from the start of the data section
  uint64_t size_bytes = 0;
  const uint8_t* data = nullptr;  // inside the mapping; valid while the SafetensorsFile lives; may be unaligned
  int64_t num_elements() const;
};

class SafetensorsFile {
 public:
  static Expected<SafetensorsFile> open(const std::string& path);
  // Parses an already-mapped (or borrowed) buffer; takes ownership of the mapping.
  static Expected<SafetensorsFile> parse(MappedFile file);

  const std::string& path() const { return file_.path(); }
  size_t file_size_bytes() const { return file_.size_bytes(); }
  uint64_t data_offset() const { return data_offset_; }
  // See MappedFile::release_pages (tensor bytes a caller has copied elsewhere).
  void release_pages(const void* p, size_t bytes) const { file_.release_pages(p, bytes); }

  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Tensors sorted by name.
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  const SafetensorsTensor* find(std::string_view name) const;

 private:
  Status parse_header(std::string_view header);
  Status add_tensor(const std::string& name, const void* entry_json);

  MappedFile file_;
  uint64_t data_offset_ = 0;
  std::map<std::string, std::string> metadata_;
  std::vector<SafetensorsTensor> tensors_;
  std::unordered_map<std::string, size_t> index_;
};

// FP8 → f32, exact (every FP8 value is a float). E4M3 ("fn": no infinities, S.1111.111 is NaN);
// E5M2 (IEEE-like: the top byte of an F16).
float f8e4m3_to_f32(uint8_t bits);
float f8e5m2_to_f32(uint8_t bits);

// Converts a float tensor (F64/F32/F16/BF16/F8) to f32 into out[num_elements()], exactly where the
// value is representable (F64 rounds to nearest). Integer/bool dtypes give kInvalidArgument.
Status st_tensor_to_f32(const SafetensorsTensor& tensor, float* out);

}  // namespace frugal

// GGUF v3 reader: metadata and tensor index over a memory-mapped file (gguf layer).
// Spec: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
// Every count, length, offset and size is validated against the file size before use; a bad
// file yields a Status naming the key or tensor and the reason, never a crash or an OOB read.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/expected.h"
#include "core/mapped_file.h"
#include "tensor/tensor_view.h"

namespace frugal {

enum class GgufValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

std::string_view gguf_value_type_name(GgufValueType type);

// Alignment of the data section and of every tensor when `general.alignment` is absent.
inline constexpr uint64_t kGgufDefaultAlignment = 32;
// Deepest array nesting the reader accepts (an array of arrays has depth 2): bounds recursion
// on hostile input. Real files use depth 1.
inline constexpr int kGgufMaxArrayDepth = 8;
// Most array elements (summed over all keys and nesting levels) the reader materializes. Each
// element becomes a GgufValue of ~100 bytes while it may take 1 byte in the file, so this bounds
// memory on a large hostile file. Real files hold ~1M (a 256k vocab: tokens, scores, types, merges).
// Top-level keys count as values too.
inline constexpr uint64_t kGgufMaxMetadataValues = uint64_t{1} << 24;
// Most tensors the reader indexes (real models hold < 10k); bounds memory the same way.
inline constexpr uint64_t kGgufMaxTensors = uint64_t{1} << 20;

// One metadata value. Scalars use the field matching their type class; arrays hold elements of
// one type (which may itself be kArray: nested arrays are allowed by the spec).
struct GgufValue {
  GgufValueType type = GgufValueType::kUint8;
  uint64_t u64 = 0;      // kUint8/16/32/64, kBool (0/1)
  int64_t i64 = 0;       // kInt8/16/32/64
  double f64 = 0.0;      // kFloat32/64
  std::string str;       // kString
  GgufValueType array_type = GgufValueType::kUint8;  // element type when type == kArray
  std::vector<GgufValue> array;                      // elements when type == kArray

  bool is_integer() const;
  bool is_float() const;
  // Builders (CHECK that `type` belongs to the builder's class: kUint8/16/32/64 for make_uint, ...).
  static GgufValue make_uint(GgufValueType type, uint64_t value);
  static GgufValue make_int(GgufValueType type, int64_t value);
  static GgufValue make_float(GgufValueType type, double value);
  static GgufValue make_bool(bool value);
  static GgufValue make_string(std::string value);
  // Every element must have type elem_type (CHECKed).
  static GgufValue make_array(GgufValueType elem_type, std::vector<GgufValue> elems);
  // Human-readable rendering; arrays longer than max_elems are elided ("[1, 2, ... (N total)]").
  std::string to_string(size_t max_elems = 8) const;
};

struct GgufTensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  int n_dims = 0;
  std::array<int64_t, 4> ne = {1, 1, 1, 1};  // ne[0] innermost, as in the file
  uint64_t offset = 0;                        // from the start of the data section
  uint64_t size_bytes = 0;
  int64_t num_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

class GgufFile {
 public:
  static Expected<GgufFile> open(const std::string& path);
  // Parses an already-mapped (or borrowed) buffer; takes ownership of the mapping.
  static Expected<GgufFile> parse(MappedFile file);

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  const std::string& path() const { return file_.path(); }
  size_t file_size_bytes() const { return file_.size_bytes(); }
  // See MappedFile::release_pages (tensor bytes a caller has copied elsewhere).
  void release_pages(const void* p, size_t bytes) const { file_.release_pages(p, bytes); }
  uint64_t data_offset() const { return data_offset_; }

  // Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  const GgufValue* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // Typed getters: kNotFound when missing, kInvalidArgument (naming the key and both types) when
  // the stored type does not convert. Integers convert between widths when the value fits.
  Expected<std::string> get_string(std::string_view key) const;
  Expected<uint64_t> get_uint(std::string_view key) const;
  Expected<int64_t> get_int(std::string_view key) const;
  Expected<double> get_float(std::string_view key) const;   // any float or integer type
  Expected<bool> get_bool(std::string_view key) const;
  Expected<std::vector<std::string>> get_string_array(std::string_view key) const;
  Expected<std::vector<double>> get_float_array(std::string_view key) const;
  Expected<std::vector<int64_t>> get_int_array(std::string_view key) const;
  // Getters with a default when the key is absent (a present key of the wrong type is still an error).
  Expected<uint64_t> get_uint_or(std::string_view key, uint64_t fallback) const;
  Expected<double> get_float_or(std::string_view key, double fallback) const;
  Expected<bool> get_bool_or(std::string_view key, bool fallback) const;
  Expected<std::string> get_string_or(std::string_view key, std::string fallback) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;
  // A view of a tensor's bytes inside the mapping (valid while this GgufFile lives).
  TensorView tensor_view(const GgufTensorInfo& info) const;

 private:
  MappedFile file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::unordered_map<std::string, size_t> metadata_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace frugal

// Decoding of GGUF metadata values and tensor infos on a bounds-checked ByteCursor.
#include <cstdio>
#include <limits>
#include <string>
#include <utility>

#include "gguf/gguf_reader_internal.h"

namespace frugal::gguf_internal {
namespace {

constexpr uint32_t kMaxValueTypeId = static_cast<uint32_t>(GgufValueType::kFloat64);
constexpr uint32_t kMaxDims = 4;
constexpr size_t kMaxDisplayNameBytes = 80;

std::string at_offset(const ByteCursor& cursor) {
  return " at offset " + std::to_string(cursor.offset()) + " (file is " + std::to_string(cursor.size_bytes()) +
         " bytes)";
}

std::string key_prefix(std::string_view key) { return "gguf: key " + display_name(key) + ": "; }

// Bytes the smallest encoding of one element of `type` occupies: a scalar's width, a string's
// length field, an array's type + count fields. Used to bound counts before allocating.
uint64_t min_encoded_bytes(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kBool: return 1;
    case GgufValueType::kUint16:
    case GgufValueType::kInt16: return 2;
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kFloat32: return 4;
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
    case GgufValueType::kFloat64:
    case GgufValueType::kString: return 8;
    case GgufValueType::kArray: return 4 + 8;
  }
  return 1;
}

// Reads a fixed-width scalar into the GgufValue field matching its class.
bool read_scalar(ByteCursor& cursor, GgufValueType type, GgufValue* out) {
  switch (type) {
    case GgufValueType::kUint8: { uint8_t x; if (!cursor.read(&x)) return false; out->u64 = x; return true; }
    case GgufValueType::kUint16: { uint16_t x; if (!cursor.read(&x)) return false; out->u64 = x; return true; }
    case GgufValueType::kUint32: { uint32_t x; if (!cursor.read(&x)) return false; out->u64 = x; return true; }
    case GgufValueType::kUint64: return cursor.read(&out->u64);
    case GgufValueType::kInt8: { int8_t x; if (!cursor.read(&x)) return false; out->i64 = x; return true; }
    case GgufValueType::kInt16: { int16_t x; if (!cursor.read(&x)) return false; out->i64 = x; return true; }
    case GgufValueType::kInt32: { int32_t x; if (!cursor.read(&x)) return false; out->i64 = x; return true; }
    case GgufValueType::kInt64: return cursor.read(&out->i64);
    case GgufValueType::kFloat32: { float x; if (!cursor.read(&x)) return false; out->f64 = x; return true; }
    case GgufValueType::kFloat64: return cursor.read(&out->f64);
    case GgufValueType::kBool: { uint8_t x; if (!cursor.read(&x)) return false; out->u64 = x; return true; }
    case GgufValueType::kString:
    case GgufValueType::kArray: break;
  }
  return false;
}

Status read_array(ByteCursor& cursor, int depth, std::string_view key, uint64_t* values_left, GgufValue* out) {
  if (depth > kGgufMaxArrayDepth) {
    return data_loss(key_prefix(key) + "arrays nested deeper than " + std::to_string(kGgufMaxArrayDepth) + " levels");
  }
  uint32_t elem_type_id = 0;
  uint64_t count = 0;
  if (!cursor.read(&elem_type_id) || !cursor.read(&count)) {
    return data_loss(key_prefix(key) + "array header truncated" + at_offset(cursor));
  }
  if (elem_type_id > kMaxValueTypeId) {
    return data_loss(key_prefix(key) + "unknown array element type " + std::to_string(elem_type_id));
  }
  const auto elem_type = static_cast<GgufValueType>(elem_type_id);
  const uint64_t min_bytes = min_encoded_bytes(elem_type);
  if (count > cursor.remaining() / min_bytes) {
    return data_loss(key_prefix(key) + "array of " + std::to_string(count) + " " +
                     std::string(gguf_value_type_name(elem_type)) + " needs at least " +
                     (count > std::numeric_limits<uint64_t>::max() / min_bytes
                          ? std::string("2^64")
                          : std::to_string(count * min_bytes)) +
                     " bytes but only " + std::to_string(cursor.remaining()) + " remain" + at_offset(cursor));
  }
  if (count > *values_left) {
    return resource_exhausted(key_prefix(key) + "array of " + std::to_string(count) +
                              " elements exceeds the reader's limit of " + std::to_string(kGgufMaxMetadataValues) +
                              " metadata values in total");
  }
  *values_left -= count;
  out->array_type = elem_type;
  out->array.resize(static_cast<size_t>(count));
  for (auto& elem : out->array) {
    Status st = read_value(cursor, elem_type_id, depth + 1, key, values_left, &elem);
    if (!st) return st;
  }
  return Status::ok();
}

}  // namespace

std::string hex_byte(uint8_t byte) {
  static constexpr char kDigits[] = "0123456789abcdef";
  return {kDigits[byte >> 4], kDigits[byte & 0xf]};
}

std::string display_name(std::string_view name) {
  std::string out = "'";
  const size_t n_shown = name.size() < kMaxDisplayNameBytes ? name.size() : kMaxDisplayNameBytes;
  for (size_t byte_idx = 0; byte_idx < n_shown; ++byte_idx) {
    const auto byte = static_cast<uint8_t>(name[byte_idx]);
    if (byte < 0x20 || byte >= 0x7f || byte == '\'' || byte == '\\') {
      out += "\\x" + hex_byte(byte);
    } else {
      out.push_back(static_cast<char>(byte));
    }
  }
  out += "'";
  if (n_shown < name.size()) out += "... (" + std::to_string(name.size()) + " bytes)";
  return out;
}

Status read_string(ByteCursor& cursor, const std::string& what, std::string* out) {
  uint64_t len = 0;
  if (!cursor.read(&len)) return data_loss(what + ": string length truncated" + at_offset(cursor));
  std::string_view bytes;
  if (!cursor.read_bytes(len, &bytes)) {
    return data_loss(what + ": string of " + std::to_string(len) + " bytes extends past the end of the file" +
                     at_offset(cursor));
  }
  out->assign(bytes.data(), bytes.size());
  return Status::ok();
}

Status read_value(ByteCursor& cursor, uint32_t type_id, int depth, std::string_view key, uint64_t* values_left,
                  GgufValue* out) {
  if (type_id > kMaxValueTypeId) {
    return data_loss(key_prefix(key) + "unknown value type " + std::to_string(type_id));
  }
  out->type = static_cast<GgufValueType>(type_id);
  switch (out->type) {
    case GgufValueType::kString: {
      std::string_view bytes;
      const size_t start = cursor.offset();
      uint64_t len = 0;
      if (!cursor.read(&len)) return data_loss(key_prefix(key) + "string length truncated" + at_offset(cursor));
      if (!cursor.read_bytes(len, &bytes)) {
        return data_loss(key_prefix(key) + "string of " + std::to_string(len) + " bytes starting at offset " +
                         std::to_string(start) + " extends past the end of the file (" +
                         std::to_string(cursor.size_bytes()) + " bytes)");
      }
      out->str.assign(bytes.data(), bytes.size());
      return Status::ok();
    }
    case GgufValueType::kArray: return read_array(cursor, depth, key, values_left, out);
    default: break;
  }
  if (!read_scalar(cursor, out->type, out)) {
    return data_loss(key_prefix(key) + std::string(gguf_value_type_name(out->type)) + " value truncated" +
                     at_offset(cursor));
  }
  if (out->type == GgufValueType::kBool && out->u64 > 1) {
    return data_loss(key_prefix(key) + "bool value " + std::to_string(out->u64) + " is neither 0 nor 1");
  }
  return Status::ok();
}

Status read_tensor_info(ByteCursor& cursor, uint64_t tensor_idx, uint64_t n_tensors, GgufTensorInfo* info) {
  Status st = read_string(cursor, "gguf: tensor info " + std::to_string(tensor_idx) + " of " +
                                      std::to_string(n_tensors) + ": name", &info->name);
  if (!st) return st;
  const std::string prefix = "gguf: tensor " + display_name(info->name) + ": ";
  uint32_t n_dims = 0;
  if (!cursor.read(&n_dims)) return data_loss(prefix + "n_dims truncated" + at_offset(cursor));
  if (n_dims < 1 || n_dims > kMaxDims) {
    return data_loss(prefix + "n_dims " + std::to_string(n_dims) + " is not in 1.." + std::to_string(kMaxDims));
  }
  info->n_dims = static_cast<int>(n_dims);
  int64_t n_elems = 1;
  for (uint32_t dim_idx = 0; dim_idx < n_dims; ++dim_idx) {
    uint64_t dim = 0;
    if (!cursor.read(&dim)) return data_loss(prefix + "dims truncated" + at_offset(cursor));
    if (dim == 0 || dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return data_loss(prefix + "dim " + std::to_string(dim_idx) + " is " + std::to_string(dim) +
                       " (must be in 1..2^63-1)");
    }
    info->ne[dim_idx] = static_cast<int64_t>(dim);
    if (__builtin_mul_overflow(n_elems, info->ne[dim_idx], &n_elems)) {
      return data_loss(prefix + "element count overflows int64 (dims " + std::to_string(info->ne[0]) + " x " +
                       std::to_string(info->ne[1]) + " x " + std::to_string(info->ne[2]) + " x " +
                       std::to_string(info->ne[3]) + ")");
    }
  }
  uint32_t type_id = 0;
  uint64_t offset = 0;
  if (!cursor.read(&type_id) || !cursor.read(&offset)) {
    return data_loss(prefix + "type/offset truncated" + at_offset(cursor));
  }
  const auto traits = dtype_traits_from_id(type_id);
  if (!traits) return unimplemented(prefix + "unknown tensor type id " + std::to_string(type_id));
  if (!traits->supported) {
    return unimplemented(prefix + "tensor type " + std::string(traits->name) + " (id " + std::to_string(type_id) +
                         ") is not supported by frugal");
  }
  info->dtype = traits->dtype;
  info->offset = offset;
  if (info->ne[0] % traits->block_elems != 0) {
    return data_loss(prefix + "row length " + std::to_string(info->ne[0]) + " is not a multiple of the " +
                     std::string(traits->name) + " block size " + std::to_string(traits->block_elems));
  }
  // n_elems fits int64, so n_blocks does; n_blocks * block_bytes may not.
  const uint64_t n_blocks = static_cast<uint64_t>(n_elems / traits->block_elems);
  if (__builtin_mul_overflow(n_blocks, static_cast<uint64_t>(traits->block_bytes), &info->size_bytes)) {
    return data_loss(prefix + "size in bytes overflows uint64");
  }
  return Status::ok();
}

Status validate_tensor_data(const GgufTensorInfo& info, uint64_t alignment, uint64_t data_offset, size_t file_size) {
  const std::string prefix = "gguf: tensor " + display_name(info.name) + ": ";
  if (info.offset % alignment != 0) {
    return data_loss(prefix + "data offset " + std::to_string(info.offset) + " is not a multiple of the alignment " +
                     std::to_string(alignment));
  }
  // data_offset <= file_size is guaranteed by the caller when tensors exist.
  const uint64_t data_bytes = file_size - data_offset;
  if (info.offset > data_bytes || info.size_bytes > data_bytes - info.offset) {
    const bool offset_fits = info.offset <= std::numeric_limits<uint64_t>::max() - data_offset;
    return data_loss(prefix + "data [offset " + (offset_fits ? std::to_string(data_offset + info.offset)
                                                             : std::to_string(data_offset) + "+" +
                                                                   std::to_string(info.offset)) +
                     ", " + std::to_string(info.size_bytes) + " bytes] extends past end of file (" +
                     std::to_string(file_size) + " bytes)");
  }
  return Status::ok();
}

}  // namespace frugal::gguf_internal

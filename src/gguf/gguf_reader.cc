// GgufFile: parses the GGUF header, metadata and tensor index, validating every count, length,
// offset and size against the file size before it is used.
//
// Layout (all little-endian): magic "GGUF", uint32 version, uint64 n_tensors, uint64 n_kv,
// n_kv × {string key, uint32 type, value}, n_tensors × {string name, uint32 n_dims,
// uint64 ne[n_dims], uint32 type, uint64 offset}, padding to `alignment`, then the data section.
// The central defence: before trusting a count we check that the bytes left in the file could
// hold that many of the smallest possible encoded item, so no hostile count reserves memory or
// loops beyond what the file itself pays for.
#include <string>
#include <utility>

#include "gguf/byte_cursor.h"
#include "gguf/gguf_reader.h"
#include "gguf/gguf_reader_internal.h"

namespace frugal {
namespace {

using gguf_internal::ByteCursor;
using gguf_internal::display_name;

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as a little-endian uint32
constexpr size_t kHeaderBytes = 4 + 4 + 8 + 8;
// Smallest encoded metadata entry: empty key (8-byte length) + type (4) + a 1-byte scalar.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;
// Smallest encoded tensor info: empty name (8) + n_dims (4) + one dim (8) + type (4) + offset (8).
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;

std::string at_offset(const ByteCursor& cursor) {
  return " at offset " + std::to_string(cursor.offset()) + " (file is " +
         std::to_string(cursor.size_bytes()) + " bytes)";
}

Status read_header(ByteCursor& cursor, uint32_t* version, uint64_t* n_tensors, uint64_t* n_kv) {
  uint32_t magic = 0;
  if (!cursor.read(&magic)) {
    return data_loss("gguf: file too small for a GGUF header (" + std::to_string(cursor.size_bytes()) +
                     " bytes, need " + std::to_string(kHeaderBytes) + ")");
  }
  if (magic != kGgufMagic) {
    std::string shown;
    for (int byte_idx = 0; byte_idx < 4; ++byte_idx) {
      shown += gguf_internal::hex_byte(static_cast<uint8_t>(magic >> (8 * byte_idx)));
    }
    return invalid_argument("gguf: bad magic 0x" + shown + " (expected \"GGUF\" = 0x47475546): not a GGUF file");
  }
  if (!cursor.read(version)) return data_loss("gguf: header truncated: version missing" + at_offset(cursor));
  if (*version != 2 && *version != 3) {
    std::string hint;
    if (*version == 0x02000000 || *version == 0x03000000) hint = " (a big-endian GGUF file?)";
    if (*version == 1) hint = " (GGUF v1 used 32-bit counts; convert the file to v3)";
    return unimplemented("gguf: unsupported GGUF version " + std::to_string(*version) + hint +
                         "; supported versions are 2 and 3");
  }
  if (!cursor.read(n_tensors) || !cursor.read(n_kv)) {
    return data_loss("gguf: header truncated: tensor/metadata counts missing" + at_offset(cursor));
  }
  return Status::ok();
}

Status read_metadata(ByteCursor& cursor, uint64_t n_kv, std::vector<std::pair<std::string, GgufValue>>* metadata,
                     std::unordered_map<std::string, size_t>* index) {
  if (n_kv > cursor.remaining() / kMinKvBytes) {
    return data_loss("gguf: n_kv " + std::to_string(n_kv) + " cannot fit in the " +
                     std::to_string(cursor.remaining()) + " bytes after the header (each entry takes at least " +
                     std::to_string(kMinKvBytes) + " bytes)");
  }
  if (n_kv > kGgufMaxMetadataValues) {
    return resource_exhausted("gguf: n_kv " + std::to_string(n_kv) + " exceeds the reader's limit of " +
                              std::to_string(kGgufMaxMetadataValues) + " metadata values");
  }
  metadata->reserve(static_cast<size_t>(n_kv));
  index->reserve(static_cast<size_t>(n_kv));
  uint64_t values_left = kGgufMaxMetadataValues - n_kv;
  for (uint64_t kv_idx = 0; kv_idx < n_kv; ++kv_idx) {
    const std::string entry = "metadata entry " + std::to_string(kv_idx) + " of " + std::to_string(n_kv);
    std::string key;
    Status st = gguf_internal::read_string(cursor, "gguf: " + entry + ": key", &key);
    if (!st) return st;
    uint32_t type_id = 0;
    if (!cursor.read(&type_id)) {
      return data_loss("gguf: key " + display_name(key) + ": value type truncated" + at_offset(cursor));
    }
    GgufValue value;
    st = gguf_internal::read_value(cursor, type_id, 1, key, &values_left, &value);
    if (!st) return st;
    if (!index->emplace(key, metadata->size()).second) {
      return data_loss("gguf: duplicate key " + display_name(key));
    }
    metadata->emplace_back(std::move(key), std::move(value));
  }
  return Status::ok();
}

// general.alignment: any unsigned (or non-negative signed) integer type; must be a power of two.
Status read_alignment(const GgufFile& file, uint64_t* alignment) {
  const GgufValue* value = file.find("general.alignment");
  if (value == nullptr) {
    *alignment = kGgufDefaultAlignment;
    return Status::ok();
  }
  if (!value->is_integer()) {
    return data_loss("gguf: key 'general.alignment' has type " + std::string(gguf_value_type_name(value->type)) +
                     ", expected an unsigned integer");
  }
  const bool is_signed = value->type == GgufValueType::kInt8 || value->type == GgufValueType::kInt16 ||
                         value->type == GgufValueType::kInt32 || value->type == GgufValueType::kInt64;
  const uint64_t align = is_signed ? static_cast<uint64_t>(value->i64) : value->u64;
  if ((is_signed && value->i64 < 0) || align == 0 || (align & (align - 1)) != 0) {
    return data_loss("gguf: key 'general.alignment': alignment " + value->to_string() +
                     " is not a non-zero power of two");
  }
  *alignment = align;
  return Status::ok();
}

Status read_tensor_infos(ByteCursor& cursor, uint64_t n_tensors, std::vector<GgufTensorInfo>* tensors,
                         std::unordered_map<std::string, size_t>* index) {
  if (n_tensors > cursor.remaining() / kMinTensorInfoBytes) {
    return data_loss("gguf: n_tensors " + std::to_string(n_tensors) + " cannot fit in the " +
                     std::to_string(cursor.remaining()) + " bytes after the metadata (each tensor info takes " +
                     "at least " + std::to_string(kMinTensorInfoBytes) + " bytes)");
  }
  if (n_tensors > kGgufMaxTensors) {
    return resource_exhausted("gguf: n_tensors " + std::to_string(n_tensors) + " exceeds the reader's limit of " +
                              std::to_string(kGgufMaxTensors));
  }
  tensors->reserve(static_cast<size_t>(n_tensors));
  index->reserve(static_cast<size_t>(n_tensors));
  for (uint64_t tensor_idx = 0; tensor_idx < n_tensors; ++tensor_idx) {
    GgufTensorInfo info;
    Status st = gguf_internal::read_tensor_info(cursor, tensor_idx, n_tensors, &info);
    if (!st) return st;
    if (!index->emplace(info.name, tensors->size()).second) {
      return data_loss("gguf: duplicate tensor name " + display_name(info.name));
    }
    tensors->push_back(std::move(info));
  }
  return Status::ok();
}

// Aligns the data section start; with tensors present it must lie inside the file.
Status locate_data_section(uint64_t infos_end, uint64_t alignment, uint64_t n_tensors, size_t file_size,
                           uint64_t* data_offset) {
  const uint64_t rem = infos_end % alignment;
  uint64_t aligned = infos_end;
  if (rem != 0 && __builtin_add_overflow(infos_end, alignment - rem, &aligned)) {
    return data_loss("gguf: data section offset overflows with alignment " + std::to_string(alignment));
  }
  if (n_tensors > 0 && aligned > file_size) {
    return data_loss("gguf: data section starts at offset " + std::to_string(aligned) +
                     ", past the end of the file (" + std::to_string(file_size) + " bytes)");
  }
  *data_offset = aligned;
  return Status::ok();
}

}  // namespace

Expected<GgufFile> GgufFile::open(const std::string& path) {
  auto mapped = MappedFile::open(path);
  if (!mapped) return mapped.error();
  auto parsed = parse(std::move(mapped).value());
  if (!parsed) return Status(parsed.error().code(), parsed.error().message() + " [" + path + "]");
  return parsed;
}

Expected<GgufFile> GgufFile::parse(MappedFile file) {
  GgufFile out;
  out.file_ = std::move(file);
  ByteCursor cursor(out.file_.data(), out.file_.size_bytes());
  uint64_t n_tensors = 0;
  uint64_t n_kv = 0;
  Status st = read_header(cursor, &out.version_, &n_tensors, &n_kv);
  if (!st) return st;
  st = read_metadata(cursor, n_kv, &out.metadata_, &out.metadata_index_);
  if (!st) return st;
  st = read_alignment(out, &out.alignment_);
  if (!st) return st;
  st = read_tensor_infos(cursor, n_tensors, &out.tensors_, &out.tensor_index_);
  if (!st) return st;
  st = locate_data_section(cursor.offset(), out.alignment_, n_tensors, out.file_.size_bytes(), &out.data_offset_);
  if (!st) return st;
  for (const auto& info : out.tensors_) {
    st = gguf_internal::validate_tensor_data(info, out.alignment_, out.data_offset_, out.file_.size_bytes());
    if (!st) return st;
  }
  return out;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  const auto it = metadata_index_.find(std::string(key));
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  const auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

TensorView GgufFile::tensor_view(const GgufTensorInfo& info) const {
  TensorView view;
  view.dtype = info.dtype;
  view.ne = info.ne;
  view.n_dims = info.n_dims;
  view.data = file_.data() + data_offset_ + info.offset;
  return view;
}

}  // namespace frugal

// GgufWriter: serializes metadata and tensors as GGUF v3 (little-endian). Layout mirrors the
// reader: header, key/values, tensor infos, zero padding to `alignment`, then each tensor's bytes
// at an aligned offset. The file ends right after the last tensor (no trailing padding), so every
// strict prefix of a written file is detectably truncated.
#include "gguf/gguf_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "core/check.h"

namespace frugal {
namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" as a little-endian uint32
constexpr uint32_t kGgufVersion = 3;

class ByteSink {
 public:
  explicit ByteSink(std::vector<uint8_t>* out) : out_(out) {}

  template <typename T>
  void put(T value) {
    const size_t old_size = out_->size();
    out_->resize(old_size + sizeof(T));
    std::memcpy(out_->data() + old_size, &value, sizeof(T));
  }
  void put_string(const std::string& text) {
    put<uint64_t>(text.size());
    out_->insert(out_->end(), text.begin(), text.end());
  }
  void pad_to(uint64_t alignment) {
    while (out_->size() % alignment != 0) out_->push_back(0);
  }

 private:
  std::vector<uint8_t>* out_;
};

void put_value(ByteSink& sink, const GgufValue& value) {
  switch (value.type) {
    case GgufValueType::kUint8: sink.put(static_cast<uint8_t>(value.u64)); return;
    case GgufValueType::kUint16: sink.put(static_cast<uint16_t>(value.u64)); return;
    case GgufValueType::kUint32: sink.put(static_cast<uint32_t>(value.u64)); return;
    case GgufValueType::kUint64: sink.put(value.u64); return;
    case GgufValueType::kInt8: sink.put(static_cast<int8_t>(value.i64)); return;
    case GgufValueType::kInt16: sink.put(static_cast<int16_t>(value.i64)); return;
    case GgufValueType::kInt32: sink.put(static_cast<int32_t>(value.i64)); return;
    case GgufValueType::kInt64: sink.put(value.i64); return;
    case GgufValueType::kFloat32: sink.put(static_cast<float>(value.f64)); return;
    case GgufValueType::kFloat64: sink.put(value.f64); return;
    case GgufValueType::kBool: sink.put(static_cast<uint8_t>(value.u64 != 0 ? 1 : 0)); return;
    case GgufValueType::kString: sink.put_string(value.str); return;
    case GgufValueType::kArray:
      sink.put(static_cast<uint32_t>(value.array_type));
      sink.put<uint64_t>(value.array.size());
      for (const auto& elem : value.array) {
        CHECK(elem.type == value.array_type, "GgufWriter: array element type differs from array_type");
        put_value(sink, elem);
      }
      return;
  }
  CHECK(false, "GgufWriter: unknown GgufValueType");
}

uint64_t align_up(uint64_t offset, uint64_t alignment) { return (offset + alignment - 1) / alignment * alignment; }

}  // namespace

void GgufWriter::set(const std::string& key, GgufValue value) {
  for (auto& entry : metadata_) {
    if (entry.first == key) {
      entry.second = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(key, std::move(value));
}

void GgufWriter::set_string(const std::string& key, std::string value) {
  set(key, GgufValue::make_string(std::move(value)));
}
void GgufWriter::set_uint32(const std::string& key, uint32_t value) {
  set(key, GgufValue::make_uint(GgufValueType::kUint32, value));
}
void GgufWriter::set_int32(const std::string& key, int32_t value) {
  set(key, GgufValue::make_int(GgufValueType::kInt32, value));
}
void GgufWriter::set_uint64(const std::string& key, uint64_t value) {
  set(key, GgufValue::make_uint(GgufValueType::kUint64, value));
}
void GgufWriter::set_float32(const std::string& key, float value) {
  set(key, GgufValue::make_float(GgufValueType::kFloat32, value));
}
void GgufWriter::set_bool(const std::string& key, bool value) { set(key, GgufValue::make_bool(value)); }

void GgufWriter::set_string_array(const std::string& key, const std::vector<std::string>& values) {
  std::vector<GgufValue> elems;
  elems.reserve(values.size());
  for (const auto& text : values) elems.push_back(GgufValue::make_string(text));
  set(key, GgufValue::make_array(GgufValueType::kString, std::move(elems)));
}

void GgufWriter::set_float32_array(const std::string& key, const std::vector<float>& values) {
  std::vector<GgufValue> elems;
  elems.reserve(values.size());
  for (const float x : values) elems.push_back(GgufValue::make_float(GgufValueType::kFloat32, x));
  set(key, GgufValue::make_array(GgufValueType::kFloat32, std::move(elems)));
}

void GgufWriter::set_int32_array(const std::string& key, const std::vector<int32_t>& values) {
  std::vector<GgufValue> elems;
  elems.reserve(values.size());
  for (const int32_t x : values) elems.push_back(GgufValue::make_int(GgufValueType::kInt32, x));
  set(key, GgufValue::make_array(GgufValueType::kInt32, std::move(elems)));
}

void GgufWriter::add_tensor(const std::string& name, DType dtype, std::vector<int64_t> ne,
                            std::vector<uint8_t> bytes) {
  CHECK(!ne.empty() && ne.size() <= 4, "GgufWriter::add_tensor: n_dims must be 1..4");
  int64_t n_rows = 1;
  for (size_t dim_idx = 1; dim_idx < ne.size(); ++dim_idx) n_rows *= ne[dim_idx];
  const int64_t expected_bytes = dtype_row_bytes(dtype, ne[0]) * n_rows;
  CHECK(static_cast<int64_t>(bytes.size()) == expected_bytes,
        "GgufWriter::add_tensor: byte count does not match shape and dtype for tensor '" + name + "'");
  tensors_.push_back(PendingTensor{name, dtype, std::move(ne), std::move(bytes)});
}

std::vector<uint8_t> GgufWriter::serialize() const {
  CHECK(alignment_ > 0 && (alignment_ & (alignment_ - 1)) == 0, "GgufWriter: alignment must be a power of two");
  auto metadata = metadata_;
  // A non-default layout must be declared, or readers would look for tensors at 32-byte offsets.
  const bool has_alignment_key =
      std::any_of(metadata.begin(), metadata.end(), [](const auto& kv) { return kv.first == "general.alignment"; });
  if (alignment_ != kGgufDefaultAlignment && !has_alignment_key) {
    metadata.emplace_back("general.alignment", GgufValue::make_uint(GgufValueType::kUint32, alignment_));
  }
  std::vector<uint8_t> out;
  ByteSink sink(&out);
  sink.put(kGgufMagic);
  sink.put(kGgufVersion);
  sink.put<uint64_t>(tensors_.size());
  sink.put<uint64_t>(metadata.size());
  for (const auto& [key, value] : metadata) {
    sink.put_string(key);
    sink.put(static_cast<uint32_t>(value.type));
    put_value(sink, value);
  }
  uint64_t data_bytes = 0;
  for (const auto& tensor : tensors_) {
    sink.put_string(tensor.name);
    sink.put(static_cast<uint32_t>(tensor.ne.size()));
    for (const int64_t dim : tensor.ne) sink.put(static_cast<uint64_t>(dim));
    sink.put(static_cast<uint32_t>(tensor.dtype));
    data_bytes = align_up(data_bytes, alignment_);
    sink.put(data_bytes);
    data_bytes += tensor.bytes.size();
  }
  sink.pad_to(alignment_);
  for (const auto& tensor : tensors_) {
    sink.pad_to(alignment_);
    out.insert(out.end(), tensor.bytes.begin(), tensor.bytes.end());
  }
  return out;
}

Status GgufWriter::write(const std::string& path) const {
  const std::vector<uint8_t> bytes = serialize();
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return invalid_argument("gguf: cannot create '" + path + "': " + std::strerror(errno));
  }
  const size_t n_written = std::fwrite(bytes.data(), 1, bytes.size(), file);
  const int write_errno = errno;
  const bool close_failed = std::fclose(file) != 0;
  if (n_written != bytes.size() || close_failed) {
    return internal_error("gguf: writing '" + path + "' failed: " + std::strerror(write_errno));
  }
  return Status::ok();
}

}  // namespace frugal

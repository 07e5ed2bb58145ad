// Test helpers for the GGUF reader: a raw little-endian GGUF byte builder (so tests can write
// files no well-behaved writer would produce) and parsing of in-memory buffers.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "gguf/gguf_reader.h"

namespace frugal::gguf_test {

// Appends GGUF fields byte by byte; no validation at all.
class RawGguf {
 public:
  template <typename T>
  RawGguf& put(T value) {
    const size_t old_size = bytes_.size();
    bytes_.resize(old_size + sizeof(T));
    std::memcpy(bytes_.data() + old_size, &value, sizeof(T));
    return *this;
  }
  RawGguf& str(const std::string& text) {
    put<uint64_t>(text.size());
    bytes_.insert(bytes_.end(), text.begin(), text.end());
    return *this;
  }
  RawGguf& header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    bytes_.insert(bytes_.end(), {'G', 'G', 'U', 'F'});
    return put(version).put(n_tensors).put(n_kv);
  }
  RawGguf& kv_u32(const std::string& key, uint32_t value) {
    return str(key).put<uint32_t>(static_cast<uint32_t>(GgufValueType::kUint32)).put(value);
  }
  RawGguf& kv_str(const std::string& key, const std::string& value) {
    return str(key).put<uint32_t>(static_cast<uint32_t>(GgufValueType::kString)).str(value);
  }
  RawGguf& tensor_info(const std::string& name, const std::vector<uint64_t>& ne, uint32_t type_id,
                       uint64_t offset) {
    str(name).put<uint32_t>(static_cast<uint32_t>(ne.size()));
    for (const uint64_t dim : ne) put(dim);
    return put(type_id).put(offset);
  }
  RawGguf& pad_to(size_t alignment) {
    while (bytes_.size() % alignment != 0) bytes_.push_back(0);
    return *this;
  }
  RawGguf& zeros(size_t n) {
    bytes_.resize(bytes_.size() + n, 0);
    return *this;
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

// Parses `bytes` in place; the GgufFile borrows them, so they must outlive it.
inline Expected<GgufFile> parse_bytes(const std::vector<uint8_t>& bytes) {
  return GgufFile::parse(MappedFile::borrow(bytes.data(), bytes.size()));
}

template <typename T>
void patch(std::vector<uint8_t>* bytes, size_t offset, T value) {
  std::memcpy(bytes->data() + offset, &value, sizeof(T));
}

// Offset of the first occurrence of `needle` in `bytes` (tests use it to find a field to patch).
inline size_t find_bytes(const std::vector<uint8_t>& bytes, const std::string& needle) {
  for (size_t pos = 0; pos + needle.size() <= bytes.size(); ++pos) {
    if (std::memcmp(bytes.data() + pos, needle.data(), needle.size()) == 0) return pos;
  }
  return std::string::npos;
}

}  // namespace frugal::gguf_test

// ByteCursor: a bounds-checked little-endian reader over a byte span (gguf layer, internal).
// Every read checks the remaining length first and returns false instead of reading past the
// end, so a parser built on it cannot read out of bounds whatever the input holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace frugal::gguf_internal {

class ByteCursor {
 public:
  ByteCursor(const uint8_t* data, size_t size_bytes) : data_(data), size_bytes_(size_bytes) {}

  size_t offset() const { return offset_; }
  size_t size_bytes() const { return size_bytes_; }
  size_t remaining() const { return size_bytes_ - offset_; }

  // Reads one little-endian scalar of type T (an integer or float); false if too few bytes remain.
  // GGUF is little-endian and so are the hosts we build for (x86-64, aarch64 LE).
  template <typename T>
  bool read(T* out) {
    if (remaining() < sizeof(T)) return false;
    std::memcpy(out, data_ + offset_, sizeof(T));
    offset_ += sizeof(T);
    return true;
  }

  // A view of the next n bytes (valid while the underlying buffer lives); false if fewer remain.
  bool read_bytes(uint64_t n, std::string_view* out) {
    if (n > remaining()) return false;
    *out = std::string_view(reinterpret_cast<const char*>(data_ + offset_), static_cast<size_t>(n));
    offset_ += static_cast<size_t>(n);
    return true;
  }

  // A GGUF string: uint64 length, then that many bytes (not NUL-terminated).
  bool read_string(std::string_view* out) {
    uint64_t len = 0;
    const size_t start = offset_;
    if (!read(&len)) return false;
    if (!read_bytes(len, out)) {
      offset_ = start;
      return false;
    }
    return true;
  }

 private:
  const uint8_t* data_;
  size_t size_bytes_;
  size_t offset_ = 0;
};

}  // namespace frugal::gguf_internal

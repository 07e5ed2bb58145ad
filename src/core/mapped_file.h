// MappedFile: a read-only memory map of a whole file (core layer). Move-only; unmaps on destruction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/expected.h"

namespace frugal {

class MappedFile {
 public:
  static Expected<MappedFile> open(const std::string& path);
  // A "mapping" over caller-owned memory (used by fuzzers and tests); no ownership is taken.
  static MappedFile borrow(const uint8_t* data, size_t size_bytes);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const { return data_; }
  size_t size_bytes() const { return size_bytes_; }
  const std::string& path() const { return path_; }
  // The whole pages inside [p, p + bytes) are not needed for now (MADV_DONTNEED): this process drops
  // them and, should they be read again, they are read back from the file (the mapping is private
  // and never written). A no-op for borrowed buffers and for ranges outside the mapping.
  void release_pages(const void* p, size_t bytes) const;

 private:
  const uint8_t* data_ = nullptr;
  size_t size_bytes_ = 0;
  bool owned_ = false;
  std::string path_;
};

}  // namespace frugal

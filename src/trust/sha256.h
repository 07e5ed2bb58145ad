// SHA-256 through OpenSSL (trust layer): one-shot hex digests of bytes and files, and an
// incremental hasher for bytes that arrive in pieces (a streamed HTTP response).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/expected.h"

namespace frugal::trust {

// 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);
// The file's digest; kNotFound / kDataLoss naming the path when it cannot be read.
Expected<std::string> sha256_file_hex(const std::string& path);

// Incremental SHA-256. Threading contract: one thread at a time.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view bytes);
  // The digest of everything updated so far (64 hex digits); the hasher may not be updated after.
  std::string finish_hex();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "0123…": lowercase hex of raw bytes.
std::string bytes_to_hex(const unsigned char* bytes, size_t n);

}  // namespace frugal::trust

// GGUF v3 writer (gguf layer): used by `frugal mkmodel`, the training export and tests that
// build hostile files. Tensors are written in add order, each aligned to `alignment` bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "gguf/gguf_reader.h"

namespace frugal {

class GgufWriter {
 public:
  explicit GgufWriter(uint64_t alignment = 32) : alignment_(alignment) {}

  void set(const std::string& key, GgufValue value);  // replaces an existing key, else appends
  void set_string(const std::string& key, std::string value);
  void set_uint32(const std::string& key, uint32_t value);
  void set_int32(const std::string& key, int32_t value);
  void set_uint64(const std::string& key, uint64_t value);
  void set_float32(const std::string& key, float value);
  void set_bool(const std::string& key, bool value);
  void set_string_array(const std::string& key, const std::vector<std::string>& values);
  void set_float32_array(const std::string& key, const std::vector<float>& values);
  void set_int32_array(const std::string& key, const std::vector<int32_t>& values);

  // ne[0] innermost; bytes.size() must equal the tensor's size for dtype (CHECKed).
  void add_tensor(const std::string& name, DType dtype, std::vector<int64_t> ne, std::vector<uint8_t> bytes);

  // Serialized file bytes (for tests and fuzz seeds).
  std::vector<uint8_t> serialize() const;
  Status write(const std::string& path) const;

 private:
  struct PendingTensor {
    std::string name;
    DType dtype;
    std::vector<int64_t> ne;
    std::vector<uint8_t> bytes;
  };
  uint64_t alignment_;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace frugal

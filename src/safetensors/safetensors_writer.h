// Safetensors writer (safetensors layer): used by `frugal mkmodel --preset wan*`, converters and tests.
// Tensors are written in sorted name order (as the reference writer does); the header is padded with
// spaces to a multiple of 8 bytes so every tensor's data starts 8-byte aligned in the file.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "safetensors/safetensors_reader.h"

namespace frugal {

class SafetensorsWriter {
 public:
  // fill(dst) writes exactly the tensor's bytes (num_elements · dtype bytes) into dst; it is called once,
  // during write(), so a large model never needs all of its tensors in memory at once.
  using Fill = std::function<void(uint8_t* dst)>;

  void set_metadata(const std::string& key, const std::string& value) { metadata_[key] = value; }
  // Replaces a tensor of the same name.
  void add(const std::string& name, StDType dtype, std::vector<int64_t> shape, Fill fill);
  void add_bytes(const std::string& name, StDType dtype, std::vector<int64_t> shape, std::vector<uint8_t> bytes);
  void add_f32(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& values);

  // The JSON header (without the 8-byte length), as write() lays it out.
  std::string header() const;
  Status write(const std::string& path) const;
  // The whole file in memory (tests, fuzz seeds).
  std::vector<uint8_t> serialize() const;

 private:
  struct Pending {
    StDType dtype;
    std::vector<int64_t> shape;
    Fill fill;
    uint64_t size_bytes = 0;
  };
  std::map<std::string, std::string> metadata_;
  std::map<std::string, Pending> tensors_;  // sorted by name
};

}  // namespace frugal

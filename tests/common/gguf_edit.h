// Test helper: copy a GGUF file with edits (renamed/replaced metadata, dropped or transformed
// tensors) to build variants of the reference models in memory.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"

namespace frugal::testing {

struct GgufEdit {
  // Returns the new key ("" drops the key).
  std::function<std::string(const std::string& key)> rename_key;
  // Returns false to drop the tensor; may change dtype, shape and bytes.
  std::function<bool(const GgufTensorInfo& info, DType& dtype, std::vector<int64_t>& ne, std::vector<uint8_t>& bytes)>
      edit_tensor;
};

GgufWriter copy_gguf(const GgufFile& src, const GgufEdit& edit);

// Serializes and re-parses; fails the calling test on a parse error via the returned status.
Expected<GgufFile> parse_bytes(const std::vector<uint8_t>& bytes);

}  // namespace frugal::testing

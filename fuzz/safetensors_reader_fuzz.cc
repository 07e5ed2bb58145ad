// libFuzzer target for the safetensors reader: parses arbitrary bytes; on success converts every
// float tensor to f32 and reads every byte of every tensor, so ASan sees any out-of-bounds view the
// parser let through. Build: -DFRUGAL_FUZZ=ON with clang; run: scripts/run-fuzz BUILD_DIR SECONDS.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/mapped_file.h"
#include "safetensors/safetensors_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = frugal::SafetensorsFile::parse(frugal::MappedFile::borrow(data, size));
  if (!file) return 0;
  size_t sink_bytes = 0;
  for (const auto& [key, value] : file->metadata()) sink_bytes += key.size() + value.size();
  uint8_t checksum = 0;
  std::vector<float> f32;
  for (const auto& tensor : file->tensors()) {
    for (uint64_t byte_idx = 0; byte_idx < tensor.size_bytes; ++byte_idx) checksum ^= tensor.data[byte_idx];
    if (frugal::st_dtype_is_float(tensor.dtype) && tensor.num_elements() <= (int64_t{1} << 20)) {
      f32.resize(static_cast<size_t>(tensor.num_elements()));
      if (!frugal::st_tensor_to_f32(tensor, f32.data())) __builtin_trap();
    }
  }
  volatile size_t sink = sink_bytes + checksum;
  (void)sink;
  return 0;
}

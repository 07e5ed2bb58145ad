// libFuzzer target for the GGUF reader: parses arbitrary bytes; on success touches every byte of
// every tensor and renders every metadata value, so ASan sees any out-of-bounds view the parser
// let through. Build: -DFRUGAL_FUZZ=ON with clang; run: scripts/run-fuzz BUILD_DIR SECONDS.
#include <cstddef>
#include <cstdint>

#include "core/mapped_file.h"
#include "gguf/gguf_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = frugal::GgufFile::parse(frugal::MappedFile::borrow(data, size));
  if (!file) return 0;
  size_t rendered_bytes = 0;
  for (const auto& [key, value] : file->metadata()) {
    rendered_bytes += key.size() + value.to_string().size();
    (void)file->get_string(key);
    (void)file->get_uint(key);
    (void)file->get_int_array(key);
    (void)file->get_float_array(key);
  }
  uint8_t checksum = 0;
  for (const auto& info : file->tensors()) {
    const frugal::TensorView view = file->tensor_view(info);
    const auto* bytes = static_cast<const uint8_t*>(view.data);
    if (static_cast<uint64_t>(view.size_bytes()) != info.size_bytes) __builtin_trap();
    for (uint64_t byte_idx = 0; byte_idx < info.size_bytes; ++byte_idx) checksum ^= bytes[byte_idx];
  }
  // Keep the work observable so the compiler cannot drop the reads.
  volatile size_t sink = rendered_bytes + checksum;
  (void)sink;
  return 0;
}

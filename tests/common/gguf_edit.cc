#include "common/gguf_edit.h"

#include <cstring>

namespace frugal::testing {

GgufWriter copy_gguf(const GgufFile& src, const GgufEdit& edit) {
  GgufWriter writer(src.alignment());
  for (const auto& [key, value] : src.metadata()) {
    const std::string new_key = edit.rename_key ? edit.rename_key(key) : key;
    if (!new_key.empty()) writer.set(new_key, value);
  }
  for (const auto& info : src.tensors()) {
    const TensorView view = src.tensor_view(info);
    DType dtype = info.dtype;
    std::vector<int64_t> ne(info.ne.begin(), info.ne.begin() + info.n_dims);
    std::vector<uint8_t> bytes(static_cast<const uint8_t*>(view.data),
                               static_cast<const uint8_t*>(view.data) + info.size_bytes);
    if (edit.edit_tensor && !edit.edit_tensor(info, dtype, ne, bytes)) continue;
    writer.add_tensor(info.name, dtype, std::move(ne), std::move(bytes));
  }
  return writer;
}

Expected<GgufFile> parse_bytes(const std::vector<uint8_t>& bytes) {
  return GgufFile::parse(MappedFile::borrow(bytes.data(), bytes.size()));
}

}  // namespace frugal::testing

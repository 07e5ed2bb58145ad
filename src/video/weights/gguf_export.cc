// GGUF export of a weight store (see gguf_export.h).
#include "video/weights/gguf_export.h"

#include <algorithm>
#include <cstring>
#include <mutex>

#include "gguf/gguf_writer.h"
#include "quant/quantize.h"

namespace frugal {

bool gguf_export_quantizes(const std::string& name, const std::vector<int64_t>& shape, DType matrix_type) {
  if (shape.size() < 2 || name.size() < 7 || name.compare(name.size() - 7, 7, ".weight") != 0) return false;
  if (name.rfind("head.", 0) == 0 || name.find("norm") != std::string::npos) return false;
  int64_t row = 1;
  for (size_t d = 1; d < shape.size(); ++d) row *= shape[d];
  return row % dtype_traits(matrix_type).block_elems == 0;
}

Status write_weights_gguf(const WeightStore& store, const std::string& path, DType matrix_type,
                          const std::string& architecture, ThreadPool& pool) {
  if (!has_quantizer(matrix_type)) {
    return invalid_argument("cannot write matrices as " + std::string(dtype_name(matrix_type)));
  }
  GgufWriter writer;
  writer.set_string("general.architecture", architecture);
  writer.set_string("general.file_type_name", std::string(dtype_name(matrix_type)));
  for (const auto& [key, value] : store.metadata()) {
    if (key.rfind("general.", 0) != 0) writer.set_string(key, value);
  }
  for (const std::string& name : store.names()) {
    auto shape = store.shape(name);
    if (!shape) return shape.error();
    auto values = store.load_f32(name, *shape);
    if (!values) return values.error();
    // ne: innermost first. Rank > 4 is flattened to [out, in·k...] and its shape kept in metadata.
    std::vector<int64_t> ne(shape->rbegin(), shape->rend());
    if (ne.empty()) ne = {1};
    if (shape->size() > 4) {
      ne = {static_cast<int64_t>(values->size()) / (*shape)[0], (*shape)[0]};
      std::vector<int32_t> orig(shape->begin(), shape->end());
      writer.set_int32_array("comfy.gguf.orig_shape." + name, orig);
    }
    const int64_t row_len = ne[0];
    const int64_t n_rows = static_cast<int64_t>(values->size()) / std::max<int64_t>(row_len, 1);
    const DType type = gguf_export_quantizes(name, *shape, matrix_type) ? matrix_type : DType::kF32;
    std::vector<uint8_t> bytes;
    if (type == DType::kF32) {
      bytes.resize(values->size() * 4);
      std::memcpy(bytes.data(), values->data(), bytes.size());
    } else {
      const int64_t row_bytes = dtype_row_bytes(type, row_len);
      bytes.resize(static_cast<size_t>(row_bytes * n_rows));
      Status error;
      std::mutex error_mutex;
      pool.parallel_for(n_rows, [&](int64_t begin, int64_t end) {
        auto part = quantize_rows(type, values->data() + begin * row_len, end - begin, row_len);
        if (!part) {
          std::lock_guard<std::mutex> lock(error_mutex);
          error = part.error();
          return;
        }
        std::memcpy(bytes.data() + begin * row_bytes, part->data(), part->size());
      });
      if (!error.is_ok()) return error;
    }
    writer.add_tensor(name, type, ne, std::move(bytes));
  }
  return writer.write(path);
}

}  // namespace frugal

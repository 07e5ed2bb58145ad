// Safetensors writer (see safetensors_writer.h).
#include "safetensors/safetensors_writer.h"

#include <cstdio>
#include <cstring>
#include <memory>

#include <nlohmann/json.hpp>

namespace frugal {

void SafetensorsWriter::add(const std::string& name, StDType dtype, std::vector<int64_t> shape, Fill fill) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    CHECK(d >= 0, "negative dimension");
    n *= static_cast<uint64_t>(d);
  }
  tensors_[name] = Pending{dtype, std::move(shape), std::move(fill), n * static_cast<uint64_t>(st_dtype_bytes(dtype))};
}

void SafetensorsWriter::add_bytes(const std::string& name, StDType dtype, std::vector<int64_t> shape,
                                  std::vector<uint8_t> bytes) {
  auto shared = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  add(name, dtype, std::move(shape), [shared](uint8_t* dst) { std::memcpy(dst, shared->data(), shared->size()); });
  CHECK(tensors_[name].size_bytes == shared->size(), "tensor bytes do not match its dtype and shape");
}

void SafetensorsWriter::add_f32(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& values) {
  std::vector<uint8_t> bytes(values.size() * 4);
  std::memcpy(bytes.data(), values.data(), bytes.size());
  add_bytes(name, StDType::kF32, std::move(shape), std::move(bytes));
}

std::string SafetensorsWriter::header() const {
  nlohmann::ordered_json root = nlohmann::ordered_json::object();
  if (!metadata_.empty()) root["__metadata__"] = metadata_;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors_) {
    root[name] = {{"dtype", std::string(st_dtype_name(t.dtype))},
                  {"shape", t.shape},
                  {"data_offsets", {offset, offset + t.size_bytes}}};
    offset += t.size_bytes;
  }
  std::string text = root.dump();
  while ((8 + text.size()) % 8 != 0) text.push_back(' ');
  return text;
}

std::vector<uint8_t> SafetensorsWriter::serialize() const {
  const std::string text = header();
  std::vector<uint8_t> out(8 + text.size());
  uint64_t len = text.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(len >> (8 * i));
  std::memcpy(out.data() + 8, text.data(), text.size());
  for (const auto& [name, t] : tensors_) {
    const size_t at = out.size();
    out.resize(at + t.size_bytes);
    t.fill(out.data() + at);
  }
  return out;
}

Status SafetensorsWriter::write(const std::string& path) const {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) return not_found("cannot create " + path);
  const std::string text = header();
  uint8_t len_bytes[8];
  const uint64_t len = text.size();
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<uint8_t>(len >> (8 * i));
  bool ok = std::fwrite(len_bytes, 1, 8, f.get()) == 8 && std::fwrite(text.data(), 1, text.size(), f.get()) == text.size();
  std::vector<uint8_t> buffer;
  for (const auto& [name, t] : tensors_) {
    if (!ok) break;
    buffer.resize(t.size_bytes);
    t.fill(buffer.data());
    ok = std::fwrite(buffer.data(), 1, buffer.size(), f.get()) == buffer.size();
  }
  if (!ok || std::fclose(f.release()) != 0) return internal_error("write failed: " + path);
  return Status::ok();
}

}  // namespace frugal

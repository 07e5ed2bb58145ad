// Safetensors reader (see safetensors_reader.h for the format and the validation contract).
#include "safetensors/safetensors_reader.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

#include "core/fp16.h"

namespace frugal {
namespace {

using Json = nlohmann::json;

struct DTypeEntry {
  StDType dtype;
  std::string_view name;
  int64_t bytes;
  bool is_float;
};

constexpr DTypeEntry kDTypes[] = {
    {StDType::kF64, "F64", 8, true},       {StDType::kF32, "F32", 4, true},
    {StDType::kF16, "F16", 2, true},       {StDType::kBF16, "BF16", 2, true},
    {StDType::kF8E4M3, "F8_E4M3", 1, true}, {StDType::kF8E5M2, "F8_E5M2", 1, true},
    {StDType::kI64, "I64", 8, false},      {StDType::kI32, "I32", 4, false},
    {StDType::kI16, "I16", 2, false},      {StDType::kI8, "I8", 1, false},
    {StDType::kU8, "U8", 1, false},        {StDType::kBool, "BOOL", 1, false},
};

const DTypeEntry& entry_of(StDType dtype) {
  for (const DTypeEntry& e : kDTypes) {
    if (e.dtype == dtype) return e;
  }
  CHECK(false, "unknown StDType");
  return kDTypes[0];
}

// Deepest bracket nesting of a JSON text, ignoring brackets inside strings. Linear, no recursion.
int json_depth(std::string_view text) {
  int depth = 0;
  int max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') max_depth = std::max(max_depth, ++depth);
    else if (c == '}' || c == ']') --depth;
  }
  return max_depth;
}

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

std::string_view st_dtype_name(StDType dtype) { return entry_of(dtype).name; }
int64_t st_dtype_bytes(StDType dtype) { return entry_of(dtype).bytes; }
bool st_dtype_is_float(StDType dtype) { return entry_of(dtype).is_float; }

int64_t SafetensorsTensor::num_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Expected<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  auto mapped = MappedFile::open(path);
  if (!mapped) return mapped.error();
  auto parsed = parse(std::move(*mapped));
  if (!parsed) return Status(parsed.error().code(), path + ": " + parsed.error().message());
  return parsed;
}

Expected<SafetensorsFile> SafetensorsFile::parse(MappedFile file) {
  SafetensorsFile st;
  st.file_ = std::move(file);
  const uint64_t file_size = st.file_.size_bytes();
  if (file_size < 8) return data_loss("not a safetensors file: " + std::to_string(file_size) + " bytes, need >= 8");
  const uint64_t header_bytes = read_u64_le(st.file_.data());
  if (header_bytes < 2 || header_bytes > kSafetensorsMaxHeaderBytes) {
    return data_loss("bad safetensors header length " + std::to_string(header_bytes));
  }
  if (header_bytes > file_size - 8) {
    return data_loss("truncated safetensors file: header of " + std::to_string(header_bytes) + " bytes, file of " +
                     std::to_string(file_size));
  }
  st.data_offset_ = 8 + header_bytes;
  const std::string_view header(reinterpret_cast<const char*>(st.file_.data() + 8), header_bytes);
  if (Status s = st.parse_header(header); !s) return s;
  return st;
}

Status SafetensorsFile::parse_header(std::string_view header) {
  if (json_depth(header) > kSafetensorsMaxJsonDepth) return data_loss("safetensors header nests too deeply");
  const Json root = Json::parse(header.begin(), header.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return data_loss("safetensors header is not valid JSON");
  if (!root.is_object()) return data_loss("safetensors header is not a JSON object");
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it.value().is_object()) return data_loss("__metadata__ is not an object");
      for (auto m = it.value().begin(); m != it.value().end(); ++m) {
        if (!m.value().is_string()) return data_loss("__metadata__[\"" + m.key() + "\"] is not a string");
        metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (Status s = add_tensor(it.key(), &it.value()); !s) return s;
  }
  std::sort(tensors_.begin(), tensors_.end(),
            [](const SafetensorsTensor& a, const SafetensorsTensor& b) { return a.name < b.name; });
  // Ranges must not overlap (the format lays tensors out back to back).
  std::vector<const SafetensorsTensor*> by_offset;
  by_offset.reserve(tensors_.size());
  for (const auto& t : tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const SafetensorsTensor* a, const SafetensorsTensor* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const SafetensorsTensor& prev = *by_offset[i - 1];
    if (prev.offset + prev.size_bytes > by_offset[i]->offset) {
      return data_loss("tensors \"" + prev.name + "\" and \"" + by_offset[i]->name + "\" overlap");
    }
  }
  for (size_t i = 0; i < tensors_.size(); ++i) index_[tensors_[i].name] = i;
  return Status::ok();
}

Status SafetensorsFile::add_tensor(const std::string& name, const void* entry_json) {
  const Json& entry = *static_cast<const Json*>(entry_json);
  const std::string where = "tensor \"" + name + "\": ";
  if (name.empty()) return data_loss("a tensor has an empty name");
  if (!entry.is_object()) return data_loss(where + "entry is not an object");
  const auto dtype_it = entry.find("dtype");
  const auto shape_it = entry.find("shape");
  const auto offsets_it = entry.find("data_offsets");
  if (dtype_it == entry.end() || !dtype_it->is_string()) return data_loss(where + "missing string \"dtype\"");
  if (shape_it == entry.end() || !shape_it->is_array()) return data_loss(where + "missing array \"shape\"");
  if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2) {
    return data_loss(where + "\"data_offsets\" must be [begin, end]");
  }
  SafetensorsTensor t;
  t.name = name;
  const std::string dtype_name = dtype_it->get<std::string>();
  const DTypeEntry* dtype = nullptr;
  for (const DTypeEntry& e : kDTypes) {
    if (e.name == dtype_name) dtype = &e;
  }
  if (dtype == nullptr) return unimplemented(where + "unsupported dtype \"" + dtype_name + "\"");
  t.dtype = dtype->dtype;
  if (shape_it->size() > static_cast<size_t>(kSafetensorsMaxRank)) return data_loss(where + "rank above 8");
  uint64_t n_elems = 1;
  for (const Json& dim : *shape_it) {
    if (!dim.is_number_integer() || (dim.is_number_integer() && !dim.is_number_unsigned() && dim.get<int64_t>() < 0)) {
      return data_loss(where + "shape entries must be non-negative integers");
    }
    const uint64_t d = dim.get<uint64_t>();
    if (d > (uint64_t{1} << 40) || (d != 0 && n_elems > (uint64_t{1} << 50) / d)) {
      return data_loss(where + "shape too large");
    }
    n_elems *= d;
    t.shape.push_back(static_cast<int64_t>(d));
  }
  for (const Json& off : *offsets_it) {
    if (!off.is_number_unsigned()) return data_loss(where + "data_offsets must be non-negative integers");
  }
  const uint64_t begin = (*offsets_it)[0].get<uint64_t>();
  const uint64_t end = (*offsets_it)[1].get<uint64_t>();
  const uint64_t data_bytes = file_.size_bytes() - data_offset_;
  if (begin > end || end > data_bytes) {
    return out_of_range(where + "data [" + std::to_string(begin) + ", " + std::to_string(end) +
                        ") outside the data section of " + std::to_string(data_bytes) + " bytes");
  }
  const uint64_t want = n_elems * static_cast<uint64_t>(dtype->bytes);
  if (end - begin != want) {
    return data_loss(where + "holds " + std::to_string(end - begin) + " bytes, its dtype and shape need " +
                     std::to_string(want));
  }
  t.offset = begin;
  t.size_bytes = want;
  t.data = file_.data() + data_offset_ + begin;
  tensors_.push_back(std::move(t));
  return Status::ok();
}

const SafetensorsTensor* SafetensorsFile::find(std::string_view name) const {
  const auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

float f8e4m3_to_f32(uint8_t bits) {
  const bool negative = (bits & 0x80u) != 0;
  const int exp = (bits >> 3) & 0xf;
  const int mant = bits & 0x7;
  float v;
  if (exp == 0xf && mant == 0x7) {
    v = std::nanf("");
  } else if (exp == 0) {
    v = std::ldexp(static_cast<float>(mant) / 8.0f, -6);  // subnormal: mant/8 · 2^(1−7)
  } else {
    v = std::ldexp(1.0f + static_cast<float>(mant) / 8.0f, exp - 7);
  }
  return negative ? -v : v;
}

float f8e5m2_to_f32(uint8_t bits) { return f16_to_f32(static_cast<uint16_t>(bits) << 8); }

Status st_tensor_to_f32(const SafetensorsTensor& tensor, float* out) {
  const int64_t n = tensor.num_elements();
  const uint8_t* p = tensor.data;
  switch (tensor.dtype) {
    case StDType::kF32:
      std::memcpy(out, p, static_cast<size_t>(n) * 4);
      return Status::ok();
    case StDType::kF64:
      for (int64_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, p + 8 * i, 8);
        out[i] = static_cast<float>(d);
      }
      return Status::ok();
    case StDType::kF16:
    case StDType::kBF16: {
      const bool is_f16 = tensor.dtype == StDType::kF16;
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        out[i] = is_f16 ? f16_to_f32(h) : bf16_to_f32(h);
      }
      return Status::ok();
    }
    case StDType::kF8E4M3:
      for (int64_t i = 0; i < n; ++i) out[i] = f8e4m3_to_f32(p[i]);
      return Status::ok();
    case StDType::kF8E5M2:
      for (int64_t i = 0; i < n; ++i) out[i] = f8e5m2_to_f32(p[i]);
      return Status::ok();
    default:
      return invalid_argument("tensor \"" + tensor.name + "\" has dtype " + std::string(st_dtype_name(tensor.dtype)) +
                              ", not a float type");
  }
}

}  // namespace frugal

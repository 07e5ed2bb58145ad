// WeightStore (see weight_store.h).
#include "video/weights/weight_store.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/fp16.h"
#include "gguf/gguf_reader.h"
#include "kernels/kernel_table.h"
#include "safetensors/safetensors_reader.h"

namespace frugal {

// One tensor: where it lives (exactly one of st / gguf is set) and its PyTorch-order shape.
struct WeightStore::Entry {
  const SafetensorsTensor* st = nullptr;
  const GgufFile* gguf_file = nullptr;
  const GgufTensorInfo* gguf = nullptr;
  std::vector<int64_t> shape;
  std::string scale_name;  // FP8: the per-tensor scale tensor, or empty
};

namespace {

// Prefixes that ComfyUI-style single files put before the official names.
constexpr const char* kStrippedPrefixes[] = {"model.diffusion_model.", "diffusion_model."};

std::string official_name(const std::string& name) {
  for (const char* prefix : kStrippedPrefixes) {
    const size_t n = std::strlen(prefix);
    if (name.compare(0, n, prefix) == 0) return name.substr(n);
  }
  return name;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

int64_t product(const std::vector<int64_t>& shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
}

}  // namespace

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

WeightStore::WeightStore() = default;
WeightStore::WeightStore(WeightStore&&) noexcept = default;
WeightStore& WeightStore::operator=(WeightStore&&) noexcept = default;
WeightStore::~WeightStore() = default;

Expected<WeightStore> WeightStore::open(const std::vector<std::string>& paths) {
  if (paths.empty()) return invalid_argument("no weight files given");
  WeightStore store;
  for (const std::string& path : paths) {
    Status s;
    if (ends_with(path, ".json")) s = store.add_index(path);
    else if (ends_with(path, ".gguf")) s = store.add_gguf(path);
    else s = store.add_safetensors(path);
    if (!s) return s;
  }
  // ComfyUI's scaled FP8: `X.weight` (F8_E4M3) is multiplied by the scalar `X.scale_weight`.
  for (auto& [name, entry] : store.entries_) {
    if (entry.st == nullptr || entry.st->dtype != StDType::kF8E4M3 || !ends_with(name, ".weight")) continue;
    const std::string scale = name.substr(0, name.size() - 7) + ".scale_weight";
    if (store.entries_.count(scale) != 0) entry.scale_name = scale;
  }
  return store;
}

Status WeightStore::add_entry(const std::string& name, Entry entry) {
  const std::string key = official_name(name);
  if (!entries_.emplace(key, std::move(entry)).second) {
    return invalid_argument("tensor \"" + key + "\" appears in more than one weight file");
  }
  return Status::ok();
}

Status WeightStore::add_safetensors(const std::string& path) {
  auto file = SafetensorsFile::open(path);
  if (!file) return file.error();
  st_files_.push_back(std::make_shared<SafetensorsFile>(std::move(*file)));
  const SafetensorsFile& st = *st_files_.back();
  for (const auto& [key, value] : st.metadata()) metadata_[key] = value;
  for (const SafetensorsTensor& t : st.tensors()) {
    Entry e;
    e.st = &t;
    e.shape = t.shape;
    if (Status s = add_entry(t.name, std::move(e)); !s) return Status(s.code(), path + ": " + s.message());
  }
  return Status::ok();
}

Status WeightStore::add_gguf(const std::string& path) {
  auto file = GgufFile::open(path);
  if (!file) return file.error();
  gguf_files_.push_back(std::make_shared<GgufFile>(std::move(*file)));
  const GgufFile& gf = *gguf_files_.back();
  for (const auto& [key, value] : gf.metadata()) {
    if (value.type == GgufValueType::kString) metadata_[key] = value.str;
  }
  for (const GgufTensorInfo& info : gf.tensors()) {
    if (!dtype_traits(info.dtype).supported) {
      return unimplemented(path + ": tensor \"" + info.name + "\" has type " + std::string(frugal::dtype_name(info.dtype)) +
                           ", which frugal cannot compute with");
    }
    Entry e;
    e.gguf_file = &gf;
    e.gguf = &info;
    for (int d = info.n_dims - 1; d >= 0; --d) e.shape.push_back(info.ne[d]);
    // Tensors of rank > 4 (the Conv3d patch embedding) are stored reshaped, with their real shape
    // under "comfy.gguf.orig_shape.<name>" as the community's converters write it.
    auto orig = gf.get_int_array("comfy.gguf.orig_shape." + info.name);
    if (orig) {
      if (product(*orig) != info.num_elements()) {
        return data_loss(path + ": orig_shape of \"" + info.name + "\" does not match its element count");
      }
      e.shape = *orig;
    }
    if (Status s = add_entry(info.name, std::move(e)); !s) return Status(s.code(), path + ": " + s.message());
  }
  return Status::ok();
}

Status WeightStore::add_index(const std::string& path) {
  std::ifstream in(path);
  if (!in) return not_found("cannot open " + path);
  std::stringstream text;
  text << in.rdbuf();
  const auto index = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (index.is_discarded() || !index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
    return data_loss(path + ": not a safetensors index (no \"weight_map\" object)");
  }
  std::vector<std::string> shards;
  for (const auto& [name, shard] : index["weight_map"].items()) {
    if (!shard.is_string()) return data_loss(path + ": weight_map[\"" + name + "\"] is not a file name");
    const std::string file = shard.get<std::string>();
    if (file.find('/') != std::string::npos) return data_loss(path + ": shard name \"" + file + "\" has a '/'");
    if (std::find(shards.begin(), shards.end(), file) == shards.end()) shards.push_back(file);
  }
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  const size_t first_tensor = entries_.size();
  for (const std::string& shard : shards) {
    if (Status s = add_safetensors((dir / shard).string()); !s) return s;
  }
  for (const auto& [name, shard] : index["weight_map"].items()) {
    if (entries_.count(official_name(name)) == 0) {
      return data_loss(path + ": tensor \"" + name + "\" is listed in the index but missing from " +
                       shard.get<std::string>());
    }
  }
  (void)first_tensor;
  return Status::ok();
}

std::vector<std::string> WeightStore::names() const {
  std::vector<std::string> out;
  for (const auto& [name, entry] : entries_) out.push_back(name);
  return out;
}

bool WeightStore::contains(const std::string& name) const { return entries_.count(name) != 0; }

Expected<std::vector<int64_t>> WeightStore::shape(const std::string& name) const {
  const auto it = entries_.find(name);
  if (it == entries_.end()) return not_found("tensor \"" + name + "\" not found");
  return it->second.shape;
}

Expected<std::string> WeightStore::dtype_name(const std::string& name) const {
  const auto it = entries_.find(name);
  if (it == entries_.end()) return not_found("tensor \"" + name + "\" not found");
  if (it->second.st != nullptr) return std::string(st_dtype_name(it->second.st->dtype));
  return std::string(frugal::dtype_name(it->second.gguf->dtype));
}

int64_t WeightStore::total_bytes() const {
  int64_t total = 0;
  for (const auto& [name, e] : entries_) {
    total += static_cast<int64_t>(e.st != nullptr ? e.st->size_bytes : e.gguf->size_bytes);
  }
  return total;
}

int64_t WeightStore::total_params() const {
  int64_t total = 0;
  for (const auto& [name, e] : entries_) total += product(e.shape);
  return total;
}

Expected<const WeightStore::Entry*> WeightStore::find_checked(const std::string& name,
                                                              const std::vector<int64_t>& expected_shape) const {
  const auto it = entries_.find(name);
  if (it == entries_.end()) return not_found("tensor \"" + name + "\" not found in the weight files");
  if (it->second.shape != expected_shape) {
    return invalid_argument("tensor \"" + name + "\" has shape " + shape_string(it->second.shape) +
                            ", the model config needs " + shape_string(expected_shape));
  }
  return &it->second;
}

void WeightStore::release(const Entry& e) const {
  if (e.st != nullptr) {
    for (const auto& file : st_files_) file->release_pages(e.st->data, e.st->size_bytes);
  } else {
    e.gguf_file->release_pages(e.gguf_file->tensor_view(*e.gguf).data, e.gguf->size_bytes);
  }
}

Expected<std::vector<float>> WeightStore::load_f32(const std::string& name,
                                                   const std::vector<int64_t>& expected_shape) const {
  auto entry = find_checked(name, expected_shape);
  if (!entry) return entry.error();
  const Entry& e = **entry;
  std::vector<float> out(static_cast<size_t>(product(e.shape)));
  if (e.st != nullptr) {
    if (Status s = st_tensor_to_f32(*e.st, out.data()); !s) return s;
    release(e);
    if (!e.scale_name.empty()) {
      auto scale = load_f32(e.scale_name, entries_.at(e.scale_name).shape);
      if (!scale) return scale.error();
      if (scale->size() != 1) return invalid_argument("\"" + e.scale_name + "\" is not a scalar");
      for (float& v : out) v *= (*scale)[0];
    }
    return out;
  }
  const TensorView view = e.gguf_file->tensor_view(*e.gguf);
  std::vector<int32_t> rows(static_cast<size_t>(view.num_rows()));
  std::iota(rows.begin(), rows.end(), 0);
  get_rows(view, rows.data(), view.num_rows(), out.data());
  release(e);
  return out;
}

Expected<MatrixWeight> WeightStore::load_matrix(const std::string& name, const std::vector<int64_t>& expected_shape,
                                                WeightPrecision precision, MatrixUse use) const {
  auto entry = find_checked(name, expected_shape);
  if (!entry) return entry.error();
  const Entry& e = **entry;
  CHECK(!expected_shape.empty(), "a matrix needs at least one dimension");
  const int64_t n_out = expected_shape[0];
  const int64_t n_in = n_out == 0 ? 0 : product(expected_shape) / n_out;
  MatrixWeight m;
  m.view_.n_dims = 2;
  m.view_.ne = {n_in, n_out, 1, 1};
  const bool keep_st = precision == WeightPrecision::kStored && e.st != nullptr &&
                       (e.st->dtype == StDType::kF32 || e.st->dtype == StDType::kF16 || e.st->dtype == StDType::kBF16);
  const bool keep_gguf = e.gguf != nullptr && (precision == WeightPrecision::kStored || e.gguf->dtype == DType::kF32);
  // kMappedRows: the view reads the mapped file in place (the tensor's pages stay in the page cache;
  // only the rows looked up become resident); the matrix shares the file so it outlives the store.
  const bool mapped = use == MatrixUse::kMappedRows && (keep_st || keep_gguf);
  if (keep_st) {
    m.view_.dtype = e.st->dtype == StDType::kF32 ? DType::kF32 : e.st->dtype == StDType::kF16 ? DType::kF16 : DType::kBF16;
    if (mapped) {
      for (const auto& file : st_files_) {
        if (file->find(e.st->name) == e.st) m.mapping_ = file;
      }
      CHECK(m.mapping_ != nullptr, "a safetensors entry outside the store's files");
      m.view_.data = e.st->data;
      return m;
    }
    m.bytes_.assign(e.st->data, e.st->data + e.st->size_bytes);
    release(e);
  } else if (keep_gguf) {
    const TensorView src = e.gguf_file->tensor_view(*e.gguf);
    if (src.row_elems() != n_in) {
      return invalid_argument("tensor \"" + name + "\" is stored with rows of " + std::to_string(src.row_elems()) +
                              " elements; its matmul needs rows of " + std::to_string(n_in));
    }
    m.view_.dtype = src.dtype;
    if (mapped) {
      for (const auto& file : gguf_files_) {
        if (file.get() == e.gguf_file) m.mapping_ = file;
      }
      m.view_.data = src.data;
      return m;
    }
    const auto* bytes = static_cast<const uint8_t*>(src.data);
    m.bytes_.assign(bytes, bytes + src.size_bytes());
    release(e);
  } else {
    auto f32 = load_f32(name, expected_shape);
    if (!f32) return f32.error();
    const bool to_bf16 = precision == WeightPrecision::kStored;  // FP8 kept compact
    m.view_.dtype = to_bf16 ? DType::kBF16 : DType::kF32;
    if (to_bf16) {
      m.bytes_.resize(f32->size() * 2);
      for (size_t i = 0; i < f32->size(); ++i) {
        const uint16_t h = f32_to_bf16((*f32)[i]);
        std::memcpy(m.bytes_.data() + 2 * i, &h, 2);
      }
    } else {
      m.bytes_.resize(f32->size() * 4);
      std::memcpy(m.bytes_.data(), f32->data(), m.bytes_.size());
    }
  }
  m.view_.data = m.bytes_.data();
  if (use != MatrixUse::kMatmul && use != MatrixUse::kMatmulTiles) return m;  // kReference (or a converted kMappedRows)
  const int64_t packed_bytes = pack_for_kernels(m.view_, m.packed_, use == MatrixUse::kMatmulTiles);
  if (m.view_.packed != nullptr) {
    m.packed_bytes_ = (packed_bytes + 63) / 64 * 64;
    // One copy: the matmuls read only the packed layout (2.8 GB saved on the Wan2.1-1.3B F16 DiT).
    m.view_.data = nullptr;
    std::vector<uint8_t>().swap(m.bytes_);
  }
  return m;
}

}  // namespace frugal

// Importance-matrix files (model layer): the GGUF and legacy .dat layouts of llama.cpp's imatrix.
#include "model/imatrix_file.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"

namespace frugal {
namespace {

const std::string kSumsSuffix = ".in_sum2";
constexpr size_t kGgufAlignment = 32;  // GgufWriter's default, and ggml's
const std::string kCountsSuffix = ".counts";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Status bad(const std::string& path, const std::string& what) {
  return invalid_argument("imatrix '" + path + "': " + what);
}

Status check_entry(const std::string& path, const std::string& name, const ImatrixEntry& e) {
  if (e.counts.empty() || e.sums.empty() || e.sums.size() % e.counts.size() != 0) {
    return bad(path, "entry '" + name + "' has " + std::to_string(e.sums.size()) + " values for " +
                         std::to_string(e.counts.size()) + " matrices");
  }
  for (float v : e.sums) {
    if (!std::isfinite(v) || v < 0.0f) return bad(path, "entry '" + name + "' has a negative or non-finite value");
  }
  for (int64_t c : e.counts) {
    if (c < 0) return bad(path, "entry '" + name + "' has a negative count");
  }
  return Status::ok();
}

// Bounds-checked little-endian reader over the whole legacy file.
struct Cursor {
  const std::vector<char>& bytes;
  size_t pos = 0;
  bool read(void* out, size_t n) {
    if (n > bytes.size() - pos) return false;
    std::memcpy(out, bytes.data() + pos, n);
    pos += n;
    return true;
  }
};

Expected<Imatrix> read_legacy(const std::string& path, const std::vector<char>& bytes) {
  Cursor in{bytes};
  int32_t n_entries = 0;
  if (!in.read(&n_entries, 4) || n_entries < 1) return bad(path, "no entries (not an imatrix file?)");
  Imatrix m;
  for (int32_t i = 0; i < n_entries; ++i) {
    const std::string where = "entry " + std::to_string(i + 1) + " of " + std::to_string(n_entries);
    int32_t len = 0, ncall = 0, nval = 0;
    if (!in.read(&len, 4) || len <= 0 || len > 4096) return bad(path, "truncated or bad name length at " + where);
    std::string name(static_cast<size_t>(len), '\0');
    if (!in.read(name.data(), static_cast<size_t>(len))) return bad(path, "truncated name at " + where);
    if (!in.read(&ncall, 4) || !in.read(&nval, 4) || nval < 1) {
      return bad(path, "truncated or bad value count at " + where + " ('" + name + "')");
    }
    ImatrixEntry e;
    e.sums.resize(static_cast<size_t>(nval));
    if (!in.read(e.sums.data(), static_cast<size_t>(nval) * 4)) {
      return bad(path, "truncated values at " + where + " ('" + name + "')");
    }
    e.counts = {ncall};
    if (Status s = check_entry(path, name, e); !s.is_ok()) return s;
    m.entries[name] = std::move(e);
  }
  int32_t chunks = 0, len = 0;
  if (in.read(&chunks, 4)) {  // optional trailer
    m.chunk_count = chunks;
    if (in.read(&len, 4) && len > 0) {
      std::string dataset(static_cast<size_t>(len), '\0');
      if (!in.read(dataset.data(), static_cast<size_t>(len))) return bad(path, "truncated dataset name");
      m.datasets.push_back(std::move(dataset));
    }
  }
  return m;
}

Expected<Imatrix> read_gguf(const std::string& path) {
  auto file = GgufFile::open(path);
  if (!file) return bad(path, file.error().message());
  Imatrix m;
  if (file->has("imatrix.datasets")) {
    auto datasets = file->get_string_array("imatrix.datasets");
    if (!datasets) return bad(path, datasets.error().message());
    m.datasets = std::move(*datasets);
  }
  auto chunks = file->get_uint_or("imatrix.chunk_count", 0);
  auto chunk_size = file->get_uint_or("imatrix.chunk_size", 0);
  if (!chunks || !chunk_size) return bad(path, "bad imatrix.chunk_count / imatrix.chunk_size");
  m.chunk_count = static_cast<int64_t>(*chunks);
  m.chunk_size = static_cast<int64_t>(*chunk_size);
  std::map<std::string, std::pair<const GgufTensorInfo*, const GgufTensorInfo*>> pairs;
  for (const auto& info : file->tensors()) {
    if (ends_with(info.name, kSumsSuffix)) {
      pairs[info.name.substr(0, info.name.size() - kSumsSuffix.size())].first = &info;
    } else if (ends_with(info.name, kCountsSuffix)) {
      pairs[info.name.substr(0, info.name.size() - kCountsSuffix.size())].second = &info;
    }
  }
  if (pairs.empty()) return bad(path, "no .in_sum2/.counts tensors (not an imatrix file?)");
  for (const auto& [name, pair] : pairs) {
    const auto [sums, counts] = pair;
    if (!sums || !counts) return bad(path, "'" + name + "' has " + (sums ? "sums but no counts" : "counts but no sums"));
    if (sums->dtype != DType::kF32 || counts->dtype != DType::kF32) return bad(path, "'" + name + "' is not F32");
    ImatrixEntry e;
    const auto* s = static_cast<const float*>(file->tensor_view(*sums).data);
    const auto* c = static_cast<const float*>(file->tensor_view(*counts).data);
    e.sums.assign(s, s + sums->num_elements());
    for (int64_t i = 0; i < counts->num_elements(); ++i) {
      if (!std::isfinite(c[i])) return bad(path, "'" + name + "' has a non-finite count");
      e.counts.push_back(std::lround(c[i]));
    }
    if (Status st = check_entry(path, name, e); !st.is_ok()) return st;
    m.entries[name] = std::move(e);
  }
  return m;
}

std::vector<uint8_t> float_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> out(v.size() * sizeof(float));
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

Status write_gguf(const Imatrix& m, const std::string& path) {
  GgufWriter writer(kGgufAlignment);
  writer.set_string("general.type", "imatrix");
  writer.set_string_array("imatrix.datasets", m.datasets);
  writer.set_uint32("imatrix.chunk_count", static_cast<uint32_t>(m.chunk_count));
  writer.set_uint32("imatrix.chunk_size", static_cast<uint32_t>(m.chunk_size));
  for (const auto& [name, e] : m.entries) {  // std::map: sorted, as llama-imatrix writes them
    const int64_t n_mat = static_cast<int64_t>(e.counts.size());
    std::vector<float> counts(e.counts.begin(), e.counts.end());
    writer.add_tensor(name + kSumsSuffix, DType::kF32, {static_cast<int64_t>(e.sums.size()) / n_mat, n_mat},
                      float_bytes(e.sums));
    writer.add_tensor(name + kCountsSuffix, DType::kF32, {1, n_mat}, float_bytes(counts));
  }
  // ggml's reader reads the data section as the sum of *padded* tensor sizes, so the file must
  // end padded to the alignment (GgufWriter ends right after the last tensor, and a 4-byte
  // .counts tensor is last): without this llama-quantize fails "to read tensor data binary blob".
  std::vector<uint8_t> bytes = writer.serialize();
  while (bytes.size() % kGgufAlignment != 0) bytes.push_back(0);
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return invalid_argument("cannot write '" + path + "'");
  return Status::ok();
}

Status write_legacy(const Imatrix& m, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  if (!out) return invalid_argument("cannot write '" + path + "'");
  const auto put = [&](const void* p, size_t n) { out.write(static_cast<const char*>(p), static_cast<std::streamsize>(n)); };
  const int32_t n_entries = static_cast<int32_t>(m.entries.size());
  put(&n_entries, 4);
  for (const auto& [name, e] : m.entries) {
    const int32_t len = static_cast<int32_t>(name.size());
    put(&len, 4);
    put(name.data(), name.size());
    const int64_t max_count = *std::max_element(e.counts.begin(), e.counts.end());
    // ncall: windows, rounded up (llama-imatrix's rule); a legacy source already counts windows.
    const int32_t ncall = static_cast<int32_t>(m.chunk_size > 0 ? (max_count + m.chunk_size - 1) / m.chunk_size : max_count);
    const int32_t nval = static_cast<int32_t>(e.sums.size());
    put(&ncall, 4);
    put(&nval, 4);
    const size_t per_mat = e.sums.size() / e.counts.size();
    std::vector<float> values(e.sums.size());
    for (size_t i = 0; i < values.size(); ++i) {
      const int64_t count = e.counts[i / per_mat];
      values[i] = count > 0 ? e.sums[i] / static_cast<float>(count) * static_cast<float>(ncall) : 1.0f;
    }
    put(values.data(), values.size() * 4);
  }
  const int32_t chunks = static_cast<int32_t>(m.chunk_count);
  put(&chunks, 4);
  const std::string dataset = m.datasets.empty() ? std::string() : m.datasets.back();
  const int32_t len = static_cast<int32_t>(dataset.size());
  put(&len, 4);
  put(dataset.data(), dataset.size());
  out.close();
  if (!out) return invalid_argument("failed writing '" + path + "'");
  return Status::ok();
}

}  // namespace

Expected<std::vector<float>> Imatrix::importance(const std::string& tensor, int64_t n_cols) const {
  const auto it = entries.find(tensor);
  if (it == entries.end()) return not_found("imatrix has no entry for '" + tensor + "'");
  const ImatrixEntry& e = it->second;
  const int64_t per_mat = static_cast<int64_t>(e.sums.size() / e.counts.size());
  if (per_mat != n_cols) {
    return invalid_argument("imatrix entry '" + tensor + "' has " + std::to_string(per_mat) + " columns, the tensor " +
                            std::to_string(n_cols) + " (an imatrix of another model?)");
  }
  std::vector<float> out(static_cast<size_t>(n_cols), 1.0f);
  if (e.counts[0] > 0) {
    for (int64_t j = 0; j < n_cols; ++j) out[static_cast<size_t>(j)] = e.sums[static_cast<size_t>(j)] / static_cast<float>(e.counts[0]);
  }
  return out;
}

Expected<Imatrix> read_imatrix(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("cannot open imatrix '" + path + "'");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() >= 4 && std::memcmp(bytes.data(), "GGUF", 4) == 0) return read_gguf(path);
  return read_legacy(path, bytes);
}

Status write_imatrix(const Imatrix& imatrix, const std::string& path) {
  if (imatrix.entries.empty()) return invalid_argument("imatrix has no entries to write");
  for (const auto& [name, e] : imatrix.entries) {
    if (Status s = check_entry(path, name, e); !s.is_ok()) return s;
  }
  return ends_with(path, ".dat") ? write_legacy(imatrix, path) : write_gguf(imatrix, path);
}

}  // namespace frugal

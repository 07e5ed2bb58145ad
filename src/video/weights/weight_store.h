// WeightStore: the named tensors of one model component, from the files users have (video/weights layer):
// one or many safetensors shards (or a `*.safetensors.index.json`), or a GGUF file as the community
// ships Wan DiTs (Q8_0, Q4_K, Q5_K, F16...). Names are the official state-dict names; ComfyUI-style
// prefixes ("model.diffusion_model.") are stripped. Shapes are reported in PyTorch order (outermost
// first) whatever the file's convention. Model code asks for tensors by name and shape and gets a
// Status naming the tensor when it is missing or has another shape. Loaded tensors are copies (the
// file pages they came from are released as they are copied), except MatrixUse::kMappedRows
// matrices, which read the mapped file in place and keep it open.
//
// Memory: a matmul matrix holds ONE copy of its bytes: the kernels' packed layout when the kernel
// table packs its type (F16, Q4_0, Q8_0, Q4_K, Q6_K on AVX-512), else the stored bytes. The unpacked
// bytes are dropped after packing, so view().data is null for packed matrices and the reference
// matmul path cannot read them; the few matrices that run on the reference path are loaded with
// MatrixUse::kReference (stored bytes, never packed).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/expected.h"
#include "ops/matmul.h"
#include "tensor/tensor_view.h"

namespace frugal {

class SafetensorsFile;
class GgufFile;

// How weight matrices are held for the matmuls.
enum class WeightPrecision {
  kF32,     // every matrix dequantized to f32 (F32 compute; the reference numerics, 4 bytes/param)
  kStored,  // F32/F16/BF16/quantized blocks kept as stored (FP8 → BF16); activations are converted to the
            // weight type's activation format as the LLM engine does (llama.cpp numerics)
};

// What a loaded matrix is used for, which decides the one copy it holds (see the header note).
enum class MatrixUse {
  kMatmul,      // ops::matmul fast path: packed for the kernels when they pack this type (the unpacked
                // bytes are then dropped: view().data is null), else the stored bytes
  kMatmulTiles,  // kMatmul for a caller that accepts re-quantized Q8_0 (the video DiT): Q8_0 is packed
                 // in the tile-Q8 layout where the kernels run AMX-INT8 (ops/matmul.h pack_for_kernels)
  kReference,   // MatmulPath::kReference or get_rows too: the bytes as loaded, never packed
  kMappedRows,  // get_rows on a large table (the umT5 token embedding: 2 GB, a prompt reads a few
                // rows): view().data points into the mapped file, nothing is copied; the matrix keeps
                // the file open. Falls back to kReference when the stored type must be converted.
};

// A weight matrix ready for ops::matmul: view() is [n_out, n_in] (ne = {n_in, n_out}), packed for the
// kernels in use. Owns its bytes (or, kMappedRows, shares the mapped file).
class MatrixWeight {
 public:
  const TensorView& view() const { return view_; }
  int64_t n_out() const { return view_.ne[1]; }
  int64_t n_in() const { return view_.ne[0]; }
  // The matrix's logical size (rows x row bytes in its dtype).
  int64_t size_bytes() const { return view_.size_bytes(); }
  // Bytes this matrix holds in anonymous memory: its unpacked copy plus its packed copy (0 for a
  // kMappedRows matrix, whose pages are the file's and are read only where rows are looked up).
  int64_t resident_bytes() const { return static_cast<int64_t>(bytes_.size()) + packed_bytes_; }
  bool mapped() const { return mapping_ != nullptr; }

 private:
  friend class WeightStore;
  TensorView view_;
  std::vector<uint8_t> bytes_;
  PackedWeights packed_;
  int64_t packed_bytes_ = 0;             // what packed_ holds (64-byte rounded)
  std::shared_ptr<const void> mapping_;  // kMappedRows: keeps the mapped file alive
};

class WeightStore {
 public:
  // Opens the files of one component. A `.json` path is a sharded-safetensors index (its
  // "weight_map" names the shards, read from the index's folder). Fails on a missing, truncated or
  // malformed file, or on a tensor name present in two files.
  static Expected<WeightStore> open(const std::vector<std::string>& paths);
  WeightStore();
  WeightStore(WeightStore&&) noexcept;
  WeightStore& operator=(WeightStore&&) noexcept;
  ~WeightStore();

  // Every tensor name (sorted), and whether one exists.
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const;
  // Shape in PyTorch order, or kNotFound.
  Expected<std::vector<int64_t>> shape(const std::string& name) const;
  // The stored element type as its format names it ("F32", "BF16", "Q4_K", "F8_E4M3"...).
  Expected<std::string> dtype_name(const std::string& name) const;
  // String metadata (safetensors "__metadata__"; GGUF string keys), merged over all files.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Total bytes of tensor data and the number of parameters.
  int64_t total_bytes() const;
  int64_t total_params() const;

  // An f32 copy of a tensor whose shape must equal `expected_shape` (PyTorch order). FP8 tensors are
  // multiplied by their per-tensor scale (`<prefix>.scale_weight`, ComfyUI's scaled FP8) when present.
  Expected<std::vector<float>> load_f32(const std::string& name, const std::vector<int64_t>& expected_shape) const;
  // A matmul weight of shape `expected_shape` (a Linear's [out, in], or a conv's [out, in, k...],
  // flattened to [out, in·k...] in C order).
  Expected<MatrixWeight> load_matrix(const std::string& name, const std::vector<int64_t>& expected_shape,
                                     WeightPrecision precision, MatrixUse use = MatrixUse::kMatmul) const;

 private:
  struct Entry;
  Status add_safetensors(const std::string& path);
  Status add_gguf(const std::string& path);
  Status add_index(const std::string& path);
  Status add_entry(const std::string& name, Entry entry);
  // The file pages under a tensor that was just copied are dropped from this process (MADV_DONTNEED;
  // read back from the file if needed again), so loading a model never holds it twice in memory.
  void release(const Entry& e) const;
  Expected<const Entry*> find_checked(const std::string& name, const std::vector<int64_t>& expected_shape) const;

  // Shared: kMappedRows matrices keep their file alive after the store is gone.
  std::vector<std::shared_ptr<SafetensorsFile>> st_files_;
  std::vector<std::shared_ptr<GgufFile>> gguf_files_;
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

// "[16, 3, 8, 12]"
std::string shape_string(const std::vector<int64_t>& shape);

}  // namespace frugal

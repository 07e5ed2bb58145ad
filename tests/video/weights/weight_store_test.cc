// WeightStore: the files users have (single and sharded safetensors, GGUF with the community's
// reshaped 5-D tensors, scaled FP8, ComfyUI prefixes) resolve to the same named tensors and values.
#include "video/weights/weight_store.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/test_data.h"
#include "core/fp16.h"
#include "gguf/gguf_writer.h"
#include "kernels/kernel_table.h"
#include "ops/matmul.h"
#include "quant/q8_0.h"
#include "quant/row_codec.h"
#include "safetensors/safetensors_writer.h"

namespace frugal {
namespace {

std::string temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("frugal_weights_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

std::vector<float> ramp(int64_t n, float scale) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = scale * static_cast<float>((i * 37) % 101 - 50);
  return v;
}

TEST(WeightStore, OpensTheOfficialDitFileAndChecksShapes) {
  auto store = WeightStore::open({testing::data_path("wan/dit_a/diffusion_pytorch_model.safetensors")});
  ASSERT_TRUE(store) << store.error().to_string();
  EXPECT_EQ(store->total_params(), 147200);
  auto shape = store->shape("patch_embedding.weight");
  ASSERT_TRUE(shape);
  EXPECT_EQ(*shape, (std::vector<int64_t>{64, 16, 1, 2, 2}));
  auto wrong = store->load_f32("patch_embedding.weight", {64, 16, 2, 2});
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message().find("patch_embedding.weight"), std::string::npos);
  EXPECT_NE(wrong.error().message().find("[64, 16, 1, 2, 2]"), std::string::npos);
  auto missing = store->load_f32("blocks.9.ffn.0.weight", {1});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  auto m = store->load_matrix("patch_embedding.weight", {64, 16, 1, 2, 2}, WeightPrecision::kF32);
  ASSERT_TRUE(m) << m.error().to_string();
  EXPECT_EQ(m->n_out(), 64);
  EXPECT_EQ(m->n_in(), 64);
}

TEST(WeightStore, StoredPrecisionKeepsHalfTypesAndF32PrecisionWidens) {
  auto store = WeightStore::open({testing::data_path("wan/dit_a/diffusion_pytorch_model.f16.safetensors")});
  ASSERT_TRUE(store);
  auto shape = store->shape("blocks.0.ffn.0.weight");
  ASSERT_TRUE(shape);
  // kReference: the bytes as loaded (a kMatmul F16 matrix may hold only its packed layout).
  auto kept = store->load_matrix("blocks.0.ffn.0.weight", *shape, WeightPrecision::kStored, MatrixUse::kReference);
  auto widened = store->load_matrix("blocks.0.ffn.0.weight", *shape, WeightPrecision::kF32);
  ASSERT_TRUE(kept && widened);
  EXPECT_EQ(kept->view().dtype, DType::kF16);
  EXPECT_EQ(widened->view().dtype, DType::kF32);
  EXPECT_EQ(kept->size_bytes() * 2, widened->size_bytes());
  const auto* half = static_cast<const uint16_t*>(kept->view().data);
  const auto* full = static_cast<const float*>(widened->view().data);
  for (int64_t i = 0; i < 128; ++i) EXPECT_EQ(f16_to_f32(half[i]), full[i]);
}

// One copy per matrix: a packed matmul weight drops its unpacked bytes (the F16 DiT held both: 2.8 GB
// extra on Wan2.1-1.3B), a reference-path weight is never packed, and its products are unchanged.
TEST(WeightStore, MatmulWeightsHoldOneCopy) {
  auto store = WeightStore::open({testing::data_path("wan/dit_a/diffusion_pytorch_model.f16.safetensors")});
  ASSERT_TRUE(store);
  const std::vector<int64_t> shape = *store->shape("blocks.0.ffn.0.weight");
  auto fast = store->load_matrix("blocks.0.ffn.0.weight", shape, WeightPrecision::kStored);
  auto ref = store->load_matrix("blocks.0.ffn.0.weight", shape, WeightPrecision::kStored, MatrixUse::kReference);
  ASSERT_TRUE(fast && ref);
  const int64_t stored = ref->size_bytes();
  EXPECT_EQ(stored, shape[0] * shape[1] * 2);
  EXPECT_EQ(ref->resident_bytes(), stored);
  EXPECT_EQ(ref->view().packed, nullptr);
  const KernelTable& kt = kernels();
  if (kt.packed_size[static_cast<size_t>(DType::kF16)] != nullptr && kt.mul_mat_packed != nullptr) {
    ASSERT_NE(fast->view().packed, nullptr);
    EXPECT_EQ(fast->view().data, nullptr) << "the unpacked copy is still held";
    const int64_t packed = kt.packed_size[static_cast<size_t>(DType::kF16)](shape[0], shape[1]);
    EXPECT_EQ(fast->resident_bytes(), (packed + 63) / 64 * 64);
    EXPECT_LT(fast->resident_bytes(), stored + stored / 2);  // one copy, not two
  } else {
    EXPECT_EQ(fast->view().packed, nullptr);  // no packed layout for F16 in this kernel table
    EXPECT_EQ(fast->resident_bytes(), stored);
  }
  // Same products either way (the fast path reads whichever copy is held).
  ThreadPool pool(2);
  MatmulScratch scratch;
  const int64_t n_tokens = 3;
  const std::vector<float> x = ramp(n_tokens * shape[1], 0.01f);
  std::vector<float> y_fast(static_cast<size_t>(n_tokens * shape[0])), y_ref(y_fast.size());
  matmul(fast->view(), x.data(), n_tokens, y_fast.data(), pool, scratch);
  matmul(ref->view(), x.data(), n_tokens, y_ref.data(), pool, scratch, MatmulPath::kReference);
  for (size_t i = 0; i < y_ref.size(); ++i) EXPECT_NEAR(y_fast[i], y_ref[i], 1e-2f * (1.0f + std::fabs(y_ref[i]))) << i;
}

// kMappedRows: a large lookup table (the umT5 embedding) is read in place from the mapped file,
// holds no copy, outlives the store, and looks up the same rows as a copy.
TEST(WeightStore, MappedRowsAreReadInPlace) {
  const std::string dir = temp_dir("mapped");
  const int64_t rows = 64, cols = 32;
  const auto table = ramp(rows * cols, 0.125f);
  std::vector<uint8_t> bf16(table.size() * 2);
  for (size_t i = 0; i < table.size(); ++i) {
    const uint16_t h = f32_to_bf16(table[i]);
    std::memcpy(bf16.data() + 2 * i, &h, 2);
  }
  SafetensorsWriter w;
  w.add_bytes("token_embedding.weight", StDType::kBF16, {rows, cols}, bf16);
  ASSERT_TRUE(w.write(dir + "/t5.safetensors"));
  MatrixWeight mapped, copied;
  {
    auto store = WeightStore::open({dir + "/t5.safetensors"});
    ASSERT_TRUE(store) << store.error().to_string();
    auto m = store->load_matrix("token_embedding.weight", {rows, cols}, WeightPrecision::kStored, MatrixUse::kMappedRows);
    auto c = store->load_matrix("token_embedding.weight", {rows, cols}, WeightPrecision::kStored, MatrixUse::kReference);
    ASSERT_TRUE(m && c);
    mapped = std::move(*m);
    copied = std::move(*c);
  }  // the store is gone; the mapped matrix keeps its file open
  EXPECT_TRUE(mapped.mapped());
  EXPECT_EQ(mapped.resident_bytes(), 0);
  EXPECT_EQ(copied.resident_bytes(), rows * cols * 2);
  EXPECT_EQ(mapped.view().dtype, DType::kBF16);
  const std::vector<int32_t> ids = {5, 0, 63, 5};
  std::vector<float> a(ids.size() * cols), b(a.size());
  get_rows(mapped.view(), ids.data(), static_cast<int64_t>(ids.size()), a.data());
  get_rows(copied.view(), ids.data(), static_cast<int64_t>(ids.size()), b.data());
  EXPECT_EQ(a, b);
  EXPECT_EQ(a[static_cast<size_t>(2 * cols + 1)], bf16_to_f32(f32_to_bf16(table[static_cast<size_t>(63 * cols + 1)])));
  std::filesystem::remove_all(dir);
}

TEST(WeightStore, ShardedIndexAndPrefixedNamesResolve) {
  const std::string dir = temp_dir("sharded");
  const auto a = ramp(6, 0.25f), b = ramp(4, -0.5f);
  SafetensorsWriter s1, s2;
  s1.add_f32("model.diffusion_model.head.head.weight", {2, 3}, a);
  s2.add_f32("model.diffusion_model.head.head.bias", {4}, b);
  ASSERT_TRUE(s1.write(dir + "/m-00001-of-00002.safetensors"));
  ASSERT_TRUE(s2.write(dir + "/m-00002-of-00002.safetensors"));
  std::ofstream(dir + "/m.safetensors.index.json")
      << R"({"metadata": {"total_size": 40}, "weight_map": {
           "model.diffusion_model.head.head.weight": "m-00001-of-00002.safetensors",
           "model.diffusion_model.head.head.bias": "m-00002-of-00002.safetensors"}})";
  auto store = WeightStore::open({dir + "/m.safetensors.index.json"});
  ASSERT_TRUE(store) << store.error().to_string();
  EXPECT_EQ(store->names(), (std::vector<std::string>{"head.head.bias", "head.head.weight"}));
  auto w = store->load_f32("head.head.weight", {2, 3});
  ASSERT_TRUE(w);
  EXPECT_EQ(*w, a);

  std::ofstream(dir + "/bad.safetensors.index.json")
      << R"({"weight_map": {"x.weight": "m-00001-of-00002.safetensors"}})";
  auto bad = WeightStore::open({dir + "/bad.safetensors.index.json"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("x.weight"), std::string::npos);
  auto twice = WeightStore::open({dir + "/m-00001-of-00002.safetensors", dir + "/m-00001-of-00002.safetensors"});
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message().find("more than one"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(WeightStore, ScaledFp8IsMultipliedByItsScale) {
  const std::string dir = temp_dir("fp8");
  SafetensorsWriter s;
  s.add_bytes("blocks.0.ffn.0.weight", StDType::kF8E4M3, {2, 2}, {0x38, 0x40, 0xb8, 0x00});  // 1, 2, -1, 0
  s.add_f32("blocks.0.ffn.0.scale_weight", {}, {0.125f});
  ASSERT_TRUE(s.write(dir + "/fp8.safetensors"));
  auto store = WeightStore::open({dir + "/fp8.safetensors"});
  ASSERT_TRUE(store) << store.error().to_string();
  auto w = store->load_f32("blocks.0.ffn.0.weight", {2, 2});
  ASSERT_TRUE(w);
  EXPECT_EQ(*w, (std::vector<float>{0.125f, 0.25f, -0.125f, 0.0f}));
  auto m = store->load_matrix("blocks.0.ffn.0.weight", {2, 2}, WeightPrecision::kStored);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->view().dtype, DType::kBF16);
  std::filesystem::remove_all(dir);
}

TEST(WeightStore, GgufDitWithQuantizedBlocksAndA5dPatchEmbedding) {
  const std::string dir = temp_dir("gguf");
  GgufWriter g;
  g.set_string("general.architecture", "wan");
  const auto patch = ramp(8 * 16 * 4, 0.01f);
  std::vector<uint8_t> patch_bytes(patch.size() * 4);
  std::memcpy(patch_bytes.data(), patch.data(), patch_bytes.size());
  // The community's converters store a 5-D conv weight flattened, with its real shape in metadata.
  g.add_tensor("patch_embedding.weight", DType::kF32, {64, 8}, patch_bytes);
  g.set_int32_array("comfy.gguf.orig_shape.patch_embedding.weight", {8, 16, 1, 2, 2});
  const auto ffn = ramp(64 * 4, 0.02f);
  std::vector<uint8_t> q8(static_cast<size_t>(dtype_row_bytes(DType::kQ8_0, 64)) * 4);
  for (int r = 0; r < 4; ++r) {
    quantize_row_blocks<Q8_0>(ffn.data() + r * 64, q8.data() + r * dtype_row_bytes(DType::kQ8_0, 64), 64);
  }
  g.add_tensor("blocks.0.ffn.0.weight", DType::kQ8_0, {64, 4}, q8);
  ASSERT_TRUE(g.write(dir + "/wan.gguf"));

  auto store = WeightStore::open({dir + "/wan.gguf"});
  ASSERT_TRUE(store) << store.error().to_string();
  auto p = store->load_f32("patch_embedding.weight", {8, 16, 1, 2, 2});
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(*p, patch);
  EXPECT_EQ(*store->dtype_name("blocks.0.ffn.0.weight"), "Q8_0");
  auto f = store->load_f32("blocks.0.ffn.0.weight", {4, 64});
  ASSERT_TRUE(f);
  for (size_t i = 0; i < ffn.size(); ++i) EXPECT_NEAR((*f)[i], ffn[i], 1.0f / 127.0f * 1.0f) << i;
  auto kept = store->load_matrix("blocks.0.ffn.0.weight", {4, 64}, WeightPrecision::kStored);
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->view().dtype, DType::kQ8_0);
  std::filesystem::remove_all(dir);
}

TEST(WeightStore, MissingAndTruncatedFilesAreClearErrors) {
  auto missing = WeightStore::open({"/nonexistent/dit.safetensors"});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("/nonexistent/dit.safetensors"), std::string::npos);
  const std::string dir = temp_dir("trunc");
  std::ifstream in(testing::data_path("wan/dit_a/diffusion_pytorch_model.safetensors"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(dir + "/t.safetensors", std::ios::binary).write(bytes.data(), static_cast<long>(bytes.size() / 2));
  auto truncated = WeightStore::open({dir + "/t.safetensors"});
  ASSERT_FALSE(truncated);
  EXPECT_NE(truncated.error().message().find("t.safetensors"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace frugal

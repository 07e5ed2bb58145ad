// Hostile and corrupt GGUF inputs: one test per class of bad input. Each must yield a clean
// Status with the documented code and a message naming the key or tensor and the reason.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gguf/gguf_test_util.h"
#include "gguf/gguf_writer.h"

namespace frugal {
namespace {

using gguf_test::find_bytes;
using gguf_test::parse_bytes;
using gguf_test::patch;
using gguf_test::RawGguf;

constexpr uint32_t kTypeF32 = 0;
constexpr uint32_t kTypeQ4_1 = 3;
constexpr uint32_t kTypeQ8_0 = 8;
constexpr uint64_t kHuge = 1ull << 62;

// Asserts `bytes` fail to parse with `code` and a message containing every one of `needles`.
void expect_error(const std::vector<uint8_t>& bytes, StatusCode code, const std::vector<std::string>& needles) {
  auto file = parse_bytes(bytes);
  ASSERT_FALSE(file) << "parsed a bad file";
  const Status& st = file.error();
  EXPECT_EQ(st.code(), code) << st.to_string();
  EXPECT_EQ(st.message().rfind("gguf: ", 0), 0u) << st.message();
  for (const auto& needle : needles) EXPECT_NE(st.message().find(needle), std::string::npos) << st.message();
}

// A small valid file with metadata of several kinds (incl. a nested array) and three tensors.
std::vector<uint8_t> small_valid_file() {
  GgufWriter writer;
  writer.set_string("general.architecture", "llama");
  writer.set_uint32("llama.block_count", 2);
  writer.set_float32("eps", 1e-5f);
  writer.set_bool("flag", true);
  writer.set_string_array("tokens", {"a", "bc", ""});
  writer.set("nested", GgufValue::make_array(GgufValueType::kArray,
                                             {GgufValue::make_array(GgufValueType::kInt32,
                                                                    {GgufValue::make_int(GgufValueType::kInt32, 1)})}));
  writer.add_tensor("a.f32", DType::kF32, {8, 2}, std::vector<uint8_t>(64, 1));
  writer.add_tensor("b.q8_0", DType::kQ8_0, {32, 2}, std::vector<uint8_t>(68, 2));
  writer.add_tensor("c.f16", DType::kF16, {3}, std::vector<uint8_t>(6, 3));
  return writer.serialize();
}

// Header + one tensor info + padding + `data_bytes` zero bytes of data.
std::vector<uint8_t> one_tensor_file(const std::string& name, const std::vector<uint64_t>& ne, uint32_t type_id,
                                     uint64_t offset, size_t data_bytes) {
  RawGguf raw;
  raw.header(3, 1, 0).tensor_info(name, ne, type_id, offset).pad_to(32).zeros(data_bytes);
  return raw.bytes();
}

TEST(GgufHostileTest, ValidBaselineParses) {
  const auto bytes = small_valid_file();
  auto file = parse_bytes(bytes);
  ASSERT_TRUE(file) << file.error().to_string();
  EXPECT_EQ(file->tensors().size(), 3u);
  const auto raw = one_tensor_file("t", {8}, kTypeF32, 0, 32);
  EXPECT_TRUE(parse_bytes(raw)) << parse_bytes(raw).error().to_string();
}

// Every strict prefix is a truncated file. Each prefix is copied into an exact-size buffer so a
// read one byte too far is caught by ASan in the sanitizer build.
TEST(GgufHostileTest, TruncatedAtEveryOffset) {
  const auto bytes = small_valid_file();
  ASSERT_TRUE(parse_bytes(bytes));
  for (size_t len = 0; len < bytes.size(); ++len) {
    const std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(len));
    auto file = parse_bytes(prefix);
    ASSERT_FALSE(file) << "prefix of " << len << " bytes parsed";
    ASSERT_EQ(file.error().code(), StatusCode::kDataLoss) << len << ": " << file.error().to_string();
  }
}

TEST(GgufHostileTest, BadMagic) {
  auto bytes = small_valid_file();
  bytes[0] = 'X';
  expect_error(bytes, StatusCode::kInvalidArgument, {"magic"});
  expect_error(std::vector<uint8_t>(64, 0), StatusCode::kInvalidArgument, {"magic"});
}

TEST(GgufHostileTest, WrongVersion) {
  auto bytes = small_valid_file();
  patch<uint32_t>(&bytes, 4, 1);
  expect_error(bytes, StatusCode::kUnimplemented, {"version 1"});
  patch<uint32_t>(&bytes, 4, 4);
  expect_error(bytes, StatusCode::kUnimplemented, {"version 4"});
  patch<uint32_t>(&bytes, 4, 0x03000000);
  expect_error(bytes, StatusCode::kUnimplemented, {"version 50331648", "big-endian"});
  patch<uint32_t>(&bytes, 4, 2);  // v2 shares v3's layout and is accepted
  auto v2 = parse_bytes(bytes);
  ASSERT_TRUE(v2) << v2.error().to_string();
  EXPECT_EQ(v2->version(), 2u);
}

TEST(GgufHostileTest, HugeTensorCount) {
  auto bytes = small_valid_file();
  patch<uint64_t>(&bytes, 8, kHuge);
  expect_error(bytes, StatusCode::kDataLoss, {"n_tensors 4611686018427387904"});
}

TEST(GgufHostileTest, HugeKvCount) {
  auto bytes = small_valid_file();
  patch<uint64_t>(&bytes, 16, kHuge);
  expect_error(bytes, StatusCode::kDataLoss, {"n_kv 4611686018427387904"});
}

TEST(GgufHostileTest, HugeStringLength) {
  RawGguf value_len;
  value_len.header(3, 0, 1).str("general.name").put<uint32_t>(8).put<uint64_t>(kHuge).zeros(16);
  expect_error(value_len.bytes(), StatusCode::kDataLoss, {"'general.name'", "4611686018427387904", "past the end"});
  RawGguf key_len;
  key_len.header(3, 0, 1).put<uint64_t>(~0ull).zeros(16);
  expect_error(key_len.bytes(), StatusCode::kDataLoss, {"metadata entry 0 of 1", "key"});
  RawGguf name_len;
  name_len.header(3, 1, 0).put<uint64_t>(kHuge).zeros(64);
  expect_error(name_len.bytes(), StatusCode::kDataLoss, {"tensor info 0 of 1", "name"});
}

// A hostile count must be rejected before any allocation proportional to it.
TEST(GgufHostileTest, HugeArrayLength) {
  for (const uint32_t elem_type : {0u, 8u, 9u, 10u}) {  // uint8, string, array, uint64
    RawGguf raw;
    raw.header(3, 0, 1).str("tokenizer.ggml.tokens").put<uint32_t>(9).put(elem_type).put<uint64_t>(kHuge).zeros(64);
    expect_error(raw.bytes(), StatusCode::kDataLoss, {"'tokenizer.ggml.tokens'", "array of 4611686018427387904"});
  }
  RawGguf max_count;  // count * element size overflows uint64
  max_count.header(3, 0, 1).str("k").put<uint32_t>(9).put<uint32_t>(10).put<uint64_t>(~0ull).zeros(64);
  expect_error(max_count.bytes(), StatusCode::kDataLoss, {"'k'", "array of 18446744073709551615"});
}

// Counts the file can pay for byte-wise but that would still cost ~100x their size in memory.
TEST(GgufHostileTest, MemoryBudgetBoundsLargeCounts) {
  const uint64_t n_elems = kGgufMaxMetadataValues + 1;
  RawGguf big_array;
  big_array.header(3, 0, 1).str("k").put<uint32_t>(9).put<uint32_t>(0).put<uint64_t>(n_elems).zeros(n_elems);
  expect_error(big_array.bytes(), StatusCode::kResourceExhausted, {"'k'", "limit"});
  RawGguf many_tensors;
  many_tensors.header(3, kGgufMaxTensors + 1, 0).zeros((kGgufMaxTensors + 1) * 32);
  expect_error(many_tensors.bytes(), StatusCode::kResourceExhausted, {"n_tensors", "limit"});
}

TEST(GgufHostileTest, DimsWhoseProductOverflows) {
  expect_error(one_tensor_file("big", {1ull << 32, 1ull << 32}, kTypeF32, 0, 32), StatusCode::kDataLoss,
               {"'big'", "overflows"});
  // Fits int64 as an element count but not as a byte count (F32: 4 bytes each).
  expect_error(one_tensor_file("big", {1ull << 31, 1ull << 31}, kTypeF32, 0, 32), StatusCode::kDataLoss,
               {"'big'", "overflows"});
  expect_error(one_tensor_file("zero", {8, 0}, kTypeF32, 0, 32), StatusCode::kDataLoss, {"'zero'", "dim 1 is 0"});
  expect_error(one_tensor_file("neg", {~0ull}, kTypeF32, 0, 32), StatusCode::kDataLoss, {"'neg'", "dim 0"});
  expect_error(one_tensor_file("five", {1, 1, 1, 1, 1}, kTypeF32, 0, 32), StatusCode::kDataLoss,
               {"'five'", "n_dims 5"});
  expect_error(one_tensor_file("none", {}, kTypeF32, 0, 32), StatusCode::kDataLoss, {"'none'", "n_dims 0"});
}

TEST(GgufHostileTest, TensorOutsideFile) {
  // 1024 x 1 F32 = 4096 bytes, but only 32 bytes of data follow the header.
  const auto bytes = one_tensor_file("blk.0.attn_q.weight", {1024}, kTypeF32, 0, 32);
  const size_t data_offset = bytes.size() - 32;
  expect_error(bytes, StatusCode::kDataLoss,
               {"gguf: tensor 'blk.0.attn_q.weight': data [offset " + std::to_string(data_offset) +
                ", 4096 bytes] extends past end of file (" + std::to_string(bytes.size()) + " bytes)"});
  // An offset beyond the file, and an offset so large that offset + size wraps around.
  expect_error(one_tensor_file("t", {8}, kTypeF32, 1ull << 20, 32), StatusCode::kDataLoss, {"'t'", "past end"});
  expect_error(one_tensor_file("t", {8}, kTypeF32, ~0ull - 31, 32), StatusCode::kDataLoss, {"'t'", "past end"});
}

TEST(GgufHostileTest, UnknownTensorType) {
  expect_error(one_tensor_file("blk.0.ffn_up.weight", {32}, 99, 0, 128), StatusCode::kUnimplemented,
               {"'blk.0.ffn_up.weight'", "type id 99"});
}

TEST(GgufHostileTest, UnsupportedTensorType) {
  expect_error(one_tensor_file("blk.0.ffn_up.weight", {32}, kTypeQ4_1, 0, 128), StatusCode::kUnimplemented,
               {"'blk.0.ffn_up.weight'", "Q4_1"});
}

TEST(GgufHostileTest, RowNotMultipleOfBlockSize) {
  expect_error(one_tensor_file("q", {33}, kTypeQ8_0, 0, 128), StatusCode::kDataLoss, {"'q'", "row length 33", "32"});
}

TEST(GgufHostileTest, MisalignedTensorOffset) {
  expect_error(one_tensor_file("t", {8}, kTypeF32, 4, 64), StatusCode::kDataLoss, {"'t'", "offset 4", "alignment 32"});
}

TEST(GgufHostileTest, BadAlignmentValue) {
  for (const uint32_t align : {0u, 3u, 48u}) {
    RawGguf raw;
    raw.header(3, 0, 1).kv_u32("general.alignment", align);
    expect_error(raw.bytes(), StatusCode::kDataLoss,
                 {"'general.alignment'", "alignment " + std::to_string(align), "power of two"});
  }
  RawGguf wrong_type;
  wrong_type.header(3, 0, 1).kv_str("general.alignment", "32");
  expect_error(wrong_type.bytes(), StatusCode::kDataLoss, {"'general.alignment'", "string"});
  RawGguf ok;  // a valid non-default alignment moves the data section
  ok.header(3, 1, 1).kv_u32("general.alignment", 256).tensor_info("t", {8}, kTypeF32, 0).pad_to(256).zeros(32);
  auto file = parse_bytes(ok.bytes());
  ASSERT_TRUE(file) << file.error().to_string();
  EXPECT_EQ(file->alignment(), 256u);
  EXPECT_EQ(file->data_offset(), 256u);
}

TEST(GgufHostileTest, DuplicateKey) {
  RawGguf raw;
  raw.header(3, 0, 2).kv_u32("llama.block_count", 1).kv_u32("llama.block_count", 2);
  expect_error(raw.bytes(), StatusCode::kDataLoss, {"duplicate key 'llama.block_count'"});
}

TEST(GgufHostileTest, DuplicateTensor) {
  RawGguf raw;
  raw.header(3, 2, 0).tensor_info("w", {8}, kTypeF32, 0).tensor_info("w", {8}, kTypeF32, 32).pad_to(32).zeros(64);
  expect_error(raw.bytes(), StatusCode::kDataLoss, {"duplicate tensor name 'w'"});
}

// Arrays nested `depth` levels deep around one uint8.
std::vector<uint8_t> nested_array_file(int depth) {
  RawGguf raw;
  raw.header(3, 0, 1).str("deep").put<uint32_t>(9);
  for (int level = 1; level < depth; ++level) raw.put<uint32_t>(9).put<uint64_t>(1);
  raw.put<uint32_t>(0).put<uint64_t>(1).put<uint8_t>(7);
  return raw.bytes();
}

TEST(GgufHostileTest, TooDeepNesting) {
  const auto ok_bytes = nested_array_file(kGgufMaxArrayDepth);
  auto ok = parse_bytes(ok_bytes);
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(ok->find("deep")->to_string(), "[[[[[[[[7]]]]]]]]");
  expect_error(nested_array_file(kGgufMaxArrayDepth + 1), StatusCode::kDataLoss, {"'deep'", "nested deeper than 8"});
  expect_error(nested_array_file(10000), StatusCode::kDataLoss, {"'deep'", "nested deeper"});
}

TEST(GgufHostileTest, UnknownValueTypeAndBadBool) {
  RawGguf unknown;
  unknown.header(3, 0, 1).str("k").put<uint32_t>(13).zeros(8);
  expect_error(unknown.bytes(), StatusCode::kDataLoss, {"'k'", "unknown value type 13"});
  RawGguf unknown_elem;
  unknown_elem.header(3, 0, 1).str("k").put<uint32_t>(9).put<uint32_t>(77).put<uint64_t>(1).zeros(8);
  expect_error(unknown_elem.bytes(), StatusCode::kDataLoss, {"'k'", "unknown array element type 77"});
  RawGguf bad_bool;
  bad_bool.header(3, 0, 1).str("b").put<uint32_t>(7).put<uint8_t>(2);
  expect_error(bad_bool.bytes(), StatusCode::kDataLoss, {"'b'", "bool"});
}

TEST(GgufHostileTest, HostileNamesAreEscapedInMessages) {
  RawGguf raw;
  raw.header(3, 0, 2).kv_u32(std::string("a\nb\0c", 5), 1).kv_u32(std::string("a\nb\0c", 5), 2);
  expect_error(raw.bytes(), StatusCode::kDataLoss, {"'a\\x0ab\\x00c'"});
}

TEST(GgufHostileTest, MissingFile) {
  auto file = GgufFile::open(std::string(FRUGAL_TEST_DATA_DIR) + "/models/does-not-exist.gguf");
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace frugal

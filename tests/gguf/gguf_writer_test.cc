// GgufWriter → GgufFile round trips: every value type (nested arrays included), every supported
// tensor dtype, alignment, key replacement, file output; plus the typed getters and to_string.
#include <gtest/gtest.h>

#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gguf/gguf_test_util.h"
#include "gguf/gguf_writer.h"

namespace frugal {
namespace {

using gguf_test::parse_bytes;

// Field-by-field equality, recursing into arrays.
void expect_same_value(const GgufValue& want, const GgufValue& got, const std::string& where) {
  ASSERT_EQ(want.type, got.type) << where;
  switch (want.type) {
    case GgufValueType::kString: EXPECT_EQ(want.str, got.str) << where; return;
    case GgufValueType::kFloat32:
    case GgufValueType::kFloat64: EXPECT_EQ(want.f64, got.f64) << where; return;
    case GgufValueType::kInt8:
    case GgufValueType::kInt16:
    case GgufValueType::kInt32:
    case GgufValueType::kInt64: EXPECT_EQ(want.i64, got.i64) << where; return;
    case GgufValueType::kArray:
      ASSERT_EQ(want.array_type, got.array_type) << where;
      ASSERT_EQ(want.array.size(), got.array.size()) << where;
      for (size_t elem_idx = 0; elem_idx < want.array.size(); ++elem_idx) {
        expect_same_value(want.array[elem_idx], got.array[elem_idx], where + "[" + std::to_string(elem_idx) + "]");
      }
      return;
    default: EXPECT_EQ(want.u64, got.u64) << where; return;
  }
}

std::vector<std::pair<std::string, GgufValue>> every_value_type() {
  using T = GgufValueType;
  std::vector<std::pair<std::string, GgufValue>> kvs = {
      {"u8", GgufValue::make_uint(T::kUint8, 255)},
      {"i8", GgufValue::make_int(T::kInt8, -128)},
      {"u16", GgufValue::make_uint(T::kUint16, 65535)},
      {"i16", GgufValue::make_int(T::kInt16, -32768)},
      {"u32", GgufValue::make_uint(T::kUint32, 4294967295u)},
      {"i32", GgufValue::make_int(T::kInt32, std::numeric_limits<int32_t>::min())},
      {"f32", GgufValue::make_float(T::kFloat32, -1.5e-5f)},
      {"bool_true", GgufValue::make_bool(true)},
      {"bool_false", GgufValue::make_bool(false)},
      {"str", GgufValue::make_string(std::string("h\xc3\xa9llo\0world", 12))},
      {"str_empty", GgufValue::make_string("")},
      {"u64", GgufValue::make_uint(T::kUint64, std::numeric_limits<uint64_t>::max())},
      {"i64", GgufValue::make_int(T::kInt64, std::numeric_limits<int64_t>::min())},
      {"f64", GgufValue::make_float(T::kFloat64, 0.1)},
      {"arr_empty", GgufValue::make_array(T::kUint32, {})},
      {"arr_f32", GgufValue::make_array(T::kFloat32, {GgufValue::make_float(T::kFloat32, 0.25),
                                                      GgufValue::make_float(T::kFloat32, -3)})},
      {"arr_str", GgufValue::make_array(T::kString, {GgufValue::make_string("a"), GgufValue::make_string("")})},
      {"arr_bool", GgufValue::make_array(T::kBool, {GgufValue::make_bool(true), GgufValue::make_bool(false)})},
      {"arr_i64", GgufValue::make_array(T::kInt64, {GgufValue::make_int(T::kInt64, -7)})},
  };
  // [[["x"], []], [[ "y", "z" ]]]: arrays of arrays of arrays of strings.
  const GgufValue inner_x = GgufValue::make_array(T::kString, {GgufValue::make_string("x")});
  const GgufValue inner_empty = GgufValue::make_array(T::kString, {});
  const GgufValue inner_yz =
      GgufValue::make_array(T::kString, {GgufValue::make_string("y"), GgufValue::make_string("z")});
  kvs.emplace_back("arr_nested", GgufValue::make_array(T::kArray, {GgufValue::make_array(T::kArray, {inner_x, inner_empty}),
                                                                   GgufValue::make_array(T::kArray, {inner_yz})}));
  return kvs;
}

TEST(GgufWriterTest, RoundTripsEveryValueType) {
  GgufWriter writer;
  const auto kvs = every_value_type();
  for (const auto& [key, value] : kvs) writer.set(key, value);
  const std::vector<uint8_t> bytes = writer.serialize();
  auto file = parse_bytes(bytes);
  ASSERT_TRUE(file) << file.error().to_string();
  EXPECT_EQ(file->version(), 3u);
  ASSERT_EQ(file->metadata().size(), kvs.size());
  for (size_t kv_idx = 0; kv_idx < kvs.size(); ++kv_idx) {
    EXPECT_EQ(file->metadata()[kv_idx].first, kvs[kv_idx].first);  // file order kept
    expect_same_value(kvs[kv_idx].second, file->metadata()[kv_idx].second, kvs[kv_idx].first);
  }
  EXPECT_TRUE(file->tensors().empty());
}

TEST(GgufWriterTest, SetReplacesExistingKey) {
  GgufWriter writer;
  writer.set_uint32("a", 1);
  writer.set_string("b", "x");
  writer.set_uint32("a", 2);
  writer.set_string("b", "y");
  const std::vector<uint8_t> bytes = writer.serialize();
  auto file = parse_bytes(bytes);
  ASSERT_TRUE(file) << file.error().to_string();
  ASSERT_EQ(file->metadata().size(), 2u);
  EXPECT_EQ(file->metadata()[0].first, "a");
  EXPECT_EQ(*file->get_uint("a"), 2u);
  EXPECT_EQ(*file->get_string("b"), "y");
}

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> out(n);
  for (auto& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

void check_tensor_round_trip(uint64_t alignment) {
  GgufWriter writer(alignment);
  writer.set_string("general.architecture", "llama");
  struct Added {
    std::string name;
    DType dtype;
    std::vector<int64_t> ne;
    std::vector<uint8_t> bytes;
  };
  std::vector<Added> added;
  for (uint32_t type_id = 0; type_id < kDTypeTableSize; ++type_id) {
    const auto traits = dtype_traits_from_id(type_id);
    if (!traits || !traits->supported) continue;
    // 2 blocks per row, 3 rows, one odd extra dim: sizes that do not land on the alignment.
    const std::vector<int64_t> ne = {2 * traits->block_elems, 3, 1, 1};
    const size_t n_bytes = static_cast<size_t>(2 * traits->block_bytes * 3);
    added.push_back({"t." + std::string(traits->name), traits->dtype, ne, random_bytes(n_bytes, type_id)});
    writer.add_tensor(added.back().name, added.back().dtype, ne, added.back().bytes);
  }
  ASSERT_GE(added.size(), 8u);
  const std::vector<uint8_t> bytes = writer.serialize();
  auto file = parse_bytes(bytes);
  ASSERT_TRUE(file) << file.error().to_string();
  EXPECT_EQ(file->alignment(), alignment);
  EXPECT_EQ(file->data_offset() % alignment, 0u);
  ASSERT_EQ(file->tensors().size(), added.size());
  for (size_t tensor_idx = 0; tensor_idx < added.size(); ++tensor_idx) {
    const GgufTensorInfo& info = file->tensors()[tensor_idx];
    SCOPED_TRACE(info.name);
    EXPECT_EQ(info.name, added[tensor_idx].name);
    EXPECT_EQ(info.dtype, added[tensor_idx].dtype);
    EXPECT_EQ(info.n_dims, 4);
    EXPECT_EQ(info.ne[0], added[tensor_idx].ne[0]);
    EXPECT_EQ(info.ne[1], 3);
    EXPECT_EQ(info.offset % alignment, 0u);
    ASSERT_EQ(info.size_bytes, added[tensor_idx].bytes.size());
    const TensorView view = file->tensor_view(info);
    const auto* data = static_cast<const uint8_t*>(view.data);
    EXPECT_EQ(std::vector<uint8_t>(data, data + info.size_bytes), added[tensor_idx].bytes);
  }
}

TEST(GgufWriterTest, RoundTripsEverySupportedDtypeDefaultAlignment) { check_tensor_round_trip(32); }

TEST(GgufWriterTest, RoundTripsEverySupportedDtypeAlignment64) { check_tensor_round_trip(64); }

TEST(GgufWriterTest, WritesAndOpensFile) {
  GgufWriter writer;
  writer.set_string("general.architecture", "llama");
  writer.set_float32_array("floats", {1.0f, 2.5f});
  writer.set_int32_array("ints", {-1, 7});
  writer.set_string_array("strs", {"a", "bc"});
  writer.set_uint64("big", 1ull << 40);
  writer.set_int32("neg", -3);
  writer.set_bool("flag", true);
  writer.set_float32("eps", 1e-5f);
  writer.add_tensor("w", DType::kF32, {2}, {0, 0, 128, 63, 0, 0, 0, 64});  // {1.0f, 2.0f}
  const std::string path = std::string(FRUGAL_BINARY_DIR) + "/gguf_writer_test.gguf";
  ASSERT_TRUE(writer.write(path));
  auto file = GgufFile::open(path);
  ASSERT_TRUE(file) << file.error().to_string();
  EXPECT_EQ(file->path(), path);
  EXPECT_EQ(*file->get_float_array("floats"), (std::vector<double>{1.0, 2.5}));
  EXPECT_EQ(*file->get_int_array("ints"), (std::vector<int64_t>{-1, 7}));
  EXPECT_EQ(*file->get_string_array("strs"), (std::vector<std::string>{"a", "bc"}));
  EXPECT_EQ(*file->get_uint("big"), 1ull << 40);
  EXPECT_EQ(*file->get_int("neg"), -3);
  EXPECT_TRUE(*file->get_bool("flag"));
  EXPECT_EQ(*file->get_float("eps"), static_cast<double>(1e-5f));
  const float* w = static_cast<const float*>(file->tensor_view(*file->find_tensor("w")).data);
  EXPECT_EQ(w[0], 1.0f);
  EXPECT_EQ(w[1], 2.0f);
  std::remove(path.c_str());
  EXPECT_FALSE(writer.write("/nonexistent-dir/x.gguf"));
}

TEST(GgufGettersTest, ConvertOrNameTheKeyAndTypes) {
  GgufWriter writer;
  writer.set_int32("pos", 5);
  writer.set_int32("neg", -5);
  writer.set_uint64("huge", std::numeric_limits<uint64_t>::max());
  writer.set_string("s", "text");
  writer.set_float32_array("fa", {0.5f});
  const std::vector<uint8_t> bytes = writer.serialize();  // outlives the borrowing GgufFile
  auto file = parse_bytes(bytes);
  ASSERT_TRUE(file) << file.error().to_string();
  EXPECT_EQ(*file->get_uint("pos"), 5u);
  EXPECT_EQ(file->get_uint("neg").error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*file->get_int("neg"), -5);
  EXPECT_EQ(file->get_int("huge").error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*file->get_float("neg"), -5.0);
  EXPECT_EQ(file->get_uint("missing").error().code(), StatusCode::kNotFound);
  const Status wrong = file->get_uint("s").error();
  EXPECT_EQ(wrong.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.message().find("'s'"), std::string::npos) << wrong.message();
  EXPECT_NE(wrong.message().find("string"), std::string::npos) << wrong.message();
  EXPECT_EQ(file->get_string_array("fa").error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(file->get_int_array("fa").error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(file->get_bool("pos").error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*file->get_uint_or("missing", 7), 7u);
  EXPECT_EQ(*file->get_float_or("missing", 0.5), 0.5);
  EXPECT_FALSE(*file->get_bool_or("missing", false));
  EXPECT_EQ(*file->get_string_or("missing", "d"), "d");
  EXPECT_EQ(file->get_string_or("pos", "d").error().code(), StatusCode::kInvalidArgument);
}

TEST(GgufValueTest, ToStringRendersEachKind) {
  using T = GgufValueType;
  EXPECT_EQ(GgufValue::make_uint(T::kUint32, 42).to_string(), "42");
  EXPECT_EQ(GgufValue::make_int(T::kInt8, -3).to_string(), "-3");
  EXPECT_EQ(GgufValue::make_float(T::kFloat32, 1e-5f).to_string(), "1e-05");
  EXPECT_EQ(GgufValue::make_float(T::kFloat64, 0.1).to_string(), "0.1");
  EXPECT_EQ(GgufValue::make_bool(true).to_string(), "true");
  EXPECT_EQ(GgufValue::make_string("a\"b\n\x01").to_string(), "\"a\\\"b\\n\\x01\"");
  std::vector<GgufValue> elems;
  for (uint64_t x = 0; x < 10; ++x) elems.push_back(GgufValue::make_uint(T::kUint8, x));
  const GgufValue arr = GgufValue::make_array(T::kUint8, elems);
  EXPECT_EQ(arr.to_string(3), "[0, 1, 2, ... (10 total)]");
  EXPECT_EQ(arr.to_string(10), "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]");
  EXPECT_EQ(arr.to_string(0), "[... (10 total)]");
  const GgufValue nested = GgufValue::make_array(
      T::kArray, {GgufValue::make_array(T::kString, {GgufValue::make_string("x")}), GgufValue::make_array(T::kString, {})});
  EXPECT_EQ(nested.to_string(), "[[\"x\"], []]");
  EXPECT_EQ(gguf_value_type_name(T::kFloat64), "float64");
}

}  // namespace
}  // namespace frugal

// Safetensors reader: real files from the Wan2.1 reference data, writer round trips, hostile headers
// and FP8 known answers.
#include "safetensors/safetensors_reader.h"

#include <cmath>
#include <cstring>

#include <gtest/gtest.h>

#include "common/test_data.h"
#include "safetensors/safetensors_writer.h"

namespace frugal {
namespace {

Expected<SafetensorsFile> parse_bytes(const std::vector<uint8_t>& bytes) {
  return SafetensorsFile::parse(MappedFile::borrow(bytes.data(), bytes.size()));
}

// A file made of a raw header text and `data_bytes` zero bytes of data.
std::vector<uint8_t> raw_file(const std::string& header, size_t data_bytes, uint64_t declared_len = UINT64_MAX) {
  const uint64_t len = declared_len == UINT64_MAX ? header.size() : declared_len;
  std::vector<uint8_t> out(8 + header.size() + data_bytes, 0);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(len >> (8 * i));
  std::memcpy(out.data() + 8, header.data(), header.size());
  return out;
}

TEST(SafetensorsReader, ReadsTheOfficialDitFile) {
  auto file = SafetensorsFile::open(testing::data_path("wan/dit_a/diffusion_pytorch_model.safetensors"));
  ASSERT_TRUE(file) << file.error().to_string();
  const SafetensorsTensor* patch = file->find("patch_embedding.weight");
  ASSERT_NE(patch, nullptr);
  EXPECT_EQ(patch->dtype, StDType::kF32);
  EXPECT_EQ(patch->shape, (std::vector<int64_t>{64, 16, 1, 2, 2}));
  EXPECT_EQ(file->metadata().at("component").empty(), false);
  for (size_t i = 1; i < file->tensors().size(); ++i) {
    EXPECT_LT(file->tensors()[i - 1].name, file->tensors()[i].name);
  }
  int64_t params = 0;
  for (const auto& t : file->tensors()) params += t.num_elements();
  EXPECT_EQ(params, 147200);  // the README's parameter count for dit_a
}

TEST(SafetensorsReader, Bf16AndF16FilesConvertToTheRoundedF32Values) {
  auto f32 = SafetensorsFile::open(testing::data_path("wan/dit_a/diffusion_pytorch_model.safetensors"));
  auto bf16 = SafetensorsFile::open(testing::data_path("wan/dit_a/diffusion_pytorch_model.bf16.safetensors"));
  ASSERT_TRUE(f32 && bf16);
  const SafetensorsTensor* a = f32->find("blocks.0.ffn.0.weight");
  const SafetensorsTensor* b = bf16->find("blocks.0.ffn.0.weight");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(b->dtype, StDType::kBF16);
  std::vector<float> va(a->num_elements()), vb(b->num_elements());
  ASSERT_TRUE(st_tensor_to_f32(*a, va.data()));
  ASSERT_TRUE(st_tensor_to_f32(*b, vb.data()));
  for (size_t i = 0; i < va.size(); ++i) {
    ASSERT_LE(std::fabs(va[i] - vb[i]), std::fabs(va[i]) * (1.0f / 256.0f)) << i;  // bf16: 8 significant bits
  }
}

TEST(SafetensorsReader, WriterRoundTripsValuesShapesAndMetadata) {
  SafetensorsWriter w;
  w.set_metadata("component", "test");
  w.add_f32("b.weight", {2, 3}, {1, 2, 3, 4, 5, 6});
  w.add_f32("a.bias", {3}, {-1, 0.5f, 7});
  w.add_bytes("scalar", StDType::kF8E4M3, {}, {0x38});
  const auto bytes = w.serialize();
  auto file = parse_bytes(bytes);
  ASSERT_TRUE(file) << file.error().to_string();
  EXPECT_EQ(file->metadata().at("component"), "test");
  EXPECT_EQ((8 + w.header().size()) % 8, 0u);
  const SafetensorsTensor* t = file->find("b.weight");
  ASSERT_NE(t, nullptr);
  std::vector<float> v(6);
  ASSERT_TRUE(st_tensor_to_f32(*t, v.data()));
  EXPECT_EQ(v, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  const SafetensorsTensor* s = file->find("scalar");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->num_elements(), 1);
  float one = 0;
  ASSERT_TRUE(st_tensor_to_f32(*s, &one));
  EXPECT_EQ(one, 1.0f);
}

TEST(SafetensorsReader, Fp8KnownAnswers) {
  EXPECT_EQ(f8e4m3_to_f32(0x38), 1.0f);         // exp 7 = bias
  EXPECT_EQ(f8e4m3_to_f32(0x7e), 448.0f);       // the largest finite E4M3 value
  EXPECT_EQ(f8e4m3_to_f32(0xfe), -448.0f);
  EXPECT_EQ(f8e4m3_to_f32(0x01), std::ldexp(1.0f, -9));  // smallest subnormal
  EXPECT_EQ(f8e4m3_to_f32(0x08), std::ldexp(1.0f, -6));  // smallest normal
  EXPECT_TRUE(std::isnan(f8e4m3_to_f32(0x7f)));
  EXPECT_EQ(f8e4m3_to_f32(0x00), 0.0f);
  EXPECT_EQ(f8e5m2_to_f32(0x3c), 1.0f);
  EXPECT_EQ(f8e5m2_to_f32(0x7b), 57344.0f);     // the largest finite E5M2 value
  EXPECT_TRUE(std::isinf(f8e5m2_to_f32(0x7c)));
}

struct HostileCase {
  const char* what;
  std::string header;
  size_t data_bytes;
  StatusCode code;
};

TEST(SafetensorsReader, HostileHeadersAreRejectedWithAReason) {
  const std::string deep = std::string(10000, '[') + std::string(10000, ']');
  const std::vector<HostileCase> cases = {
      {"not json", "{\"a\": ", 0, StatusCode::kDataLoss},
      {"not an object", "[1, 2]", 0, StatusCode::kDataLoss},
      {"deep nesting", "{\"a\": " + deep + "}", 0, StatusCode::kDataLoss},
      {"unknown dtype", R"({"t": {"dtype": "F7", "shape": [1], "data_offsets": [0, 4]}})", 4, StatusCode::kUnimplemented},
      {"negative dim", R"({"t": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", 4, StatusCode::kDataLoss},
      {"size mismatch", R"({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}})", 8, StatusCode::kDataLoss},
      {"past the end", R"({"t": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", 8, StatusCode::kOutOfRange},
      {"reversed range", R"({"t": {"dtype": "F32", "shape": [0], "data_offsets": [8, 4]}})", 8, StatusCode::kOutOfRange},
      {"overlap", R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                     "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})", 12, StatusCode::kDataLoss},
      {"huge shape", R"({"t": {"dtype": "F32", "shape": [4294967296, 4294967296, 4294967296], "data_offsets": [0, 4]}})", 4,
       StatusCode::kDataLoss},
      {"metadata not strings", R"({"__metadata__": {"a": 1}})", 0, StatusCode::kDataLoss},
      {"offsets not a pair", R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})", 4, StatusCode::kDataLoss},
      {"float offsets", R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [0.0, 4.0]}})", 4, StatusCode::kDataLoss},
  };
  for (const HostileCase& c : cases) {
    auto file = parse_bytes(raw_file(c.header, c.data_bytes));
    ASSERT_FALSE(file) << c.what;
    EXPECT_EQ(file.error().code(), c.code) << c.what << ": " << file.error().to_string();
    EXPECT_FALSE(file.error().message().empty()) << c.what;
  }
}

TEST(SafetensorsReader, TruncatedFilesAndLengthsAreRejected) {
  EXPECT_FALSE(parse_bytes({1, 2, 3}));
  const std::string header = R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})";
  auto whole = raw_file(header, 4);
  ASSERT_TRUE(parse_bytes(whole));
  for (size_t cut = 0; cut < whole.size(); ++cut) {
    std::vector<uint8_t> part(whole.begin(), whole.begin() + static_cast<long>(cut));
    EXPECT_FALSE(parse_bytes(part)) << "cut at " << cut;
  }
  EXPECT_FALSE(parse_bytes(raw_file(header, 4, uint64_t{1} << 62)));
  auto missing = SafetensorsFile::open("/nonexistent/model.safetensors");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("/nonexistent/model.safetensors"), std::string::npos);
}

}  // namespace
}  // namespace frugal

// Importance-matrix files: GGUF and legacy .dat round trips, the mean-square rule, and clear
// errors for truncated, inconsistent or foreign files (tests/model). Interchange with llama.cpp
// (its files read here, ours read by llama-quantize) is tests/engine/imatrix_golden_test.cc.
#include "model/imatrix_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "gguf/gguf_writer.h"

namespace frugal {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("frugal-imatrix-" + std::to_string(::getpid()) + "-" + name)).string();
}

Imatrix sample() {
  Imatrix m;
  m.entries["blk.0.attn_q.weight"] = {{4.0f, 8.0f, 0.0f, 12.0f}, {4}};
  m.entries["blk.0.ffn_down.weight"] = {{1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f}, {2}};
  m.datasets = {"calib.txt"};
  m.chunk_count = 2;
  m.chunk_size = 2;
  return m;
}

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(ImatrixFile, GgufRoundTripKeepsRawSumsAndCounts) {
  const std::string path = temp_path("rt.gguf");
  ASSERT_TRUE(write_imatrix(sample(), path).is_ok());
  auto m = read_imatrix(path);
  ASSERT_TRUE(m.has_value()) << m.error().message();
  EXPECT_EQ(m->entries.at("blk.0.attn_q.weight").sums, (std::vector<float>{4, 8, 0, 12}));
  EXPECT_EQ(m->entries.at("blk.0.attn_q.weight").counts, std::vector<int64_t>{4});
  EXPECT_EQ(m->datasets, std::vector<std::string>{"calib.txt"});
  EXPECT_EQ(m->chunk_count, 2);
  EXPECT_EQ(m->chunk_size, 2);
  auto imp = m->importance("blk.0.attn_q.weight", 4);
  ASSERT_TRUE(imp.has_value());
  EXPECT_EQ(*imp, (std::vector<float>{1, 2, 0, 3}));  // sums / count
  std::filesystem::remove(path);
}

TEST(ImatrixFile, LegacyRoundTripKeepsTheMeanSquares) {
  const std::string path = temp_path("rt.dat");
  ASSERT_TRUE(write_imatrix(sample(), path).is_ok());
  auto m = read_imatrix(path);
  ASSERT_TRUE(m.has_value()) << m.error().message();
  // ncall = ceil(4 tokens / chunk of 2) = 2: values mean * 2, count 2.
  EXPECT_EQ(m->entries.at("blk.0.attn_q.weight").counts, std::vector<int64_t>{2});
  EXPECT_EQ(*m->importance("blk.0.attn_q.weight", 4), (std::vector<float>{1, 2, 0, 3}));
  EXPECT_EQ(*m->importance("blk.0.ffn_down.weight", 6), (std::vector<float>{0.5f, 1, 1.5f, 2, 2.5f, 3}));
  EXPECT_EQ(m->datasets, std::vector<std::string>{"calib.txt"});
  EXPECT_EQ(m->chunk_count, 2);
  std::filesystem::remove(path);
}

TEST(ImatrixFile, ImportanceNamesAMissingTensorOrAWrongWidth) {
  const Imatrix m = sample();
  auto missing = m.importance("blk.9.attn_q.weight", 4);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  auto wrong = m.importance("blk.0.attn_q.weight", 8);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_NE(wrong.error().message().find("has 4 columns, the tensor 8"), std::string::npos) << wrong.error().message();
}

TEST(ImatrixFile, TruncatedLegacyFilesAreRefusedAtEveryCut) {
  const std::string path = temp_path("trunc.dat");
  ASSERT_TRUE(write_imatrix(sample(), path).is_ok());
  const std::vector<char> whole = read_bytes(path);
  // Every cut inside the entries is an error; cuts in the optional trailer may read.
  const size_t entries_end = whole.size() - 4 - 4 - std::string("calib.txt").size();
  for (size_t cut = 0; cut < entries_end; ++cut) {
    write_bytes(path, std::vector<char>(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut)));
    auto m = read_imatrix(path);
    ASSERT_FALSE(m.has_value()) << "cut at " << cut;
    EXPECT_NE(m.error().message().find(path), std::string::npos) << m.error().message();
  }
  std::filesystem::remove(path);
}

TEST(ImatrixFile, TruncatedGgufIsRefused) {
  const std::string path = temp_path("trunc.gguf");
  ASSERT_TRUE(write_imatrix(sample(), path).is_ok());
  const std::vector<char> whole = read_bytes(path);
  // (the last 4-byte .counts tensor and the end padding lie within the last 36 bytes)
  for (size_t cut : {size_t{4}, size_t{40}, whole.size() / 2, whole.size() - 36}) {
    write_bytes(path, std::vector<char>(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut)));
    EXPECT_FALSE(read_imatrix(path).has_value()) << "cut at " << cut;
  }
  std::filesystem::remove(path);
}

TEST(ImatrixFile, InconsistentGgufEntriesAreRefused) {
  const std::string path = temp_path("bad.gguf");
  const auto f32 = [](std::vector<float> v) {
    std::vector<uint8_t> b(v.size() * 4);
    std::memcpy(b.data(), v.data(), b.size());
    return b;
  };
  {  // sums without counts
    GgufWriter w;
    w.add_tensor("blk.0.attn_q.weight.in_sum2", DType::kF32, {4, 1}, f32({1, 2, 3, 4}));
    ASSERT_TRUE(w.write(path).is_ok());
    auto m = read_imatrix(path);
    ASSERT_FALSE(m.has_value());
    EXPECT_NE(m.error().message().find("sums but no counts"), std::string::npos) << m.error().message();
  }
  {  // 3 values for 2 matrices
    GgufWriter w;
    w.add_tensor("blk.0.attn_q.weight.in_sum2", DType::kF32, {3, 1}, f32({1, 2, 3}));
    w.add_tensor("blk.0.attn_q.weight.counts", DType::kF32, {1, 2}, f32({1, 1}));
    ASSERT_TRUE(w.write(path).is_ok());
    EXPECT_FALSE(read_imatrix(path).has_value());
  }
  {  // a negative sum
    GgufWriter w;
    w.add_tensor("blk.0.attn_q.weight.in_sum2", DType::kF32, {2, 1}, f32({1, -2}));
    w.add_tensor("blk.0.attn_q.weight.counts", DType::kF32, {1, 1}, f32({1}));
    ASSERT_TRUE(w.write(path).is_ok());
    EXPECT_FALSE(read_imatrix(path).has_value());
  }
  {  // a model file is not an imatrix
    GgufWriter w;
    w.add_tensor("blk.0.attn_q.weight", DType::kF32, {2, 1}, f32({1, 2}));
    ASSERT_TRUE(w.write(path).is_ok());
    auto m = read_imatrix(path);
    ASSERT_FALSE(m.has_value());
    EXPECT_NE(m.error().message().find("not an imatrix"), std::string::npos) << m.error().message();
  }
  std::filesystem::remove(path);
}

TEST(ImatrixFile, MissingFileAndEmptyImatrix) {
  EXPECT_EQ(read_imatrix("/nonexistent/x.gguf").error().code(), StatusCode::kNotFound);
  EXPECT_FALSE(write_imatrix(Imatrix{}, temp_path("empty.gguf")).is_ok());
}

}  // namespace
}  // namespace frugal

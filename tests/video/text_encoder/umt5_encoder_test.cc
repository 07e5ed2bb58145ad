// Golden tests of UmT5Encoder against the official Wan2.1 T5Encoder (tests/data/wan/t5_a, F32 and BF16
// files), plus a float64 straightforward reference for lengths the reference data does not cover.
// Each comparison prints max|Δ|, max|Δ|/max|ref| and the cosine similarity.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "common/test_data.h"
#include "core/memory_usage.h"
#include "safetensors/safetensors_writer.h"
#include "video/text_encoder/relative_position.h"
#include "video/text_encoder/umt5_config.h"
#include "video/text_encoder/umt5_encoder.h"

namespace frugal::video {
namespace {

using frugal::testing::data_path;
using frugal::testing::read_f32_file;

constexpr int64_t kTextLen = 512;
// README "Numerical noise": T5 outputs differ by <= 1.1e-6 of max|ref| between 1 and 2 torch threads.
constexpr double kF32Tolerance = 1e-5;

std::string case_path(const std::string& file) { return data_path("wan/t5_a/" + file); }

std::vector<int32_t> read_i32_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<int32_t> out(bytes.size() / sizeof(int32_t));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(int32_t));
  return out;
}

struct Diff {
  double max_abs = 0;
  double rel = 0;  // max|Δ| / max|ref|
  double cosine = 0;
};

template <typename A, typename B>
Diff compare(const std::string& label, const std::vector<A>& got, const std::vector<B>& ref) {
  EXPECT_EQ(got.size(), ref.size()) << label;
  Diff d;
  double max_ref = 0, dot = 0, n_got = 0, n_ref = 0;
  for (size_t i = 0; i < std::min(got.size(), ref.size()); ++i) {
    const double g = got[i], r = ref[i];
    d.max_abs = std::max(d.max_abs, std::fabs(g - r));
    max_ref = std::max(max_ref, std::fabs(r));
    dot += g * r, n_got += g * g, n_ref += r * r;
  }
  d.rel = max_ref > 0 ? d.max_abs / max_ref : d.max_abs;
  d.cosine = dot / std::sqrt(n_got * n_ref);
  std::printf("  %-40s max|d| %.3e  max|d|/max|ref| %.3e  cosine %.9f\n", label.c_str(), d.max_abs, d.rel, d.cosine);
  return d;
}

WeightStore open_store_at(const std::string& path) {
  auto store = WeightStore::open({path});
  EXPECT_TRUE(store.has_value()) << store.error().to_string();
  return std::move(*store);
}

WeightStore open_store(const std::string& file) { return open_store_at(case_path(file)); }

UmT5Encoder load_encoder(const std::string& file, WeightPrecision precision) {
  const WeightStore store = open_store(file);
  auto enc = UmT5Encoder::load(store, precision);
  EXPECT_TRUE(enc.has_value()) << enc.error().to_string();
  return std::move(*enc);
}

constexpr const char* kF32File = "models_t5_umt5-xxl-enc.safetensors";
constexpr const char* kBf16File = "models_t5_umt5-xxl-enc-bf16.safetensors";

// Encodes case `name` ("short"/"long") and compares with `ref_file`; returns the relative error.
double run_case(const UmT5Encoder& enc, const std::string& name, const std::string& ref_file, const std::string& label) {
  ThreadPool pool(2);
  const auto ids = read_i32_file(case_path("ids_" + name + ".i32"));
  const auto mask = read_i32_file(case_path("mask_" + name + ".i32"));
  EXPECT_EQ(ids.size(), static_cast<size_t>(kTextLen));
  auto out = enc.encode(ids, mask, pool);
  EXPECT_TRUE(out.has_value()) << out.error().to_string();
  return compare(label, *out, read_f32_file(case_path(ref_file))).rel;
}

TEST(UmT5Config, InferredFromTensorShapes) {
  const WeightStore store = open_store(kF32File);
  auto c = infer_umt5_config(store);
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_EQ(c->vocab, 512);
  EXPECT_EQ(c->dim, 32);
  EXPECT_EQ(c->dim_attn, 32);
  EXPECT_EQ(c->dim_ffn, 64);
  EXPECT_EQ(c->num_heads, 4);
  EXPECT_EQ(c->num_layers, 2);
  EXPECT_EQ(c->num_buckets, 32);
  EXPECT_EQ(c->num_params(), 37280);  // README: 37,280 params
  // The spec list is exactly the checkpoint: same names (sorted), same shapes.
  const auto specs = umt5_tensor_specs(*c);
  ASSERT_EQ(specs.size(), store.names().size());
  for (size_t i = 0; i < specs.size(); ++i) {
    EXPECT_EQ(specs[i].name, store.names()[i]);
    EXPECT_EQ(specs[i].shape, *store.shape(specs[i].name)) << specs[i].name;
  }
}

TEST(UmT5Config, XxlPreset) {
  const UmT5Config c = umt5_xxl_config();
  EXPECT_EQ(c.head_dim(), 64);
  const auto specs = umt5_tensor_specs(c);
  EXPECT_EQ(specs.size(), 2u + 24u * 10u);
  EXPECT_EQ(c.num_params(), 5680910336);  // 5.68 B: the 11.4 GB bf16 encoder checkpoint
  EXPECT_EQ(specs.front().name, "blocks.0.attn.k.weight");
}

// A checkpoint without token_embedding.weight, and one whose block 1 has a wrong shape: Statuses that
// name the tensor, never a crash.
TEST(UmT5Config, MissingOrMisshapenTensorIsAStatus) {
  const WeightStore full = open_store(kF32File);
  const auto dir = std::filesystem::temp_directory_path() / ("frugal_umt5_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto write_without = [&](const std::string& skip, const std::string& reshape) {
    SafetensorsWriter writer;
    for (const std::string& name : full.names()) {
      if (name == skip) continue;
      auto shape = *full.shape(name);
      const auto values = *full.load_f32(name, shape);
      if (name == reshape) shape = {static_cast<int64_t>(values.size())};
      writer.add_f32(name, shape, values);
    }
    const std::string path = (dir / ("ckpt_" + skip + reshape + ".safetensors")).string();
    EXPECT_TRUE(writer.write(path).is_ok());
    return open_store_at(path);
  };
  const WeightStore no_embedding = write_without("token_embedding.weight", "");
  auto c = infer_umt5_config(no_embedding);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code(), StatusCode::kNotFound);
  EXPECT_NE(c.error().message().find("token_embedding.weight"), std::string::npos) << c.error().to_string();
  const WeightStore bad_shape = write_without("", "blocks.1.ffn.fc2.weight");
  auto enc = UmT5Encoder::load(bad_shape, WeightPrecision::kF32);
  ASSERT_FALSE(enc.has_value());
  EXPECT_NE(enc.error().message().find("blocks.1.ffn.fc2.weight"), std::string::npos) << enc.error().to_string();
  std::printf("  missing: %s\n  misshapen: %s\n", c.error().to_string().c_str(), enc.error().to_string().c_str());
  std::filesystem::remove_all(dir);
}

TEST(UmT5RelativePosition, BucketTableMatchesReference) {
  const auto ref = read_i32_file(case_path("rel_bucket.i32"));  // rel = -511..511
  ASSERT_EQ(ref.size(), 1023u);
  const auto got = t5_offset_buckets(kTextLen, kTextLen, 32, 128, /*bidirectional=*/true);
  ASSERT_EQ(got.size(), 1023u);
  int mismatches = 0;
  for (size_t i = 0; i < ref.size(); ++i) mismatches += got[i] != ref[i];
  EXPECT_EQ(mismatches, 0);
  EXPECT_EQ(got, ref);
}

TEST(UmT5Encoder, ShortAndLongF32) {
  const UmT5Encoder enc = load_encoder(kF32File, WeightPrecision::kF32);
  EXPECT_LE(run_case(enc, "short", "out_short.f32", "short (17), F32 file, kF32"), kF32Tolerance);
  EXPECT_LE(run_case(enc, "long", "out_long.f32", "long (300), F32 file, kF32"), kF32Tolerance);
}

// inter_long_block{0,1}_out: each block's output x for `long` (the residual stream after the block's
// FFN; block 1's is before the final norm), trimmed to the 300 real rows.
TEST(UmT5Encoder, LongPerBlockOutputs) {
  const UmT5Encoder enc = load_encoder(kF32File, WeightPrecision::kF32);
  ThreadPool pool(2);
  const auto ids = read_i32_file(case_path("ids_long.i32"));
  const auto mask = read_i32_file(case_path("mask_long.i32"));
  std::vector<std::vector<float>> blocks(2);
  const UmT5Encoder::BlockObserver observer = [&](int64_t layer_idx, const float* x, int64_t n_rows) {
    ASSERT_EQ(n_rows, 300);
    blocks[static_cast<size_t>(layer_idx)].assign(x, x + n_rows * enc.config().dim);
  };
  auto out = enc.encode(ids, mask, pool, &observer);
  ASSERT_TRUE(out.has_value());
  for (int layer = 0; layer < 2; ++layer) {
    const std::string file = "inter_long_block" + std::to_string(layer) + "_out.f32";
    EXPECT_LE(compare("long block " + std::to_string(layer) + " output", blocks[layer], read_f32_file(case_path(file))).rel,
              kF32Tolerance);
  }
}

// The L-row shortcut against the reference's own method: all 512 positions with the key mask, first L rows.
TEST(UmT5Encoder, TrimmedRunEqualsFullPaddedRun) {
  const UmT5Encoder enc = load_encoder(kF32File, WeightPrecision::kF32);
  ThreadPool pool(2);
  for (const std::string name : {"short", "long"}) {
    const auto ids = read_i32_file(case_path("ids_" + name + ".i32"));
    const auto mask = read_i32_file(case_path("mask_" + name + ".i32"));
    auto trimmed = enc.encode(ids, mask, pool);
    auto full = enc.forward(ids, mask, pool);
    ASSERT_TRUE(trimmed.has_value() && full.has_value());
    full->resize(trimmed->size());
    EXPECT_LE(compare(name + ": L rows vs 512 padded rows", *trimmed, *full).rel, 1e-6);
    EXPECT_LE(compare(name + ": 512 padded rows vs reference", *full, read_f32_file(case_path("out_" + name + ".f32"))).rel,
              kF32Tolerance);
  }
}

TEST(UmT5Encoder, Bf16FileWithF32Compute) {
  const UmT5Encoder enc = load_encoder(kBf16File, WeightPrecision::kF32);
  EXPECT_LE(run_case(enc, "short", "out_short_bf16w.f32", "short, BF16 file, kF32"), kF32Tolerance);
  EXPECT_LE(run_case(enc, "long", "out_long_bf16w.f32", "long, BF16 file, kF32"), kF32Tolerance);
}

// kStored keeps BF16 matrices and rounds every matmul's activations to BF16 (8 significant bits:
// relative error up to 2^-9 = 2e-3 per value, on the inputs of q/k/v/o/gate/fc1/fc2 of each layer).
// T5's unscaled attention logits are O(several), so the q/k rounding reaches the softmax undamped.
// Measured against the bf16w reference: 9.2e-3 (short) and 6.8e-3 (long) of max|ref|, cosine
// 0.99998 / 0.99999. That is the size of the README's BF16-vs-F32-weights effect (1.5e-2), and smaller
// than what the official GPU path itself does (T5 entirely in bf16: activations, residual stream and
// softmax input). Bound: 2e-2, about 2x the measurement, still 15x below the smallest structural
// mistake (README: a shared bias table 3e-1; an erf GELU, 2e-4, is only visible with kF32, tested above).
TEST(UmT5Encoder, Bf16FileStoredPrecision) {
  const UmT5Encoder enc = load_encoder(kBf16File, WeightPrecision::kStored);
  constexpr double kBf16ActivationTolerance = 2e-2;
  EXPECT_LE(run_case(enc, "short", "out_short_bf16w.f32", "short, BF16 file, kStored"), kBf16ActivationTolerance);
  EXPECT_LE(run_case(enc, "long", "out_long_bf16w.f32", "long, BF16 file, kStored"), kBf16ActivationTolerance);
}

// The token embedding is read in place from the mapped file (MatrixUse::kMappedRows): loading an
// encoder whose embedding is grown to 48 MiB (umT5-XXL's is 2 GB in BF16) adds far less than that to
// the resident set, and the rows a prompt looks up give the same output as the original file.
TEST(UmT5Encoder, TokenEmbeddingIsNotLoaded) {
  const WeightStore full = open_store(kF32File);
  const UmT5Config c = *infer_umt5_config(full);
  const auto dir = std::filesystem::temp_directory_path() / ("frugal_umt5_rows_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "big_vocab.safetensors").string();
  constexpr int64_t kEmbeddingBytes = int64_t{48} << 20;
  const int64_t vocab = kEmbeddingBytes / (c.dim * 4);
  ASSERT_GT(vocab, c.vocab);
  {
    SafetensorsWriter writer;
    for (const std::string& name : full.names()) {
      auto shape = *full.shape(name);
      auto values = *full.load_f32(name, shape);
      if (name == "token_embedding.weight") {  // the original rows, then zero rows up to `vocab`
        values.resize(static_cast<size_t>(vocab * c.dim), 0.0f);
        shape = {vocab, c.dim};
      }
      writer.add_f32(name, shape, values);
    }
    ASSERT_TRUE(writer.write(path).is_ok());
  }
  const WeightStore store = open_store_at(path);
  const int64_t rss_before = current_rss_bytes();
  auto enc = UmT5Encoder::load(store, WeightPrecision::kF32);
  ASSERT_TRUE(enc.has_value()) << enc.error().to_string();
  const int64_t grown = current_rss_bytes() - rss_before;
  EXPECT_EQ(enc->config().vocab, vocab);
  std::printf("  loading with a %lld MiB embedding grew the resident set by %.1f MiB\n",
              static_cast<long long>(kEmbeddingBytes >> 20), static_cast<double>(grown) / (1 << 20));
  ASSERT_GT(rss_before, 0) << "no /proc/self/status";
  EXPECT_LT(grown, kEmbeddingBytes / 4) << "the embedding was copied";
  const UmT5Encoder original = load_encoder(kF32File, WeightPrecision::kF32);
  ThreadPool pool(2);
  const auto ids = read_i32_file(case_path("ids_short.i32"));
  const auto mask = read_i32_file(case_path("mask_short.i32"));
  auto got = enc->encode(ids, mask, pool);
  auto want = original.encode(ids, mask, pool);
  ASSERT_TRUE(got && want);
  EXPECT_EQ(*got, *want);
  std::filesystem::remove_all(dir);
}

TEST(UmT5Encoder, BadInputsAreStatuses) {
  const UmT5Encoder enc = load_encoder(kF32File, WeightPrecision::kF32);
  ThreadPool pool(1);
  std::vector<int32_t> ids = {5, 7, 1, 0};
  std::vector<int32_t> mask = {1, 1, 1, 0};
  EXPECT_TRUE(enc.encode(ids, mask, pool).has_value());
  std::vector<int32_t> bad_ids = {5, 512, 1, 0};
  EXPECT_EQ(enc.encode(bad_ids, mask, pool).error().code(), StatusCode::kInvalidArgument);
  std::vector<int32_t> short_mask = {1, 1, 1};
  EXPECT_EQ(enc.encode(ids, short_mask, pool).error().code(), StatusCode::kInvalidArgument);
  std::vector<int32_t> bad_mask = {1, 2, 1, 0};
  EXPECT_EQ(enc.encode(ids, bad_mask, pool).error().code(), StatusCode::kInvalidArgument);
  std::vector<int32_t> zero_mask = {0, 0, 0, 0};
  auto empty = enc.encode(ids, zero_mask, pool);
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
}

}  // namespace
}  // namespace frugal::video

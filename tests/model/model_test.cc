// Model loading and architecture tests: the registry's errors, tensor validation, and the qwen2
// path (NeoX RoPE + QKV bias) checked by equivalence with the llama reference model.
#include "model/model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "common/gguf_edit.h"
#include "common/test_data.h"
#include "model/architecture.h"

namespace frugal {
namespace {

using testing::copy_gguf;
using testing::data_path;
using testing::GgufEdit;
using testing::parse_bytes;

GgufFile open_tiny() {
  auto file = GgufFile::open(data_path("models/tiny-f32.gguf"));
  CHECK(file.has_value(), "tiny-f32.gguf missing");
  return std::move(*file);
}

Expected<std::unique_ptr<Model>> load_edited(const GgufEdit& edit, std::vector<uint8_t>& storage) {
  storage = copy_gguf(open_tiny(), edit).serialize();
  auto file = parse_bytes(storage);
  if (!file) return file.error();
  return Model::from_file(std::move(*file));
}

std::vector<float> run_all_logits(const Model& model, const std::vector<int32_t>& ids) {
  ThreadPool pool(2);
  KvStore kv(model.config(), 64);
  ForwardScratch scratch;
  ForwardOptions options;
  options.logits = LogitsMode::kAll;
  std::vector<float> logits;
  Status st = model.forward_sequence(ids.data(), static_cast<int64_t>(ids.size()), 0, kv, pool, scratch, options, logits);
  EXPECT_TRUE(st.is_ok()) << st.to_string();
  return logits;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

const std::vector<int32_t> kIds = {509, 84, 258, 300, 17, 99, 265, 42, 7, 400};

TEST(Model, LoadsTinyConfig) {
  auto model = Model::load(data_path("models/tiny-f32.gguf"));
  ASSERT_TRUE(model.has_value()) << model.error().to_string();
  const ModelConfig& c = (*model)->config();
  EXPECT_EQ(c.arch, "llama");
  EXPECT_EQ(c.n_layer, 2);
  EXPECT_EQ(c.n_embd, 64);
  EXPECT_EQ(c.n_head, 4);
  EXPECT_EQ(c.n_head_kv, 2);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.n_ff, 192);
  EXPECT_EQ(c.n_vocab, 512);
  EXPECT_FALSE(c.tied_output);
  EXPECT_FLOAT_EQ(c.rms_eps, 1e-5f);
}

TEST(Model, TiedOutputUsesTokenEmbeddings) {
  auto model = Model::load(data_path("models/small-q8_0.gguf"));
  ASSERT_TRUE(model.has_value()) << model.error().to_string();
  EXPECT_TRUE((*model)->config().tied_output);
  EXPECT_EQ((*model)->weights().output.data, (*model)->weights().token_embd.data);
}

TEST(Model, UnknownArchitectureIsAClearError) {
  std::vector<uint8_t> storage;
  GgufEdit edit;
  edit.rename_key = [](const std::string& key) { return key.rfind("llama.", 0) == 0 ? "mamba9." + key.substr(6) : key; };
  auto writer = copy_gguf(open_tiny(), edit);
  writer.set_string("general.architecture", "mamba9");
  storage = writer.serialize();
  auto file = parse_bytes(storage);
  ASSERT_TRUE(file.has_value());
  auto model = Model::from_file(std::move(*file));
  ASSERT_FALSE(model.has_value());
  EXPECT_EQ(model.error().code(), StatusCode::kUnimplemented);
  EXPECT_NE(model.error().message().find("'mamba9'"), std::string::npos) << model.error().message();
  EXPECT_NE(model.error().message().find("llama"), std::string::npos);
}

TEST(Model, MissingTensorIsNamed) {
  std::vector<uint8_t> storage;
  GgufEdit edit;
  edit.edit_tensor = [](const GgufTensorInfo& info, DType&, std::vector<int64_t>&, std::vector<uint8_t>&) {
    return info.name != "blk.1.ffn_up.weight";
  };
  auto model = load_edited(edit, storage);
  ASSERT_FALSE(model.has_value());
  EXPECT_EQ(model.error().code(), StatusCode::kNotFound);
  EXPECT_NE(model.error().message().find("blk.1.ffn_up.weight"), std::string::npos);
}

TEST(Model, WrongShapeIsNamed) {
  std::vector<uint8_t> storage;
  GgufEdit edit;
  edit.edit_tensor = [](const GgufTensorInfo& info, DType&, std::vector<int64_t>& ne, std::vector<uint8_t>&) {
    if (info.name == "blk.0.attn_k.weight") std::swap(ne[0], ne[1]);  // [32, 64] instead of [64, 32]
    return true;
  };
  auto model = load_edited(edit, storage);
  ASSERT_FALSE(model.has_value());
  EXPECT_NE(model.error().message().find("blk.0.attn_k.weight"), std::string::npos) << model.error().message();
  EXPECT_NE(model.error().message().find("expected [64, 32]"), std::string::npos) << model.error().message();
}

TEST(Model, MissingHyperParameterIsNamed) {
  std::vector<uint8_t> storage;
  GgufEdit edit;
  edit.rename_key = [](const std::string& key) { return key == "llama.block_count" ? std::string() : key; };
  auto model = load_edited(edit, storage);
  ASSERT_FALSE(model.has_value());
  EXPECT_NE(model.error().message().find("llama.block_count"), std::string::npos) << model.error().message();
}

TEST(Model, TokenOutsideVocabularyIsRejected) {
  auto model = Model::load(data_path("models/tiny-f32.gguf"));
  ASSERT_TRUE(model.has_value());
  ThreadPool pool(1);
  KvStore kv((*model)->config(), 16);
  ForwardScratch scratch;
  std::vector<float> logits;
  const int32_t bad[] = {509, 512};
  Status st = (*model)->forward_sequence(bad, 2, 0, kv, pool, scratch, {}, logits);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  const int32_t ok[] = {1};
  st = (*model)->forward_sequence(ok, 1, 16, kv, pool, scratch, {}, logits);  // position 16 is past a 16-slot cache
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
}

// A qwen2 file made from the llama model by permuting Q/K rows within each head from adjacent-pair
// order to half-split order (so NeoX RoPE rotates the same pairs) and adding zero QKV biases must
// give the same logits as the llama model.
std::vector<uint8_t> make_qwen2_from_llama(float q_bias_value) {
  GgufEdit edit;
  edit.rename_key = [](const std::string& key) { return key.rfind("llama.", 0) == 0 ? "qwen2." + key.substr(6) : key; };
  const int64_t head_dim = 16;
  edit.edit_tensor = [&](const GgufTensorInfo& info, DType& dtype, std::vector<int64_t>& ne, std::vector<uint8_t>& bytes) {
    const bool is_q = info.name.find("attn_q.weight") != std::string::npos;
    const bool is_k = info.name.find("attn_k.weight") != std::string::npos;
    if (!is_q && !is_k) return true;
    const int64_t row_bytes = ne[0] * 4;
    std::vector<uint8_t> out(bytes.size());
    for (int64_t row = 0; row < ne[1]; ++row) {
      const int64_t head = row / head_dim, i = row % head_dim;
      // new row (head, j): j < hd/2 takes old 2j; j >= hd/2 takes old 2(j - hd/2) + 1
      const int64_t src = head * head_dim + (i < head_dim / 2 ? 2 * i : 2 * (i - head_dim / 2) + 1);
      std::memcpy(out.data() + row * row_bytes, bytes.data() + src * row_bytes, static_cast<size_t>(row_bytes));
    }
    bytes = std::move(out);
    return true;
  };
  GgufWriter writer = copy_gguf(open_tiny(), edit);
  writer.set_string("general.architecture", "qwen2");
  for (int layer = 0; layer < 2; ++layer) {
    const std::string p = "blk." + std::to_string(layer) + ".";
    auto bias = [&](const std::string& name, int64_t n, float value) {
      std::vector<float> v(static_cast<size_t>(n), value);
      std::vector<uint8_t> b(v.size() * 4);
      std::memcpy(b.data(), v.data(), b.size());
      writer.add_tensor(p + name, DType::kF32, {n}, std::move(b));
    };
    bias("attn_q.bias", 64, q_bias_value);
    bias("attn_k.bias", 32, 0.0f);
    bias("attn_v.bias", 32, 0.0f);
  }
  return writer.serialize();
}

TEST(Model, Qwen2NeoxRopeMatchesPermutedLlama) {
  auto llama = Model::load(data_path("models/tiny-f32.gguf"));
  ASSERT_TRUE(llama.has_value());
  const auto bytes = make_qwen2_from_llama(0.0f);
  auto file = parse_bytes(bytes);
  ASSERT_TRUE(file.has_value()) << file.error().to_string();
  auto qwen = Model::from_file(std::move(*file));
  ASSERT_TRUE(qwen.has_value()) << qwen.error().to_string();
  EXPECT_EQ((*qwen)->config().rope.mode, RopeMode::kNeox);
  EXPECT_TRUE((*qwen)->config().qkv_bias);
  const double diff = max_abs_diff(run_all_logits(**llama, kIds), run_all_logits(**qwen, kIds));
  std::printf("[qwen2 vs permuted llama] max|d| = %.3g\n", diff);
  EXPECT_LT(diff, 1e-4);
}

TEST(Model, Qwen2BiasIsApplied) {
  const auto zero = make_qwen2_from_llama(0.0f);
  const auto biased = make_qwen2_from_llama(0.5f);
  auto f0 = parse_bytes(zero);
  auto f1 = parse_bytes(biased);
  auto m0 = Model::from_file(std::move(*f0));
  auto m1 = Model::from_file(std::move(*f1));
  ASSERT_TRUE(m0.has_value() && m1.has_value());
  EXPECT_GT(max_abs_diff(run_all_logits(**m0, kIds), run_all_logits(**m1, kIds)), 1e-2);
}

TEST(Model, Qwen2MissingBiasIsNamed) {
  GgufEdit edit;
  edit.rename_key = [](const std::string& key) { return key.rfind("llama.", 0) == 0 ? "qwen2." + key.substr(6) : key; };
  GgufWriter writer = copy_gguf(open_tiny(), edit);
  writer.set_string("general.architecture", "qwen2");
  const auto bytes = writer.serialize();
  auto file = parse_bytes(bytes);
  auto model = Model::from_file(std::move(*file));
  ASSERT_FALSE(model.has_value());
  EXPECT_NE(model.error().message().find("blk.0.attn_q.bias"), std::string::npos) << model.error().message();
}

// rope_freqs (Llama 3.1 scaling) of all ones changes nothing; other factors change the logits.
TEST(Model, RopeFreqFactorsAreApplied) {
  auto with_factors = [](float value) {
    GgufWriter writer = copy_gguf(open_tiny(), {});
    std::vector<float> f(8, value);
    std::vector<uint8_t> b(f.size() * 4);
    std::memcpy(b.data(), f.data(), b.size());
    writer.add_tensor("rope_freqs.weight", DType::kF32, {8}, std::move(b));
    return writer.serialize();
  };
  auto base = Model::load(data_path("models/tiny-f32.gguf"));
  const auto ones = with_factors(1.0f), fours = with_factors(4.0f);
  auto m1 = Model::from_file(std::move(*parse_bytes(ones)));
  auto m4 = Model::from_file(std::move(*parse_bytes(fours)));
  ASSERT_TRUE(m1.has_value() && m4.has_value()) << m1.error().to_string();
  EXPECT_EQ((*m4)->config().rope.freq_factors.size(), 8u);
  const auto ref = run_all_logits(**base, kIds);
  EXPECT_LT(max_abs_diff(ref, run_all_logits(**m1, kIds)), 1e-6);
  EXPECT_GT(max_abs_diff(ref, run_all_logits(**m4, kIds)), 1e-3);
}

TEST(Registry, ListsLlamaAndQwen2) {
  const auto names = architecture_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "llama"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "qwen2"), names.end());
}

}  // namespace
}  // namespace frugal

namespace frugal {
namespace {

// A forward pass gives the same bits on any thread count (work is split by whole rows, tokens and
// attention blocks, never inside a sum), so outputs do not depend on the machine's cores or `-t`.
// Every weight type the test models carry (F32, F16, Q8_0, Q4_0, the packed layouts), all logits
// of a 10-token prefill and a one-token decode after it.
TEST(Model, LogitsAreTheSameBitsOnAnyThreadCount) {
  for (const char* name : {"models/tiny-f32.gguf", "models/tiny-f16.gguf", "models/small-q8_0.gguf",
                           "models/small-q4_0.gguf", "models/small-f16.gguf"}) {
    auto model = Model::load(data_path(name));
    ASSERT_TRUE(model.has_value()) << name << ": " << model.error().to_string();
    std::vector<std::vector<float>> runs;
    for (int threads : {1, 2, 3}) {
      ThreadPool pool(threads);
      KvStore kv((*model)->config(), 64);
      ForwardScratch scratch;
      ForwardOptions options;
      options.logits = LogitsMode::kAll;
      std::vector<float> prefill, decode;
      ASSERT_TRUE((*model)->forward_sequence(kIds.data(), static_cast<int64_t>(kIds.size()), 0, kv, pool, scratch,
                                             options, prefill).is_ok());
      const int32_t next = 5;
      ASSERT_TRUE((*model)->forward_sequence(&next, 1, static_cast<int64_t>(kIds.size()), kv, pool, scratch, options,
                                             decode).is_ok());
      prefill.insert(prefill.end(), decode.begin(), decode.end());
      runs.push_back(std::move(prefill));
    }
    for (size_t r = 1; r < runs.size(); ++r) {
      ASSERT_EQ(runs[r].size(), runs[0].size());
      EXPECT_EQ(std::memcmp(runs[r].data(), runs[0].data(), runs[0].size() * sizeof(float)), 0)
          << name << ": " << r + 1 << " threads differ from 1";
    }
  }
}

}  // namespace
}  // namespace frugal

// Reads the llama.cpp-compatible test models and the Llama-3 vocab GGUF and checks metadata and
// the tensor table against the reference meta.json files (tests/data/models/meta/, copied from
// the llama.cpp reference set; see tests/data/models/README.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"

namespace frugal {
namespace {

const std::string kModelsDir = std::string(FRUGAL_TEST_DATA_DIR) + "/models";

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(kModelsDir + "/meta")) {
    names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

nlohmann::json load_meta(const std::string& model) {
  std::ifstream in(kModelsDir + "/meta/" + model + ".json");
  return nlohmann::json::parse(in);
}

class GgufModelTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufModelTest, MetadataMatchesReference) {
  const nlohmann::json meta = load_meta(GetParam());
  auto file = GgufFile::open(kModelsDir + "/" + GetParam() + ".gguf");
  ASSERT_TRUE(file) << file.error().to_string();
  const nlohmann::json& shape = meta["shape"];
  EXPECT_EQ(file->version(), 3u);
  EXPECT_EQ(file->file_size_bytes(), meta["model_bytes"].get<size_t>());
  EXPECT_EQ(file->alignment(), 32u);
  EXPECT_EQ(file->data_offset() % 32, 0u);
  EXPECT_EQ(*file->get_string("general.architecture"), "llama");
  EXPECT_EQ(*file->get_uint("llama.block_count"), shape["n_layer"].get<uint64_t>());
  EXPECT_EQ(*file->get_uint("llama.embedding_length"), shape["n_embd"].get<uint64_t>());
  EXPECT_EQ(*file->get_uint("llama.feed_forward_length"), shape["n_ff"].get<uint64_t>());
  EXPECT_EQ(*file->get_uint("llama.attention.head_count"), shape["n_head"].get<uint64_t>());
  EXPECT_EQ(*file->get_uint("llama.attention.head_count_kv"), shape["n_head_kv"].get<uint64_t>());
  EXPECT_EQ(*file->get_uint("llama.context_length"), shape["ctx"].get<uint64_t>());
  EXPECT_EQ(*file->get_float("llama.rope.freq_base"), shape["rope_theta"].get<double>());
  EXPECT_EQ(static_cast<float>(*file->get_float("llama.attention.layer_norm_rms_epsilon")),
            shape["rms_eps"].get<float>());
  EXPECT_EQ(*file->get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(*file->get_string("tokenizer.ggml.pre"), "llama-bpe");
  EXPECT_EQ(file->get_string_array("tokenizer.ggml.tokens")->size(), shape["n_vocab"].get<size_t>());
  EXPECT_EQ(file->get_int_array("tokenizer.ggml.token_type")->size(), shape["n_vocab"].get<size_t>());
  EXPECT_EQ(*file->get_uint("tokenizer.ggml.bos_token_id"), 509u);
  EXPECT_EQ(*file->get_uint("tokenizer.ggml.eos_token_id"), 510u);
  EXPECT_TRUE(*file->get_bool("tokenizer.ggml.add_bos_token"));
  for (const auto& [key, value] : file->metadata()) {
    EXPECT_FALSE(value.to_string().empty()) << key;
  }
}

TEST_P(GgufModelTest, TensorTableMatchesReference) {
  const nlohmann::json meta = load_meta(GetParam());
  auto file = GgufFile::open(kModelsDir + "/" + GetParam() + ".gguf");
  ASSERT_TRUE(file) << file.error().to_string();
  const nlohmann::json& expected = meta["tensors"];
  ASSERT_EQ(file->tensors().size(), expected.size());
  uint64_t prev_end = 0;
  for (size_t tensor_idx = 0; tensor_idx < expected.size(); ++tensor_idx) {
    const GgufTensorInfo& info = file->tensors()[tensor_idx];
    const nlohmann::json& want = expected[tensor_idx];
    SCOPED_TRACE(info.name);
    EXPECT_EQ(info.name, want["name"].get<std::string>());
    EXPECT_EQ(dtype_name(info.dtype), want["type"].get<std::string>());
    const auto dims = want["dims"].get<std::vector<int64_t>>();
    ASSERT_EQ(info.n_dims, static_cast<int>(dims.size()));
    for (size_t dim_idx = 0; dim_idx < dims.size(); ++dim_idx) EXPECT_EQ(info.ne[dim_idx], dims[dim_idx]);
    EXPECT_EQ(file->find_tensor(info.name), &info);
    EXPECT_EQ(info.offset % file->alignment(), 0u);
    EXPECT_GE(info.offset, prev_end);  // tensors do not overlap (written in file order)
    prev_end = info.offset + info.size_bytes;
    EXPECT_LE(file->data_offset() + prev_end, file->file_size_bytes());
    const TensorView view = file->tensor_view(info);
    EXPECT_EQ(static_cast<uint64_t>(view.size_bytes()), info.size_bytes);
  }
  EXPECT_EQ(file->find_tensor("no.such.tensor"), nullptr);
}

// The generator sets every norm weight to exactly 1.0 (README): reading 1.0f at each norm's
// offset checks data_offset + offset independently of the parser's own bookkeeping.
TEST_P(GgufModelTest, NormWeightsAreOnes) {
  auto file = GgufFile::open(kModelsDir + "/" + GetParam() + ".gguf");
  ASSERT_TRUE(file) << file.error().to_string();
  int n_norms = 0;
  for (const auto& info : file->tensors()) {
    if (info.name.find("norm") == std::string::npos) continue;
    ASSERT_EQ(info.dtype, DType::kF32) << info.name;
    const TensorView view = file->tensor_view(info);
    for (int64_t elem_idx = 0; elem_idx < view.num_elements(); ++elem_idx) {
      float x = 0;
      std::memcpy(&x, static_cast<const uint8_t*>(view.data) + elem_idx * 4, 4);
      ASSERT_EQ(x, 1.0f) << info.name << "[" << elem_idx << "]";
    }
    ++n_norms;
  }
  EXPECT_GT(n_norms, 0);
}

INSTANTIATE_TEST_SUITE_P(Models, GgufModelTest, ::testing::ValuesIn(model_names()),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) if (c == '-') c = '_';
                           return name;
                         });

TEST(GgufVocabTest, Llama3VocabParses) {
  const auto start = std::chrono::steady_clock::now();
  auto file = GgufFile::open(kModelsDir + "/llama3-vocab.gguf");
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(file) << file.error().to_string();
  std::printf("llama3-vocab.gguf parsed in %.1f ms\n", elapsed_s * 1e3);
  EXPECT_EQ(file->tensors().size(), 0u);
  EXPECT_EQ(*file->get_string("general.architecture"), "llama");
  EXPECT_EQ(*file->get_string("tokenizer.ggml.pre"), "llama-bpe");
  const auto tokens = file->get_string_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens);
  EXPECT_EQ(tokens->size(), 128256u);
  EXPECT_EQ((*tokens)[128000], "<|begin_of_text|>");
  EXPECT_EQ(file->get_string_array("tokenizer.ggml.merges")->size(), 280147u);
  EXPECT_EQ(*file->get_uint("tokenizer.ggml.bos_token_id"), 128000u);
  EXPECT_EQ(*file->get_uint("tokenizer.ggml.eos_token_id"), 128001u);
  EXPECT_EQ(*file->get_uint("tokenizer.ggml.eot_token_id"), 128009u);
  EXPECT_NE(file->get_string("tokenizer.chat_template")->find("<|start_header_id|>"), std::string::npos);
}

}  // namespace
}  // namespace frugal

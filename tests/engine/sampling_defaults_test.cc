// A model's recommended sampling settings (general.sampling.* as llama.cpp names them): read with
// their types, rejected when the sampler would refuse them, applied only where the caller gave none.
#include "engine/sampling_defaults.h"

#include <gtest/gtest.h>

#include "gguf/gguf_writer.h"

namespace frugal {
namespace {

// A metadata-only GGUF in memory (kept alive with its bytes).
struct MemoryGguf {
  std::vector<uint8_t> bytes;
  Expected<GgufFile> file = invalid_argument("unset");
  explicit MemoryGguf(const GgufWriter& writer) : bytes(writer.serialize()) {
    file = GgufFile::parse(MappedFile::borrow(bytes.data(), bytes.size()));
  }
};

TEST(SamplingDefaults, AbsentKeysLeaveEverythingToTheCaller) {
  GgufWriter writer;
  writer.set_string("general.architecture", "llama");
  MemoryGguf gguf(writer);
  ASSERT_TRUE(gguf.file) << gguf.file.error().to_string();
  auto defaults = read_sampling_defaults(*gguf.file);
  ASSERT_TRUE(defaults) << defaults.error().to_string();
  EXPECT_TRUE(defaults->empty());
  EXPECT_EQ(defaults->describe(), "none");
  SamplingParams params;
  const SamplingParams before = params;
  apply_sampling_defaults(*defaults, SamplingGiven{}, params);
  EXPECT_EQ(params.temperature, before.temperature);
  EXPECT_EQ(params.top_k, before.top_k);
}

TEST(SamplingDefaults, ReadsLlamaCppKeysAndFillsOnlyWhatWasNotGiven) {
  GgufWriter writer;
  writer.set_float32("general.sampling.temp", 0.6f);
  writer.set_int32("general.sampling.top_k", 20);
  writer.set_float32("general.sampling.top_p", 0.9f);
  writer.set_float32("general.sampling.min_p", 0.1f);
  writer.set_float32("general.sampling.penalty_repeat", 1.2f);
  writer.set_int32("general.sampling.penalty_last_n", -1);
  writer.set_uint32("frugal.sampling.max_tokens", 48);
  MemoryGguf gguf(writer);
  ASSERT_TRUE(gguf.file);
  auto d = read_sampling_defaults(*gguf.file);
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_FLOAT_EQ(*d->temperature, 0.6f);
  EXPECT_EQ(*d->top_k, 20);
  EXPECT_EQ(*d->repeat_last_n, -1);
  EXPECT_EQ(*d->max_tokens, 48);
  EXPECT_EQ(d->describe(), "temp 0.6, top_k 20, top_p 0.9, min_p 0.1, repeat_penalty 1.2, repeat_last_n -1, max_tokens 48");

  SamplingParams params;
  params.temperature = 0.0f;  // the caller's own
  SamplingGiven given;
  given.temperature = true;
  apply_sampling_defaults(*d, given, params);
  EXPECT_EQ(params.temperature, 0.0f);
  EXPECT_EQ(params.top_k, 20);
  EXPECT_FLOAT_EQ(params.top_p, 0.9f);
  EXPECT_FLOAT_EQ(params.min_p, 0.1f);
  EXPECT_FLOAT_EQ(params.repeat_penalty, 1.2f);
  EXPECT_EQ(params.repeat_last_n, -1);
}

TEST(SamplingDefaults, RejectsWrongTypesAndValuesTheSamplerRefuses) {
  struct Case {
    const char* what;
    std::function<void(GgufWriter&)> write;
  };
  const Case cases[] = {
      {"top_p above 1", [](GgufWriter& w) { w.set_float32("general.sampling.top_p", 1.5f); }},
      {"negative temperature", [](GgufWriter& w) { w.set_float32("general.sampling.temp", -1.0f); }},
      {"negative top_k", [](GgufWriter& w) { w.set_int32("general.sampling.top_k", -2); }},
      {"zero max_tokens", [](GgufWriter& w) { w.set_uint32("frugal.sampling.max_tokens", 0); }},
      {"string temperature", [](GgufWriter& w) { w.set_string("general.sampling.temp", "hot"); }},
  };
  for (const Case& c : cases) {
    GgufWriter writer;
    c.write(writer);
    MemoryGguf gguf(writer);
    ASSERT_TRUE(gguf.file) << c.what;
    auto d = read_sampling_defaults(*gguf.file);
    EXPECT_FALSE(d) << c.what;
    if (!d) {
      EXPECT_EQ(d.error().code(), StatusCode::kInvalidArgument) << c.what;
    }
  }
}

TEST(SamplingDefaults, KeyTypesMatchLlamaCpp) {
  EXPECT_EQ(sampling_key_type("general.sampling.top_k"), GgufValueType::kInt32);
  EXPECT_EQ(sampling_key_type("general.sampling.penalty_last_n"), GgufValueType::kInt32);
  EXPECT_EQ(sampling_key_type("general.sampling.temp"), GgufValueType::kFloat32);
  EXPECT_EQ(sampling_key_type("frugal.sampling.max_tokens"), GgufValueType::kUint32);
  EXPECT_EQ(sampling_key_type("general.name"), std::nullopt);
}

}  // namespace
}  // namespace frugal

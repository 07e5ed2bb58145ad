// A model's recommended sampling settings (engine layer), read from the GGUF keys llama.cpp reads
// (general.sampling.temp, .top_k, .top_p, .min_p, .penalty_repeat, .penalty_last_n; llama.cpp's
// llama_model_meta_key_str) plus frugal's own frugal.sampling.max_tokens. They apply where a
// request (or a CLI flag) leaves a setting out; an absent key leaves the caller's default.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/expected.h"
#include "gguf/gguf_reader.h"
#include "sampling/sampling_params.h"

namespace frugal {

// The GGUF keys (llama.cpp's names; max_tokens is frugal's, llama.cpp has none).
inline constexpr const char* kSamplingTempKey = "general.sampling.temp";
inline constexpr const char* kSamplingTopKKey = "general.sampling.top_k";
inline constexpr const char* kSamplingTopPKey = "general.sampling.top_p";
inline constexpr const char* kSamplingMinPKey = "general.sampling.min_p";
inline constexpr const char* kSamplingPenaltyRepeatKey = "general.sampling.penalty_repeat";
inline constexpr const char* kSamplingPenaltyLastNKey = "general.sampling.penalty_last_n";
inline constexpr const char* kSamplingMaxTokensKey = "frugal.sampling.max_tokens";

struct SamplingDefaults {
  std::optional<float> temperature;
  std::optional<int32_t> top_k;
  std::optional<float> top_p;
  std::optional<float> min_p;
  std::optional<float> repeat_penalty;
  std::optional<int32_t> repeat_last_n;
  std::optional<int64_t> max_tokens;  // tokens per reply when the request names none

  bool empty() const;
  // "temp 0.8, top_k 40, ..." (only the keys present); "none" when empty.
  std::string describe() const;
};

// Reads the keys. Errors: a key of the wrong type, or a value the sampler would reject (named).
Expected<SamplingDefaults> read_sampling_defaults(const GgufFile& file);

// The GGUF type a key is written with (int32 for counts, uint32 for max_tokens, float32 otherwise);
// nullopt for a key that is not one of the above.
std::optional<GgufValueType> sampling_key_type(const std::string& key);

// Which SamplingParams fields a caller set itself (the defaults fill only the others).
struct SamplingGiven {
  bool temperature = false, top_k = false, top_p = false, min_p = false, repeat_penalty = false,
       repeat_last_n = false;
};
void apply_sampling_defaults(const SamplingDefaults& defaults, const SamplingGiven& given, SamplingParams& params);

}  // namespace frugal

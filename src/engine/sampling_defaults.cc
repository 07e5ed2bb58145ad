#include "engine/sampling_defaults.h"

#include <cstdint>
#include <cstdio>

namespace frugal {
namespace {

// Reads an optional float key into `out` (absent: unchanged).
Status read_float(const GgufFile& file, const char* key, std::optional<float>& out) {
  if (!file.has(key)) return Status::ok();
  auto value = file.get_float(key);
  if (!value) return value.error();
  out = static_cast<float>(*value);
  return Status::ok();
}

Status read_int(const GgufFile& file, const char* key, int64_t lo, int64_t hi, std::optional<int64_t>& out) {
  if (!file.has(key)) return Status::ok();
  auto value = file.get_int(key);
  if (!value) return value.error();
  if (*value < lo || *value > hi) {
    return invalid_argument(std::string("GGUF key ") + key + " = " + std::to_string(*value) + " is outside [" +
                            std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  out = *value;
  return Status::ok();
}

std::string format_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", value);
  return buffer;
}

}  // namespace

bool SamplingDefaults::empty() const {
  return !temperature && !top_k && !top_p && !min_p && !repeat_penalty && !repeat_last_n && !max_tokens;
}

std::string SamplingDefaults::describe() const {
  std::string text;
  auto add = [&text](const char* name, double value) {
    text += (text.empty() ? "" : ", ") + std::string(name) + " " + format_number(value);
  };
  if (temperature) add("temp", *temperature);
  if (top_k) add("top_k", *top_k);
  if (top_p) add("top_p", *top_p);
  if (min_p) add("min_p", *min_p);
  if (repeat_penalty) add("repeat_penalty", *repeat_penalty);
  if (repeat_last_n) add("repeat_last_n", *repeat_last_n);
  if (max_tokens) add("max_tokens", static_cast<double>(*max_tokens));
  return text.empty() ? "none" : text;
}

Expected<SamplingDefaults> read_sampling_defaults(const GgufFile& file) {
  SamplingDefaults d;
  std::optional<int64_t> top_k, last_n, max_tokens;
  for (Status s : {read_float(file, kSamplingTempKey, d.temperature), read_float(file, kSamplingTopPKey, d.top_p),
                   read_float(file, kSamplingMinPKey, d.min_p),
                   read_float(file, kSamplingPenaltyRepeatKey, d.repeat_penalty),
                   read_int(file, kSamplingTopKKey, 0, INT32_MAX, top_k),
                   read_int(file, kSamplingPenaltyLastNKey, -1, INT32_MAX, last_n),
                   read_int(file, kSamplingMaxTokensKey, 1, INT32_MAX, max_tokens)}) {
    if (!s.is_ok()) return s;
  }
  if (top_k) d.top_k = static_cast<int32_t>(*top_k);
  if (last_n) d.repeat_last_n = static_cast<int32_t>(*last_n);
  d.max_tokens = max_tokens;
  // The values must be ones the sampler accepts: check them as a full parameter set.
  SamplingParams check;
  apply_sampling_defaults(d, SamplingGiven{}, check);
  Status valid = check.validate();
  if (!valid.is_ok()) return invalid_argument("the model's general.sampling.* keys: " + valid.message());
  return d;
}

std::optional<GgufValueType> sampling_key_type(const std::string& key) {
  if (key == kSamplingTopKKey || key == kSamplingPenaltyLastNKey) return GgufValueType::kInt32;
  if (key == kSamplingMaxTokensKey) return GgufValueType::kUint32;
  if (key == kSamplingTempKey || key == kSamplingTopPKey || key == kSamplingMinPKey ||
      key == kSamplingPenaltyRepeatKey) {
    return GgufValueType::kFloat32;
  }
  return std::nullopt;
}

void apply_sampling_defaults(const SamplingDefaults& d, const SamplingGiven& given, SamplingParams& p) {
  if (d.temperature && !given.temperature) p.temperature = *d.temperature;
  if (d.top_k && !given.top_k) p.top_k = *d.top_k;
  if (d.top_p && !given.top_p) p.top_p = *d.top_p;
  if (d.min_p && !given.min_p) p.min_p = *d.min_p;
  if (d.repeat_penalty && !given.repeat_penalty) p.repeat_penalty = *d.repeat_penalty;
  if (d.repeat_last_n && !given.repeat_last_n) p.repeat_last_n = *d.repeat_last_n;
}

}  // namespace frugal

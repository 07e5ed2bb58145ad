#include "server/model_defaults.h"

#include <algorithm>

namespace frugal {

void apply_model_defaults(const nlohmann::json& body, const SamplingDefaults& defaults, int64_t max_context,
                          ApiRequest& request) {
  if (defaults.empty() || !body.is_object()) return;
  auto given = [&body](const char* key) { return body.contains(key) && !body[key].is_null(); };
  SamplingGiven sent;
  sent.temperature = given("temperature");
  sent.top_p = given("top_p");
  // top_p = 0 asks for greedy decoding (openai_schema.cc turns it into temperature 0): keep that.
  if (sent.top_p && body["top_p"].is_number() && body["top_p"].get<double>() <= 0.0) sent.temperature = true;
  sent.top_k = given("top_k");
  sent.min_p = given("min_p");
  sent.repeat_penalty = given("repetition_penalty") || given("repeat_penalty");
  sent.repeat_last_n = given("repeat_last_n");
  apply_sampling_defaults(defaults, sent, request.sampling);
  if (!request.max_tokens && defaults.max_tokens) {
    request.max_tokens = max_context > 0 ? std::min(*defaults.max_tokens, max_context) : *defaults.max_tokens;
  }
}

}  // namespace frugal

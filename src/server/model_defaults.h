// A served model's recommended settings applied to an API request (server layer): every sampling
// field and max_tokens the request body leaves out takes the model's GGUF value
// (engine/sampling_defaults.h); fields the client sent are never changed.
#pragma once

#include <nlohmann/json.hpp>

#include "engine/sampling_defaults.h"
#include "server/openai_schema.h"

namespace frugal {

// body: the request as the client sent it (which fields are present); request: parsed from it.
// max_context (tokens; 0 = unknown) caps a default max_tokens, so a default never fails a request.
void apply_model_defaults(const nlohmann::json& body, const SamplingDefaults& defaults, int64_t max_context,
                          ApiRequest& request);

}  // namespace frugal

// POST /v1/embeddings (server layer), OpenAI's shape: {"model", "input": string | [string] |
// [int] | [[int]], "encoding_format": "float" (default) | "base64"} -> {"object": "list", "data":
// [{"object": "embedding", "index", "embedding"}], "model", "usage": {"prompt_tokens",
// "total_tokens"}}. Each input is tokenized with BOS (token-id inputs are used as given) and
// embedded by engine/embedding.h (mean pooling of the normalised final hidden states, L2-normalised,
// as llama-server --pooling mean). base64 is the little-endian float32 bytes, as OpenAI sends it.
#pragma once

#include <string>

#include "server/openai_routes.h"

namespace frugal {

ApiReply handle_embeddings_request(const ApiContext& context, const std::string& body);

}  // namespace frugal

// Text embeddings from a decoder model (engine layer), as llama-server's /embedding with
// --pooling mean: the final hidden states (after output_norm) of every token, averaged over the
// tokens and L2-normalised. The forward pass runs on the caller's thread pool with its own small
// K/V store, so it needs no engine slot and does not disturb the engine's cache.
#pragma once

#include <cstdint>
#include <vector>

#include "core/expected.h"
#include "core/thread_pool.h"
#include "model/model.h"

namespace frugal {

// tokens: [n_tokens], 1 <= n_tokens <= the model's training context. Returns [n_embd], unit L2
// norm (all zeros stays zeros). Errors: no tokens, too many, a token outside the vocabulary.
Expected<std::vector<float>> embed_tokens(const Model& model, const std::vector<int32_t>& tokens, ThreadPool& pool);

}  // namespace frugal

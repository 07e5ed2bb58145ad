// Helpers shared by the engine's speculation tests (draft/n-gram and Medusa): the bundled models'
// paths, a bounded wait for one request's tokens, one counter read from the metrics text, and one
// engine run of a set of concurrent requests.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/llm_engine.h"

namespace frugal::testing {

// models/NAME in the repository (the bundled KJV models).
inline std::string repo_model(const std::string& name) {
  return std::string(FRUGAL_TEST_DATA_DIR) + "/../../models/" + name;
}

// Bounded wait for one request's tokens; fails the test on an error event or a timeout (~300 s).
inline std::vector<int32_t> collect_tokens(RequestStream& stream) {
  std::vector<int32_t> tokens;
  for (int i = 0; i < 30000; ++i) {
    auto event = stream.pop(std::chrono::milliseconds(10));
    if (!event) continue;
    if (event->kind == GenerationEvent::Kind::kText) {
      tokens.insert(tokens.end(), event->token_ids.begin(), event->token_ids.end());
      continue;
    }
    EXPECT_EQ(event->kind, GenerationEvent::Kind::kFinished) << event->error.to_string();
    return tokens;
  }
  ADD_FAILURE() << "request did not finish";
  return tokens;
}

// The value of counter `name` in the registry's text rendering; -1 when absent.
inline double counter_value(MetricsRegistry& registry, const std::string& name) {
  const std::string text = registry.render();
  const size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + name.size() + 2));
}

// What one engine run of a set of requests produced: each request's tokens and the speculation counters.
struct SpecRunResult {
  std::vector<std::vector<int32_t>> outputs;
  double proposed = 0, accepted = 0, verifications = 0;
};

// Creates an engine with `options` (and `draft` for the draft mode), submits every request before
// the first step can finish them (so they run concurrently), collects their tokens and shuts down.
inline SpecRunResult run_to_completion(const Model& model, const Tokenizer& tokenizer, const EngineOptions& options,
                                       const Model* draft, std::vector<EngineRequest> requests) {
  MetricsRegistry registry;
  auto engine = LlmEngine::create(model, tokenizer, options, &registry, draft);
  EXPECT_TRUE(engine.has_value()) << engine.error().to_string();
  SpecRunResult result;
  if (!engine) return result;
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (EngineRequest& request : requests) {
    auto stream = (*engine)->submit(std::move(request));
    EXPECT_TRUE(stream.has_value());
    if (stream) streams.push_back(*stream);
  }
  for (auto& stream : streams) result.outputs.push_back(collect_tokens(*stream));
  (*engine)->shutdown(std::chrono::milliseconds(1000));
  result.proposed = counter_value(registry, "frugal_spec_proposed_tokens_total");
  result.accepted = counter_value(registry, "frugal_spec_accepted_tokens_total");
  result.verifications = counter_value(registry, "frugal_spec_verifications_total");
  return result;
}

}  // namespace frugal::testing

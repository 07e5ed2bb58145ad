// Helpers shared by the engine's speculation tests (draft/n-gram and Medusa): the bundled models'
// paths, a bounded wait for one request's tokens, and one counter read from the metrics text.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
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

}  // namespace frugal::testing

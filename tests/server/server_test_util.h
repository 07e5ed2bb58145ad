// Helpers shared by the server tests: the small test model's tokenizer and an SSE body parser.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/test_data.h"
#include "gguf/gguf_reader.h"
#include "tokenizer/tokenizer.h"

namespace frugal::testing {

inline const Tokenizer& test_tokenizer() {
  static const Tokenizer* tokenizer = [] {
    auto file = GgufFile::open(data_path("models/small-q8_0.gguf"));
    if (!file) return static_cast<Tokenizer*>(nullptr);
    auto tok = Tokenizer::from_gguf(*file);
    return tok ? new Tokenizer(std::move(*tok)) : nullptr;
  }();
  if (tokenizer == nullptr) {
    ADD_FAILURE() << "cannot load the test tokenizer";
    std::abort();
  }
  return *tokenizer;
}

// Splits an SSE body into its events' data payloads, checking the framing strictly: every event is
// "data: <payload>\n\n" (comment lines ": ...\n\n" are skipped). A malformed body yields a failure.
inline std::vector<std::string> sse_payloads(const std::string& body) {
  std::vector<std::string> payloads;
  size_t pos = 0;
  while (pos < body.size()) {
    const size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) {
      ADD_FAILURE() << "unterminated SSE event at byte " << pos << ": " << body.substr(pos);
      break;
    }
    const std::string event = body.substr(pos, end - pos);
    pos = end + 2;
    if (event.rfind(": ", 0) == 0) continue;
    if (event.rfind("data: ", 0) != 0 || event.find('\n') != std::string::npos) {
      ADD_FAILURE() << "malformed SSE event: " << event;
      continue;
    }
    payloads.push_back(event.substr(6));
  }
  return payloads;
}

}  // namespace frugal::testing

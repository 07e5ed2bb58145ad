// Shared helpers for tokenizer tests: loading the reference vocabularies (cached per process)
// and hex/UTF-8 utilities.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/test_data.h"
#include "gguf/gguf_reader.h"
#include "tokenizer/tokenizer.h"

namespace frugal::testing {

// The 512-token BPE vocab is embedded in every tiny/small model; tiny-f32 is the one named in
// the shared README.
inline constexpr const char* kBpe512Gguf = "models/tiny-f32.gguf";
inline constexpr const char* kLlama3Gguf = "models/llama3-vocab.gguf";

// Loads (once per process) the tokenizer of a GGUF under tests/data; nullptr + test failure on error.
inline const Tokenizer* shared_tokenizer(const std::string& relative_path) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(relative_path);
  if (it != cache.end()) return it->second.get();
  auto file = GgufFile::open(data_path(relative_path));
  if (!file) {
    ADD_FAILURE() << "cannot open " << relative_path << ": " << file.error().to_string();
    return nullptr;
  }
  auto tokenizer = Tokenizer::from_gguf(*file);
  if (!tokenizer) {
    ADD_FAILURE() << "cannot load tokenizer of " << relative_path << ": " << tokenizer.error().to_string();
    return nullptr;
  }
  auto owned = std::make_unique<Tokenizer>(std::move(*tokenizer));
  const Tokenizer* raw = owned.get();
  cache.emplace(relative_path, std::move(owned));
  return raw;
}

inline std::string hex_to_bytes(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

inline std::string bytes_to_hex(const std::string& bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out.push_back(kDigits[static_cast<uint8_t>(c) >> 4]);
    out.push_back(kDigits[static_cast<uint8_t>(c) & 15]);
  }
  return out;
}

}  // namespace frugal::testing

// Test helper: a real HTTP client (the curl binary) against a `frugal serve` child on loopback.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "common/subprocess.h"

namespace frugal::testing {

// POSTs a JSON body to http://127.0.0.1:PORT/PATH; the parsed response (discarded on bad JSON).
inline nlohmann::json curl_post_json(int port, const std::string& path, const std::string& body) {
  const std::string file = ::testing::TempDir() + "frugal_curl_body_" + std::to_string(getpid()) + ".json";
  std::ofstream(file) << body;
  auto r = run_command("curl -s -H 'Content-Type: application/json' --data-binary @" + file + " http://127.0.0.1:" +
                       std::to_string(port) + path);
  std::remove(file.c_str());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return nlohmann::json::parse(r.output, nullptr, /*allow_exceptions=*/false);
}

// GETs http://127.0.0.1:PORT/PATH; the body.
inline std::string curl_get(int port, const std::string& path) {
  return run_command("curl -s http://127.0.0.1:" + std::to_string(port) + path).output;
}

}  // namespace frugal::testing

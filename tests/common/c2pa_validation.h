// Runs the C2PA reference library (c2pa-rs as npm @contentauth/c2pa-wasm, in node) on an MP4 frugal
// signed: tests/trust/c2pa_validation.test.mjs checks the manifest's actions, `Trusted` with `ca` as
// trust anchor, untrusted without it, and assertion.bmffHash.mismatch after one flipped mdat byte.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace frugal::testing {

inline std::filesystem::path c2pa_repo_root() {
  return std::filesystem::path(FRUGAL_TEST_DATA_DIR).parent_path().parent_path();
}

// "" when node and the npm package are there, else why not.
inline std::string c2pa_validator_missing() {
  if (std::system("command -v node >/dev/null 2>&1") != 0) return "node is not installed";
  if (!std::filesystem::exists(c2pa_repo_root() / "node_modules/@contentauth/c2pa-wasm/package.json")) {
    return "@contentauth/c2pa-wasm is not installed (run `npm ci` in the repo root)";
  }
  return "";
}

// Skips the test (fails it under CI) when the validator is missing.
#define FRUGAL_REQUIRE_C2PA_VALIDATOR()                                          \
  do {                                                                           \
    const std::string why = ::frugal::testing::c2pa_validator_missing();        \
    if (!why.empty()) {                                                          \
      if (std::getenv("CI") != nullptr) FAIL() << why << " (required in CI)";    \
      GTEST_SKIP() << why;                                                       \
    }                                                                            \
  } while (0)

// Expects all 3 node tests to pass on `mp4`. `watermark_alg` "" skips the soft-binding checks;
// `watermark_hex` is the payload as lowercase hex.
inline void expect_c2pa_reference_validation(const std::string& mp4, const std::string& ca, const std::string& model,
                                             const std::string& watermark_alg = "",
                                             const std::string& watermark_hex = "") {
  const std::string log = mp4 + ".c2pa-node.log";
  const std::string command = "cd '" + c2pa_repo_root().string() + "' && FRUGAL_C2PA_MP4='" + mp4 +
                              "' FRUGAL_C2PA_CA='" + ca + "' FRUGAL_C2PA_MODEL='" + model +
                              "' FRUGAL_C2PA_WATERMARK_ALG='" + watermark_alg + "' FRUGAL_C2PA_WATERMARK_HEX='" +
                              watermark_hex + "' timeout 120 node --test --test-reporter=spec " +
                              "tests/trust/c2pa_validation.test.mjs > '" + log + "' 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream in(log);
  const std::string output((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
  EXPECT_NE(output.find("pass 3"), std::string::npos) << "all 3 validation tests must run and pass:\n" << output;
  EXPECT_NE(output.find("fail 0"), std::string::npos) << output;
}

}  // namespace frugal::testing

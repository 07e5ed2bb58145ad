// deploy/'s other files, checked offline: the Kubernetes manifests by tests/deploy/k8s_manifests.test.mjs
// (node --test: the schemas bundled in the npm packages kubernetes-models and
// @kubernetes-models/keda, plus KEDA's documented trigger metadata), docker-compose.yml by Debian's
// docker-compose (`config`: its bundled Compose schema), and the Dockerfile's promise (Debian 12,
// the README's install script, nothing else downloaded). A missing tool skips, or fails under CI=1.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "common/subprocess.h"
#include "common/test_data.h"
#include "deploy/nginx_front.h"

namespace frugal {
namespace {

namespace fs = std::filesystem;
using testing::repo_root;
using testing::run_command;

// Skips the test (or fails it under CI) with `why`.
#define SKIP_OR_FAIL_IN_CI(why)                                                   \
  do {                                                                            \
    if (std::getenv("CI") != nullptr) FAIL() << (why) << " (required in CI)";    \
    GTEST_SKIP() << (why);                                                        \
  } while (0)

TEST(K8sManifests, PassTheOfflineSchemaAndTopologyChecksAndEachCheckCatchesABrokenCopy) {
  if (run_command("command -v node >/dev/null 2>&1").exit_code != 0) SKIP_OR_FAIL_IN_CI("node is not installed");
  for (const char* package : {"yaml", "kubernetes-models", "@kubernetes-models/keda"}) {
    if (!fs::exists(repo_root() / "node_modules" / package / "package.json")) {
      SKIP_OR_FAIL_IN_CI(std::string("the npm package ") + package + " is not installed (run `npm ci` in the repo root)");
    }
  }
  ASSERT_TRUE(fs::exists(testing::frugal_binary())) << "build the `frugal` target first";
  const auto result = run_command("cd '" + repo_root().string() + "' && FRUGAL_BINARY='" + testing::frugal_binary() +
                                  "' timeout 120 node --test --test-reporter=spec tests/deploy/k8s_manifests.test.mjs 2>&1");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("pass 8"), std::string::npos) << "all 8 manifest tests must run and pass:\n" << result.output;
  EXPECT_NE(result.output.find("fail 0"), std::string::npos) << result.output;
}

TEST(DockerCompose, TheFileIsValidAndABrokenCopyIsNot) {
  if (run_command("command -v docker-compose >/dev/null 2>&1").exit_code != 0) {
    SKIP_OR_FAIL_IN_CI("docker-compose is not installed (scripts/install-deps installs Debian's)");
  }
  const fs::path compose = repo_root() / "deploy" / "docker-compose.yml";
  const auto ok = run_command("docker-compose -f '" + compose.string() + "' config -q 2>&1");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  const auto config = run_command("docker-compose -f '" + compose.string() + "' config 2>&1");
  EXPECT_NE(config.output.find("dockerfile: deploy/Dockerfile"), std::string::npos) << config.output;
  EXPECT_NE(config.output.find("context: " + repo_root().string()), std::string::npos) << config.output;
  EXPECT_NE(config.output.find("frugal-state:/var/lib/frugal"), std::string::npos) << config.output;
  EXPECT_NE(config.output.find("127.0.0.1:8080:8080"), std::string::npos) << config.output;

  // The same file with one misspelt key (beside the original, so relative paths still resolve).
  const fs::path broken = repo_root() / "deploy" / ("docker-compose.broken-" + std::to_string(getpid()) + ".yml");
  std::string text = testing::read_text_file(compose.string());
  const size_t at = text.find("    ports:");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 10, "    portz:");
  std::ofstream(broken) << text;
  const auto bad = run_command("docker-compose -f '" + broken.string() + "' config -q 2>&1");
  fs::remove(broken);
  EXPECT_NE(bad.exit_code, 0) << bad.output;
  EXPECT_NE(bad.output.find("portz"), std::string::npos) << bad.output;
}

TEST(Dockerfile, BuildsOnDebian12WithTheInstallScriptAndDownloadsNothingElse) {
  const std::string text = testing::read_text_file((repo_root() / "deploy" / "Dockerfile").string());
  ASSERT_FALSE(text.empty());
  EXPECT_TRUE(std::regex_search(text, std::regex(R"(^FROM debian:12\s*$)", std::regex::multiline))) << text;
  EXPECT_EQ(text.find("\nFROM ", text.find("FROM ") + 1), std::string::npos) << "one stage";
  EXPECT_NE(text.find("scripts/install-deps --serve"), std::string::npos);
  EXPECT_NE(text.find("make build-serve"), std::string::npos);
  for (const char* fetch : {"wget ", "curl -L", "curl -o", "curl -O", "ADD http", "pip install", "npm "}) {
    EXPECT_EQ(text.find(fetch), std::string::npos) << "the image downloads nothing beyond Debian packages: " << fetch;
  }
  // What it copies and runs is in the repository.
  EXPECT_TRUE(fs::exists(repo_root() / "scripts" / "serve-demo"));
  EXPECT_TRUE(fs::exists(repo_root() / "models" / "kjv-target-f16.gguf"));
  const std::string ignore = testing::read_text_file((repo_root() / "deploy" / "Dockerfile.dockerignore").string());
  for (const char* left_out : {"build", "node_modules", ".git"}) {
    EXPECT_TRUE(std::regex_search(ignore, std::regex(std::string("^") + left_out + "$", std::regex::multiline))) << left_out;
  }
}

}  // namespace
}  // namespace frugal

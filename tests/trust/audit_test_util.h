// Test helpers for the audit log tests: a fresh folder, file lines in and out, a sample event.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "trust/audit_log.h"

namespace frugal::trust::testing {

// A new empty folder under the test temp dir, unique per test and process.
inline std::string fresh_dir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "frugal_audit_" + name + "_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(file, line)) lines.push_back(line);
  return lines;
}

inline void write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  for (const std::string& line : lines) file << line << "\n";
}

inline std::string read_all(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

inline AuditEvent sample_event(int i) {
  AuditEvent event;
  event.kind = i % 2 == 0 ? "video_job" : "llm_request";
  event.request_id = "req_" + std::to_string(i);
  event.key_id = api_key_id("sk-test-" + std::to_string(i % 3));
  event.prompt = "a red fox jumping over snow, take " + std::to_string(i);
  event.checks = {{"api_key", "pass", ""}, {"queue_admission", "pass", "position " + std::to_string(i)}};
  event.model = "wan-tiny";
  event.tier = "draft";
  event.seed = 1000 + static_cast<uint64_t>(i);
  event.outcome = "completed";
  event.output_sha256 = std::string(64, 'a');
  event.cost_usd = 0.0012 * i;
  return event;
}

// A log of `n` events (checkpoint every `every`), closed (so it ends with a checkpoint).
inline AuditLogOptions write_sample_log(const std::string& dir, int n, int64_t every) {
  AuditLogOptions options;
  options.path = dir + "/audit.jsonl";
  options.checkpoint_every = every;
  auto log = AuditLog::open(options);
  EXPECT_TRUE(log.has_value()) << log.error().to_string();
  for (int i = 0; i < n; ++i) EXPECT_TRUE((*log)->record(sample_event(i)).is_ok());
  EXPECT_TRUE((*log)->close().is_ok());
  return options;
}

}  // namespace frugal::trust::testing

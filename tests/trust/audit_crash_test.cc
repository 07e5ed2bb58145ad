// kill -9 at any moment: a writer process appending as fast as it can is SIGKILLed, repeatedly; each
// time the log verifies (or ends in a torn tail only), the next open continues the chain, and the
// final log verifies whole.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "trust/audit_test_util.h"
#include "trust/audit_verify.h"

namespace frugal::trust {
namespace {

int64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

// The child: appends records (with a 48 KiB stored prompt, so a kill often lands mid-write) forever.
[[noreturn]] void write_forever(const AuditLogOptions& options) {
  auto log = AuditLog::open(options);
  if (!log) _exit(3);
  AuditEvent event = testing::sample_event(1);
  event.prompt.assign(48 * 1024, 'x');
  for (int64_t i = 0;; ++i) {
    event.request_id = "crash_" + std::to_string(i);
    if (!(*log)->record(event)) _exit(4);
  }
}

TEST(AuditCrash, KilledWriterLeavesAChainThatVerifiesAndContinues) {
  const std::string dir = testing::fresh_dir("crash");
  AuditLogOptions options;
  options.path = dir + "/audit.jsonl";
  options.checkpoint_every = 7;
  options.store_prompts = true;
  {
    auto first = AuditLog::open(options);  // makes the key before any child runs
    ASSERT_TRUE(first.has_value()) << first.error().to_string();
  }
  int64_t records_before = 0;
  for (int round = 0; round < 5; ++round) {
    const int64_t start_size = file_size(options.path);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) write_forever(options);
    // Let it write a while (bounded), then kill it without warning at an arbitrary byte.
    for (int wait = 0; wait < 400 && file_size(options.path) < start_size + (round + 2) * 150 * 1024; ++wait) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped on its own: " << status;

    auto report = verify_audit_log(options.path, {.anchor_path = "-"});
    ASSERT_TRUE(report.has_value());
    if (!report->ok()) {
      EXPECT_EQ(report->failure->kind, AuditFailureKind::kTornTail)
          << "round " << round << ": " << audit_failure_name(report->failure->kind) << " " << report->failure->detail;
    }
    EXPECT_GT(report->records, records_before) << "round " << round << " appended nothing";
    records_before = report->records;
    // The next writer continues from the last whole record.
    auto reopened = AuditLog::open(options);
    ASSERT_TRUE(reopened.has_value()) << reopened.error().to_string();
    EXPECT_GE((*reopened)->open_report().next_seq, report->records);
  }
  auto final_log = AuditLog::open(options);
  ASSERT_TRUE(final_log.has_value());
  ASSERT_TRUE((*final_log)->record(testing::sample_event(0)).is_ok());
  ASSERT_TRUE((*final_log)->close().is_ok());
  auto report = verify_audit_log(options.path, {});
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->ok()) << audit_failure_name(report->failure->kind) << " " << report->failure->detail;
  EXPECT_GT(report->checkpoints, 0);
}

}  // namespace
}  // namespace frugal::trust

// WebhookDispatcher against a real receiver: a cpp-httplib server on 127.0.0.1 that checks every
// delivery's Standard Webhooks signature itself (HMAC-SHA256 and base64 from OpenSSL, not frugal's
// code). One event per finished job (completed and failed), a retry after a 500 with the same
// webhook-id, delivery of what was pending after a restart, the bound on attempts, and a database
// from before the webhook columns.
#include "jobs/webhook_dispatcher.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/webhook_receiver.h"
#include "jobs/sqlite_job_store.h"
#include "jobs/video_worker.h"

namespace frugal::jobs {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using testing::WebhookDelivery;
using testing::WebhookReceiver;
using testing::kWebhookSecret;

JobRecord make_job(const std::string& id) {
  JobRecord job;
  job.id = id;
  job.tier = "draft";
  job.model = "wan";
  job.prompt = "a red circle";
  job.size = "64x64";
  job.width = job.height = 64;
  job.frames = 5;
  job.steps = 2;
  job.sampler = "unipc";
  job.created_at = 100;
  job.webhook_state = WebhookState::kWaiting;
  return job;
}

class WebhookDispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "frugal_webhooks_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".sqlite";
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path_ + suffix);
    reopen();
  }
  void TearDown() override {
    dispatcher_.reset();
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path_ + suffix);
  }
  void reopen() {
    dispatcher_.reset();
    store_.reset();
    auto store = SqliteJobStore::open(path_);
    ASSERT_TRUE(store) << store.error().to_string();
    store_ = std::move(*store);
  }
  void start_dispatcher(const std::string& url, std::vector<std::chrono::seconds> retry_delays = {1s}) {
    auto sender = webhooks::WebhookSender::create({url, kWebhookSecret}, 2s);
    ASSERT_TRUE(sender) << sender.error().to_string();
    WebhookDispatcherOptions options;
    options.retry_delays = std::move(retry_delays);
    options.idle_poll = 20ms;
    dispatcher_ = std::make_unique<WebhookDispatcher>(*store_, std::move(*sender), options, nullptr);
    dispatcher_->start();
  }
  // Submits and runs a job to completed (or failed).
  void finish(const std::string& id, bool completed) {
    ASSERT_TRUE(store_->submit(make_job(id), {}, nullptr));
    auto claimed = store_->claim_next("wan", 200, {});
    ASSERT_TRUE(claimed && claimed->has_value());
    ASSERT_EQ((*claimed)->id, id);
    if (completed) {
      ASSERT_TRUE(store_->complete(id, JobResult{}, 300));
    } else {
      ASSERT_TRUE(store_->fail(id, "generation_failed", "boom", 300));
    }
    if (dispatcher_) dispatcher_->notify();
  }
  // Waits (bounded) until the job's webhook state is `state` after at least `min_attempts` attempts.
  JobRecord wait_for_state(const std::string& id, WebhookState state, int min_attempts = 0) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    JobRecord job;
    while (std::chrono::steady_clock::now() < deadline) {
      auto got = store_->get(id);
      if (got) job = *got;
      if (got && got->webhook_state == state && got->webhook_attempts >= min_attempts) break;
      std::this_thread::sleep_for(10ms);
    }
    return job;
  }
  std::string path_;
  std::unique_ptr<SqliteJobStore> store_;
  std::unique_ptr<WebhookDispatcher> dispatcher_;
};

TEST_F(WebhookDispatcherTest, EachFinishedJobIsAnnouncedOnceWithAValidSignature) {
  WebhookReceiver receiver;
  start_dispatcher(receiver.url());
  finish("video_aa01", /*completed=*/true);
  finish("video_bb02", /*completed=*/false);
  EXPECT_EQ(wait_for_state("video_aa01", WebhookState::kDelivered).webhook_attempts, 1);
  EXPECT_EQ(wait_for_state("video_bb02", WebhookState::kDelivered).webhook_attempts, 1);
  std::this_thread::sleep_for(300ms);  // nothing more arrives
  const std::vector<WebhookDelivery> got = receiver.deliveries();
  ASSERT_EQ(got.size(), 2u);
  std::map<std::string, std::string> type_of;
  for (const WebhookDelivery& d : got) {
    EXPECT_TRUE(d.signature_ok) << d.signature << " for " << d.id << "." << d.timestamp << "." << d.body;
    EXPECT_NEAR(std::stoll(d.timestamp), unix_now(), 60);
    const nlohmann::json event = nlohmann::json::parse(d.body);
    EXPECT_EQ(event["object"], "event");
    EXPECT_EQ(event["id"], d.id);
    EXPECT_EQ(event["created_at"], 300);
    type_of[event["data"]["id"]] = event["type"];
  }
  EXPECT_EQ(type_of["video_aa01"], "video.completed");
  EXPECT_EQ(type_of["video_bb02"], "video.failed");
  EXPECT_EQ(got[0].id.rfind("evt_", 0), 0u);
}

TEST_F(WebhookDispatcherTest, A500IsRetriedWithTheSameIdAndAFreshSignature) {
  WebhookReceiver receiver;
  receiver.answer_next(500);
  start_dispatcher(receiver.url(), {1s});
  finish("video_cc03", true);
  const JobRecord job = wait_for_state("video_cc03", WebhookState::kDelivered);
  EXPECT_EQ(job.webhook_state, WebhookState::kDelivered);
  EXPECT_EQ(job.webhook_attempts, 2);
  const std::vector<WebhookDelivery> got = receiver.deliveries();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id, got[1].id) << "retries keep the webhook-id: receivers deduplicate on it";
  EXPECT_EQ(got[0].body, got[1].body);
  EXPECT_TRUE(got[0].signature_ok && got[1].signature_ok);
  EXPECT_GE(std::stoll(got[1].timestamp), std::stoll(got[0].timestamp) + 1) << "after the 1 s backoff";
}

TEST_F(WebhookDispatcherTest, AttemptsAreBoundedThenTheEventIsAbandoned) {
  WebhookReceiver receiver;
  for (int k = 0; k < 10; ++k) receiver.answer_next(503);
  start_dispatcher(receiver.url(), {0s, 0s});
  finish("video_dd04", true);
  const JobRecord job = wait_for_state("video_dd04", WebhookState::kAbandoned);
  EXPECT_EQ(job.webhook_state, WebhookState::kAbandoned);
  EXPECT_EQ(job.webhook_attempts, 3);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(receiver.deliveries().size(), 3u);
}

TEST_F(WebhookDispatcherTest, WhatWasNotDeliveredBeforeARestartIsDeliveredAfterIt) {
  WebhookReceiver receiver;
  // The job ends while no dispatcher runs (the process died right after the commit) ...
  finish("video_ee05", true);
  reopen();
  EXPECT_EQ(store_->get("video_ee05")->webhook_state, WebhookState::kPending);
  EXPECT_EQ(store_->get("video_ee05")->webhook_attempts, 0);
  // ... and one whose first attempt found the endpoint down (nothing listens there any more).
  std::string dead_url;
  {
    WebhookReceiver gone;
    dead_url = gone.url();
  }
  start_dispatcher(dead_url, {1s});
  finish("video_ff06", true);
  EXPECT_EQ(wait_for_state("video_ff06", WebhookState::kPending, 1).webhook_attempts, 1);
  reopen();  // the restart: a new store and dispatcher over the same file
  start_dispatcher(receiver.url());
  EXPECT_EQ(wait_for_state("video_ee05", WebhookState::kDelivered).webhook_state, WebhookState::kDelivered);
  EXPECT_EQ(wait_for_state("video_ff06", WebhookState::kDelivered).webhook_state, WebhookState::kDelivered);
  const std::vector<WebhookDelivery> got = receiver.wait_for(2);
  ASSERT_EQ(got.size(), 2u);
  for (const WebhookDelivery& d : got) EXPECT_TRUE(d.signature_ok);
}

TEST_F(WebhookDispatcherTest, JobsSubmittedWithoutAWebhookAreNeverAnnounced) {
  WebhookReceiver receiver;
  start_dispatcher(receiver.url());
  JobRecord quiet = make_job("video_0a07");
  quiet.webhook_state = WebhookState::kNone;
  ASSERT_TRUE(store_->submit(quiet, {}, nullptr));
  ASSERT_TRUE(store_->claim_next("wan", 200, {}));
  ASSERT_TRUE(store_->complete("video_0a07", JobResult{}, 300));
  dispatcher_->notify();
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(receiver.deliveries().empty());
  EXPECT_EQ(store_->get("video_0a07")->webhook_state, WebhookState::kNone);
}

TEST_F(WebhookDispatcherTest, ADatabaseFromBeforeWebhooksGetsTheColumns) {
  store_.reset();
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path_ + suffix);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  // The first release's table, with one finished job in it.
  const char* old_schema =
      "CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, model TEXT NOT NULL, "
      "tier TEXT NOT NULL, priority INTEGER NOT NULL, idempotency_key TEXT NOT NULL, api_key_hash TEXT NOT NULL, "
      "spec TEXT NOT NULL, state TEXT NOT NULL, progress REAL NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, "
      "started_at INTEGER NOT NULL DEFAULT 0, completed_at INTEGER NOT NULL DEFAULT 0, expires_at INTEGER NOT NULL "
      "DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, completions INTEGER NOT NULL DEFAULT 0, error_code TEXT NOT "
      "NULL DEFAULT '', error_message TEXT NOT NULL DEFAULT '', compute_seconds REAL NOT NULL DEFAULT 0, cost_usd "
      "REAL NOT NULL DEFAULT 0, stages TEXT NOT NULL DEFAULT '{}');"
      "INSERT INTO jobs (id, model, tier, priority, idempotency_key, api_key_hash, spec, state, created_at) VALUES "
      "('video_01d', 'wan', 'draft', 1, '', '', '{}', 'completed', 5);";
  ASSERT_EQ(sqlite3_exec(db, old_schema, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  reopen();
  auto old = store_->get("video_01d");
  ASSERT_TRUE(old) << old.error().to_string();
  EXPECT_EQ(old->webhook_state, WebhookState::kNone);
  finish("video_02e", true);
  EXPECT_EQ(store_->get("video_02e")->webhook_state, WebhookState::kPending);
  reopen();  // opening a migrated database again changes nothing
  EXPECT_EQ(store_->get("video_02e")->webhook_state, WebhookState::kPending);
}

}  // namespace
}  // namespace frugal::jobs

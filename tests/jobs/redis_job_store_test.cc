// RedisJobStore beyond the JobStore contract (job_store_contract_test.cc): what several processes
// sharing one Redis need. Job state read from another node; a dead worker's job taken over by a
// live one after its lease (XAUTOCLAIM), and not before while the owner's heartbeat runs; the fence
// that stops a worker whose lease lapsed from completing the job a second time; the dead-letter
// stream after max_attempts interrupted runs; release on drain; a clear error when Redis is down,
// reconnection when it is back, and no acknowledged job lost across kill -9 of Redis (append-only file).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "jobs/job_store_backends.h"

namespace frugal::jobs {
namespace {

using namespace std::chrono_literals;

JobRecord make_job(const std::string& id, const std::string& tier = "draft", int priority = 1) {
  JobRecord job;
  job.id = id;
  job.tier = tier;
  job.model = "wan";
  job.priority = priority;
  job.prompt = "a cat";
  job.width = job.height = 64;
  job.frames = 5;
  job.steps = 2;
  job.sampler = "unipc";
  job.created_at = 100;
  return job;
}

class RedisJobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FRUGAL_REQUIRE_REDIS_SERVER();
    ASSERT_TRUE(test::BackendStore::redis().ready()) << test::BackendStore::redis().log();
    backend_.init("redis", "redis", /*lease_ms=*/300, /*max_attempts=*/2);
  }
  std::unique_ptr<JobStore> open(const std::string& consumer) {
    auto store = backend_.open(consumer);
    EXPECT_TRUE(store) << store.error().to_string();
    return store ? std::move(*store) : nullptr;
  }
  static std::string claim(JobStore& store) {
    auto job = store.claim_next("wan", 200, {});
    EXPECT_TRUE(job) << job.error().to_string();
    return job && job->has_value() ? (*job)->id : "";
  }
  std::string redis_cli(const std::string& args) { return test::BackendStore::redis().cli(args); }
  test::BackendStore backend_;
};

TEST_F(RedisJobStoreTest, AnyNodeReadsTheStateAnotherNodeWrote) {
  auto api_a = open("api-a");
  auto api_b = open("api-b");
  ASSERT_TRUE(api_a->submit(make_job("video_x"), {}, nullptr));
  auto seen = api_b->get("video_x");
  ASSERT_TRUE(seen) << seen.error().to_string();
  EXPECT_EQ(seen->state, JobState::kQueued);
  EXPECT_EQ(*api_b->queue_position("video_x"), 1);
  ASSERT_EQ(claim(*api_b), "video_x");
  ASSERT_TRUE(api_b->update_progress("video_x", 40));
  EXPECT_EQ(api_a->get("video_x")->progress, 40);
  EXPECT_EQ(api_a->get("video_x")->state, JobState::kInProgress);
}

TEST_F(RedisJobStoreTest, ALiveWorkersHeartbeatKeepsItsJobADeadWorkersJobIsTakenOver) {
  auto worker_a = open("worker-a");
  auto worker_b = open("worker-b");
  ASSERT_TRUE(worker_a->submit(make_job("video_1"), {}, nullptr));
  ASSERT_EQ(claim(*worker_a), "video_1");
  std::this_thread::sleep_for(900ms);  // three leases: a's heartbeat refreshed it meanwhile
  EXPECT_EQ(claim(*worker_b), "") << "a live worker's job is not taken";
  worker_a.reset();                     // a dies: no more heartbeats, no release
  std::string taken;
  for (int attempt = 0; attempt < 40 && taken.empty(); ++attempt) {  // 2 s at most
    std::this_thread::sleep_for(50ms);
    taken = claim(*worker_b);
  }
  ASSERT_EQ(taken, "video_1") << "taken over after the lease";
  auto job = worker_b->get("video_1");
  EXPECT_EQ(job->state, JobState::kInProgress);
  EXPECT_EQ(job->attempts, 2);
  ASSERT_TRUE(worker_b->complete("video_1", JobResult{}, 300));
  EXPECT_EQ(worker_b->get("video_1")->completions, 1);
  EXPECT_EQ(redis_cli("XPENDING " + backend_.prefix() + "stream:wan:draft workers").substr(0, 1), "0")
      << "acknowledged";
}

TEST_F(RedisJobStoreTest, AWorkerWhoseLeaseWasTakenOverCannotCompleteTheJob) {
  auto worker_a = open("worker-a");
  auto worker_b = open("worker-b");
  ASSERT_TRUE(worker_a->submit(make_job("video_1"), {}, nullptr));
  ASSERT_EQ(claim(*worker_a), "video_1");
  // a stalls (a long GC pause, a partition): its entry looks idle for an hour.
  const std::string entry = redis_cli("HGET " + backend_.prefix() + "job:video_1 entry");
  redis_cli("XCLAIM " + backend_.prefix() + "stream:wan:draft workers worker-a 0 " + entry.substr(0, entry.find('\n')) +
            " IDLE 3600000 JUSTID");
  ASSERT_EQ(claim(*worker_b), "video_1");
  const Status late = worker_a->complete("video_1", JobResult{}, 300);
  EXPECT_EQ(late.code(), StatusCode::kUnavailable) << late.to_string();
  EXPECT_NE(late.message().find("lease lost"), std::string::npos) << late.to_string();
  EXPECT_EQ(worker_a->update_progress("video_1", 50).code(), StatusCode::kUnavailable);
  ASSERT_TRUE(worker_b->complete("video_1", JobResult{}, 310));
  auto job = worker_b->get("video_1");
  EXPECT_EQ(job->completions, 1);
  EXPECT_EQ(job->completed_at, 310);
}

TEST_F(RedisJobStoreTest, AfterMaxAttemptsInterruptedRunsTheJobIsDeadLettered) {
  auto api = open("api");
  ASSERT_TRUE(api->submit(make_job("video_doomed"), {}, nullptr));
  for (const char* name : {"worker-1", "worker-2"}) {  // max_attempts = 2: two runs die
    auto worker = open(name);
    std::string taken;
    for (int attempt = 0; attempt < 40 && taken.empty(); ++attempt) {
      taken = claim(*worker);
      if (taken.empty()) std::this_thread::sleep_for(50ms);
    }
    ASSERT_EQ(taken, "video_doomed");
  }  // each worker dies with the job
  ASSERT_TRUE(api->submit(make_job("video_fine"), {}, nullptr));
  auto survivor = open("worker-3");
  std::this_thread::sleep_for(400ms);  // past the lease
  EXPECT_EQ(claim(*survivor), "video_fine") << "the doomed job is not run a third time";
  auto doomed = api->get("video_doomed");
  EXPECT_EQ(doomed->state, JobState::kFailed);
  EXPECT_EQ(doomed->error_code, "attempts_exhausted");
  EXPECT_NE(doomed->error_message.find("interrupted 2 times"), std::string::npos) << doomed->error_message;
  EXPECT_EQ(doomed->attempts, 2);
  const std::string dead = redis_cli("XRANGE " + backend_.prefix() + "dead - +");
  EXPECT_NE(dead.find("video_doomed"), std::string::npos) << dead;
  EXPECT_EQ(dead.find("video_fine"), std::string::npos) << dead;
}

TEST_F(RedisJobStoreTest, AReleasedJobIsClaimedByAnotherWorkerAtOnceWithoutPenalty) {
  auto worker_a = open("worker-a");
  auto worker_b = open("worker-b");
  ASSERT_TRUE(worker_a->submit(make_job("video_1"), {}, nullptr));
  ASSERT_TRUE(worker_a->submit(make_job("video_2"), {}, nullptr));
  ASSERT_EQ(claim(*worker_a), "video_1");
  ASSERT_TRUE(worker_a->update_progress("video_1", 30));
  ASSERT_TRUE(worker_a->release("video_1"));  // a drains (SIGTERM)
  auto released = worker_b->get("video_1");
  EXPECT_EQ(released->state, JobState::kQueued);
  EXPECT_EQ(released->progress, 0);
  EXPECT_EQ(claim(*worker_b), "video_1") << "keeps its place ahead of video_2, no lease to wait for";
  EXPECT_EQ(worker_b->get("video_1")->attempts, 2);
  ASSERT_TRUE(worker_b->release("video_1"));
  auto worker_c = open("worker-c");
  EXPECT_EQ(claim(*worker_c), "video_1") << "releases are not failures: max_attempts (2) does not dead-letter it";
  EXPECT_EQ(worker_a->complete("video_1", JobResult{}, 300).code(), StatusCode::kInternal)
      << "a released it: c runs it now";
  ASSERT_TRUE(worker_c->complete("video_1", JobResult{}, 300));
}

TEST_F(RedisJobStoreTest, ADeletedJobIsSkippedByWorkersAndItsRunCannotComplete) {
  auto api = open("api");
  auto worker = open("worker");
  ASSERT_TRUE(api->submit(make_job("video_gone"), {}, nullptr));
  ASSERT_TRUE(api->submit(make_job("video_next"), {}, nullptr));
  ASSERT_TRUE(api->remove("video_gone"));
  EXPECT_EQ(claim(*worker), "video_next");
  ASSERT_TRUE(api->remove("video_next"));  // deleted while running
  EXPECT_EQ(worker->complete("video_next", JobResult{}, 300).code(), StatusCode::kNotFound);
  EXPECT_EQ(claim(*worker), "");
  EXPECT_EQ(redis_cli("XLEN " + backend_.prefix() + "stream:wan:draft").substr(0, 1), "0") << "entries deleted";
}

TEST(RedisJobStoreConnection, AnUnreachableRedisIsAClearErrorNotAHang) {
  RedisJobStoreOptions options;
  options.url = "redis://127.0.0.1:" + std::to_string(testing::free_loopback_port());
  options.timeouts.reconnect_attempts = 1;
  const auto start = std::chrono::steady_clock::now();
  auto store = RedisJobStore::open(options);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(store.error().message().find("unreachable"), std::string::npos) << store.error().to_string();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  options.url = "http://127.0.0.1:6379";
  EXPECT_EQ(RedisJobStore::open(options).error().code(), StatusCode::kInvalidArgument);
  options.url = "redis://127.0.0.1:99999";
  EXPECT_EQ(RedisJobStore::open(options).error().code(), StatusCode::kInvalidArgument);
}

TEST(RedisJobStoreConnection, NoAcknowledgedJobIsLostWhenRedisIsKilledAndRestarted) {
  FRUGAL_REQUIRE_REDIS_SERVER();
  testing::RedisServer redis("restart");
  ASSERT_TRUE(redis.ready()) << redis.log();
  RedisJobStoreOptions options;
  options.url = redis.url();
  options.consumer = "worker";
  options.timeouts.reconnect_attempts = 2;
  auto opened = RedisJobStore::open(options);
  ASSERT_TRUE(opened) << opened.error().to_string();
  auto& store = **opened;
  for (int job_idx = 0; job_idx < 20; ++job_idx) {
    ASSERT_TRUE(store.submit(make_job("video_" + std::to_string(job_idx)), {}, nullptr));
  }
  auto running = store.claim_next("wan", 200, {});
  ASSERT_TRUE(running && running->has_value());
  redis.kill_hard();
  const auto start = std::chrono::steady_clock::now();
  auto down = store.get("video_3");
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code(), StatusCode::kUnavailable) << down.error().to_string();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s) << "bounded reconnects";
  ASSERT_TRUE(redis.restart()) << redis.log();
  // The same store reconnects by itself; every accepted job is there, in its state.
  auto page = store.list({"", 100, true});
  ASSERT_TRUE(page) << page.error().to_string();
  ASSERT_EQ(page->jobs.size(), 20u);
  EXPECT_EQ(store.get((*running)->id)->state, JobState::kInProgress);
  ASSERT_TRUE(store.complete((*running)->id, JobResult{}, 300)) << "its fence survived too";
  int claimed = 0;
  for (int job_idx = 0; job_idx < 25; ++job_idx) {
    auto next = store.claim_next("wan", 200, {});
    ASSERT_TRUE(next) << next.error().to_string();
    if (!next->has_value()) break;
    ASSERT_TRUE(store.complete((*next)->id, JobResult{}, 300));
    ++claimed;
  }
  EXPECT_EQ(claimed, 19);
  const auto after = store.list({"", 100, true});  // kept alive: the loop reads its jobs
  ASSERT_TRUE(after) << after.error().to_string();
  for (const JobRecord& job : after->jobs) {
    EXPECT_EQ(job.state, JobState::kCompleted) << job.id;
    EXPECT_EQ(job.completions, 1) << job.id;
  }
}

}  // namespace
}  // namespace frugal::jobs

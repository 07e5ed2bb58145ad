// The JobStore contract, run against both backends (SQLite and Redis Streams): the state
// machine's edges, claim order (priority, then age; tier caps), the bounded queue, Idempotency-Key
// replays, cursor pagination, recovery of interrupted jobs, and that every committed change is
// there after the store is closed and opened again. The Redis runs start their own redis-server
// (tests/common/redis_server.h); each test has its own key prefix.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "jobs/job_store_backends.h"

namespace frugal::jobs {
namespace {

JobRecord make_job(const std::string& id, const std::string& tier, int priority, int64_t created_at = 100) {
  JobRecord job;
  job.id = id;
  job.tier = tier;
  job.model = "wan";
  job.priority = priority;
  job.prompt = "a cat";
  job.width = 64;
  job.height = 64;
  job.frames = 5;
  job.size = "64x64";
  job.seconds = "0.25";
  job.steps = 2;
  job.sampler = "unipc";
  job.seed = 7;
  job.created_at = created_at;
  return job;
}

class JobStoreContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    FRUGAL_SETUP_BACKEND(backend_, GetParam());
    reopen();
  }
  // Closes the store and opens it again: the process died and started again.
  void reopen() {
    store_.reset();
    auto store = backend_.open();
    ASSERT_TRUE(store) << store.error().to_string();
    store_ = std::move(*store);
  }
  void submit(const JobRecord& job) {
    auto stored = store_->submit(job, {}, nullptr);
    ASSERT_TRUE(stored) << stored.error().to_string();
  }
  std::string claim() {
    auto job = store_->claim_next("wan", 200, {});
    EXPECT_TRUE(job) << job.error().to_string();
    return job && job->has_value() ? (*job)->id : "";
  }
  test::BackendStore backend_;
  std::unique_ptr<JobStore> store_;
};

TEST_P(JobStoreContractTest, SubmitStoresTheRequestAsQueued) {
  submit(make_job("video_a", "draft", 1));
  auto job = store_->get("video_a");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->state, JobState::kQueued);
  EXPECT_EQ(job->prompt, "a cat");
  EXPECT_EQ(job->frames, 5);
  EXPECT_EQ(job->seed, 7u);
  EXPECT_EQ(store_->get("video_missing").error().code(), StatusCode::kNotFound);
}

TEST_P(JobStoreContractTest, AModerationHoldReasonSurvivesAReopen) {
  JobRecord held = make_job("video_held", "draft", 1);
  held.moderation_hold = "moderation: category self_harm (term)";
  submit(held);
  submit(make_job("video_plain", "draft", 1));
  reopen();
  EXPECT_EQ(store_->get("video_held")->moderation_hold, "moderation: category self_harm (term)");
  EXPECT_EQ(store_->get("video_plain")->moderation_hold, "");
}

TEST_P(JobStoreContractTest, ClaimsByPriorityThenAgeAndSkipsTiersAtTheirCap) {
  submit(make_job("video_final", "final", 1));
  submit(make_job("video_draft1", "draft", 3));
  submit(make_job("video_draft2", "draft", 3));
  EXPECT_EQ(*store_->queue_position("video_draft1"), 1);
  EXPECT_EQ(*store_->queue_position("video_draft2"), 2);
  EXPECT_EQ(*store_->queue_position("video_final"), 3);
  EXPECT_EQ(claim(), "video_draft1");
  EXPECT_EQ(*store_->queue_position("video_draft1"), 0) << "not queued any more";
  // draft has one running and a cap of 1: the final job goes next.
  auto next = store_->claim_next("wan", 200, {{"draft", 1}, {"final", 1}});
  ASSERT_TRUE(next && next->has_value());
  EXPECT_EQ((*next)->id, "video_final");
  EXPECT_EQ((*next)->attempts, 1);
  EXPECT_EQ((*next)->started_at, 200);
  auto none = store_->claim_next("wan", 200, {{"draft", 1}, {"final", 1}});
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  auto other_model = store_->claim_next("other", 200, {});
  ASSERT_TRUE(other_model);
  EXPECT_FALSE(other_model->has_value());
}

TEST_P(JobStoreContractTest, ATierWithANegativeCapIsNotServedHere) {
  submit(make_job("video_draft", "draft", 3));
  submit(make_job("video_final", "final", 1));
  const std::vector<std::pair<std::string, int>> final_only = {{"draft", -1}, {"final", 0}};
  auto next = store_->claim_next("wan", 200, final_only);
  ASSERT_TRUE(next && next->has_value());
  EXPECT_EQ((*next)->id, "video_final") << "`frugal worker --tiers final` skips the draft tier";
  auto none = store_->claim_next("wan", 200, final_only);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(claim(), "video_draft") << "a worker serving every tier takes it";
}

TEST_P(JobStoreContractTest, CompleteAndFailFollowTheStateMachine) {
  submit(make_job("video_a", "draft", 1));
  submit(make_job("video_b", "draft", 1));
  JobResult result;
  result.compute_seconds = 12.5;
  result.cost_usd = 0.01;
  result.expires_at = 5000;
  result.stage_seconds.denoise = 3;
  EXPECT_EQ(store_->complete("video_a", result, 300).code(), StatusCode::kInternal) << "queued cannot complete";
  ASSERT_EQ(claim(), "video_a");
  ASSERT_TRUE(store_->update_progress("video_a", 42).is_ok());
  EXPECT_EQ(store_->get("video_a")->progress, 42);
  ASSERT_TRUE(store_->complete("video_a", result, 300).is_ok());
  EXPECT_EQ(store_->complete("video_a", result, 301).code(), StatusCode::kInternal) << "completes once";
  auto done = store_->get("video_a");
  EXPECT_EQ(done->state, JobState::kCompleted);
  EXPECT_EQ(done->completions, 1);
  EXPECT_EQ(done->progress, 100);
  EXPECT_EQ(done->completed_at, 300);
  EXPECT_EQ(done->expires_at, 5000);
  EXPECT_DOUBLE_EQ(done->compute_seconds, 12.5);
  EXPECT_DOUBLE_EQ(done->stage_seconds.denoise, 3);
  EXPECT_EQ(store_->update_progress("video_a", 50).code(), StatusCode::kNotFound) << "not running";

  ASSERT_EQ(claim(), "video_b");
  ASSERT_TRUE(store_->fail("video_b", "generation_failed", "boom", 310).is_ok());
  auto failed = store_->get("video_b");
  EXPECT_EQ(failed->state, JobState::kFailed);
  EXPECT_EQ(failed->error_code, "generation_failed");
  EXPECT_EQ(failed->error_message, "boom");
}

TEST_P(JobStoreContractTest, TransitionsOutsideTheDiagramAreRefused) {
  EXPECT_TRUE(check_transition(JobState::kQueued, JobState::kInProgress).is_ok());
  EXPECT_TRUE(check_transition(JobState::kInProgress, JobState::kQueued).is_ok());
  EXPECT_FALSE(check_transition(JobState::kQueued, JobState::kCompleted).is_ok());
  EXPECT_FALSE(check_transition(JobState::kCompleted, JobState::kInProgress).is_ok());
  EXPECT_FALSE(check_transition(JobState::kFailed, JobState::kQueued).is_ok());
}

TEST_P(JobStoreContractTest, TheQueueIsBounded) {
  SubmitOptions bounded;
  bounded.max_queued = 2;
  ASSERT_TRUE(store_->submit(make_job("video_1", "draft", 1), bounded, nullptr));
  ASSERT_TRUE(store_->submit(make_job("video_2", "draft", 1), bounded, nullptr));
  auto full = store_->submit(make_job("video_3", "draft", 1), bounded, nullptr);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code(), StatusCode::kResourceExhausted);
  ASSERT_EQ(claim(), "video_1");
  EXPECT_TRUE(store_->submit(make_job("video_3", "draft", 1), bounded, nullptr)) << "a running job frees its slot";
}

TEST_P(JobStoreContractTest, APerKeyLimitCountsQueuedAndRunningJobsOfThatKeyOnly) {
  SubmitOptions limited;
  limited.max_active_per_key = 2;
  limited.max_queued = 100;
  auto job_of = [](const std::string& id, const std::string& key) {
    JobRecord job = make_job(id, "draft", 1);
    job.api_key_hash = key;
    return job;
  };
  SubmitInfo info;
  ASSERT_TRUE(store_->submit(job_of("video_a1", "alice"), limited, &info));
  ASSERT_TRUE(store_->submit(job_of("video_a2", "alice"), limited, &info));
  ASSERT_EQ(claim(), "video_a1");  // running still counts
  auto refused = store_->submit(job_of("video_a3", "alice"), limited, &info);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(info.refusal, SubmitInfo::Refusal::kPerKeyLimit);
  EXPECT_TRUE(store_->submit(job_of("video_b1", "bob"), limited, &info)) << "another key is not limited";
  EXPECT_EQ(info.refusal, SubmitInfo::Refusal::kNone);
  EXPECT_TRUE(store_->submit(job_of("video_n1", ""), limited, &info)) << "no token is one more key";
  ASSERT_TRUE(store_->complete("video_a1", JobResult{}, 300));
  EXPECT_TRUE(store_->submit(job_of("video_a3", "alice"), limited, &info)) << "a finished job frees the key's slot";
  EXPECT_FALSE(store_->submit(job_of("video_a4", "alice"), limited, &info)) << "alice is at her limit again";
  JobRecord keyed = job_of("video_k1", "bob");
  keyed.idempotency_key = "k";
  ASSERT_TRUE(store_->submit(keyed, limited, &info));  // bob: b1 and k1, at his limit now
  JobRecord bob_replay = job_of("video_k2", "bob");
  bob_replay.idempotency_key = "k";
  auto replayed = store_->submit(bob_replay, limited, &info);
  ASSERT_TRUE(replayed) << "a replay is never refused";
  EXPECT_TRUE(info.existing);
  EXPECT_EQ(replayed->id, "video_k1");
  SubmitOptions bounded;
  bounded.max_queued = 1;
  EXPECT_FALSE(store_->submit(job_of("video_c1", "carol"), bounded, &info));
  EXPECT_EQ(info.refusal, SubmitInfo::Refusal::kQueueFull);
}

TEST_P(JobStoreContractTest, AnIdempotencyKeyReplayReturnsTheFirstJob) {
  JobRecord first = make_job("video_1", "draft", 1);
  first.idempotency_key = "key-1";
  first.api_key_hash = "alice";
  SubmitInfo info;
  info.existing = true;
  ASSERT_TRUE(store_->submit(first, {}, &info));
  EXPECT_FALSE(info.existing);
  JobRecord again = make_job("video_2", "draft", 1);
  again.idempotency_key = "key-1";
  again.api_key_hash = "alice";
  auto replay = store_->submit(again, {}, &info);
  ASSERT_TRUE(replay);
  EXPECT_TRUE(info.existing);
  EXPECT_EQ(replay->id, "video_1");
  EXPECT_EQ(store_->get("video_2").error().code(), StatusCode::kNotFound);
  again.api_key_hash = "bob";  // another caller's key space
  auto other = store_->submit(again, {}, &info);
  ASSERT_TRUE(other);
  EXPECT_FALSE(info.existing);
  EXPECT_EQ(other->id, "video_2");
}

TEST_P(JobStoreContractTest, ListPagesWithACursorInEitherOrder) {
  for (int job_idx = 0; job_idx < 5; ++job_idx) submit(make_job("video_" + std::to_string(job_idx), "draft", 1));
  auto page = store_->list({"", 2, false});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->jobs.size(), 2u);
  EXPECT_EQ(page->jobs[0].id, "video_4");
  EXPECT_EQ(page->jobs[1].id, "video_3");
  EXPECT_TRUE(page->has_more);
  page = store_->list({"video_3", 2, false});
  EXPECT_EQ(page->jobs[0].id, "video_2");
  EXPECT_EQ(page->jobs[1].id, "video_1");
  page = store_->list({"video_1", 2, false});
  ASSERT_EQ(page->jobs.size(), 1u);
  EXPECT_FALSE(page->has_more);
  page = store_->list({"video_2", 10, true});
  ASSERT_EQ(page->jobs.size(), 2u);
  EXPECT_EQ(page->jobs[0].id, "video_3");
  EXPECT_EQ(store_->list({"video_nope", 2, false}).error().code(), StatusCode::kNotFound);
}

TEST_P(JobStoreContractTest, RemoveDeletesInAnyStateAndASecondRemoveIsNotFound) {
  submit(make_job("video_a", "draft", 1));
  ASSERT_EQ(claim(), "video_a");
  ASSERT_TRUE(store_->remove("video_a").is_ok());
  EXPECT_EQ(store_->remove("video_a").code(), StatusCode::kNotFound);
  JobResult result;
  EXPECT_EQ(store_->complete("video_a", result, 1).code(), StatusCode::kNotFound) << "a deleted job never completes";
}

TEST_P(JobStoreContractTest, CommittedStateSurvivesReopenAndInterruptedJobsAreQueuedAgain) {
  submit(make_job("video_a", "draft", 1));
  submit(make_job("video_b", "draft", 1));
  ASSERT_EQ(claim(), "video_a");
  ASSERT_TRUE(store_->update_progress("video_a", 30).is_ok());
  reopen();  // the process died with video_a in progress
  EXPECT_EQ(store_->get("video_a")->state, JobState::kInProgress);
  auto recovered = store_->recover_interrupted();
  ASSERT_TRUE(recovered);
  EXPECT_EQ(*recovered, 1);
  auto job = store_->get("video_a");
  EXPECT_EQ(job->state, JobState::kQueued);
  EXPECT_EQ(job->progress, 0);
  EXPECT_EQ(claim(), "video_a") << "keeps its place at the head of the queue";
  EXPECT_EQ(store_->get("video_a")->attempts, 2);
}

TEST_P(JobStoreContractTest, QueueStatsCountPerTier) {
  submit(make_job("video_a", "draft", 3, 50));
  submit(make_job("video_b", "draft", 3, 60));
  submit(make_job("video_c", "final", 1, 70));
  ASSERT_EQ(claim(), "video_a");
  auto stats = store_->queue_stats();
  ASSERT_TRUE(stats);
  for (const auto& tier : *stats) {
    if (tier.tier == "draft") {
      EXPECT_EQ(tier.queued, 1);
      EXPECT_EQ(tier.running, 1);
      EXPECT_EQ(tier.oldest_created_at, 60);
    } else {
      EXPECT_EQ(tier.tier, "final");
      EXPECT_EQ(tier.queued, 1);
      EXPECT_EQ(tier.oldest_created_at, 70);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, JobStoreContractTest, ::testing::Values("sqlite", "redis"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace frugal::jobs

// The review queue in the job store (SQLite and Redis backends): in_progress → held_for_review → completed | failed,
// durable across a reopen, untouched by restart recovery and by the expiry sweep.
#include <gtest/gtest.h>

#include <filesystem>

#include "jobs/review.h"
#include "jobs/job_store_backends.h"

namespace frugal::jobs {
namespace {

JobRecord make_job(const std::string& id) {
  JobRecord job;
  job.id = id;
  job.tier = "draft";
  job.model = "wan";
  job.prompt = "a cat";
  job.width = job.height = 64;
  job.frames = 9;
  job.steps = 2;
  job.sampler = "unipc";
  job.created_at = 100;
  job.webhook_state = WebhookState::kWaiting;
  return job;
}

class ReviewStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    FRUGAL_SETUP_BACKEND(backend_, GetParam());
    reopen();
  }
  void reopen() {
    store_.reset();
    auto store = backend_.open();
    ASSERT_TRUE(store) << store.error().to_string();
    store_ = std::move(*store);
  }
  // Submits, claims and holds `id` with one flagged check.
  void hold(const std::string& id) {
    ASSERT_TRUE(store_->submit(make_job(id), {}, nullptr));
    auto claimed = store_->claim_next("wan", 200, {});
    ASSERT_TRUE(claimed && claimed->has_value());
    const std::vector<trust::CheckOutcome> outcomes = {{"pdq_hash_list", true, "frame 0 matches 'case-1'"},
                                                       {"classifier", false, "passed"}};
    JobResult result;
    result.cost_usd = 0.02;
    ASSERT_TRUE(store_->hold(id, result, hold_reason_of(outcomes), review_json(outcomes, {0, 8}), 250).is_ok());
  }
  test::BackendStore backend_;
  std::unique_ptr<JobStore> store_;
};

TEST_P(ReviewStoreTest, HeldJobsWaitDurablyAndSurviveRecovery) {
  hold("video_a");
  reopen();
  EXPECT_EQ(*store_->recover_interrupted(), 0);  // held is not in_progress: nothing reruns
  EXPECT_TRUE(store_->expired_jobs(1'000'000'000'000)->empty());
  auto held = store_->held_jobs(10);
  ASSERT_TRUE(held);
  ASSERT_EQ(held->size(), 1u);
  const JobRecord& job = (*held)[0];
  EXPECT_EQ(job.state, JobState::kHeld);
  EXPECT_EQ(job.hold_reason, "pdq_hash_list: frame 0 matches 'case-1'");
  EXPECT_EQ(review_frames(job.review), (std::vector<int64_t>{0, 8}));
  EXPECT_DOUBLE_EQ(job.cost_usd, 0.02);
  EXPECT_EQ(job.completions, 0);
  EXPECT_EQ(job.webhook_state, WebhookState::kWaiting);  // nothing announced while held
  EXPECT_STREQ(api_state_name(job.state), "in_progress");
}

TEST_P(ReviewStoreTest, ApproveCompletesOnceAndRejectFails) {
  hold("video_a");
  hold("video_b");
  const std::string review = review_with_decision(store_->get("video_a")->review, true, "fine", "reviewer-1", 300);
  ASSERT_TRUE(store_->decide_review("video_a", true, "fine", review, 9000, 300).is_ok());
  auto approved = store_->get("video_a");
  EXPECT_EQ(approved->state, JobState::kCompleted);
  EXPECT_EQ(approved->completions, 1);
  EXPECT_EQ(approved->expires_at, 9000);
  EXPECT_EQ(approved->completed_at, 300);
  EXPECT_EQ(approved->webhook_state, WebhookState::kPending);
  EXPECT_NE(approved->review.find("\"reviewer\":\"reviewer-1\""), std::string::npos) << approved->review;
  EXPECT_EQ(store_->decide_review("video_a", false, "late", "{}", 0, 301).code(), StatusCode::kInvalidArgument);

  ASSERT_TRUE(store_->decide_review("video_b", false, "graphic", "{}", 9000, 310).is_ok());
  auto rejected = store_->get("video_b");
  EXPECT_EQ(rejected->state, JobState::kFailed);
  EXPECT_EQ(rejected->error_code, "content_rejected");
  EXPECT_EQ(rejected->error_message, "graphic");
  EXPECT_EQ(rejected->expires_at, 0);
  EXPECT_TRUE(store_->held_jobs(10)->empty());
  EXPECT_EQ(store_->decide_review("video_x", true, "", "{}", 0, 1).code(), StatusCode::kNotFound);
}

TEST_P(ReviewStoreTest, OnlyARunningJobCanBeHeld) {
  ASSERT_TRUE(store_->submit(make_job("video_q"), {}, nullptr));
  EXPECT_FALSE(store_->hold("video_q", {}, "x", "{}", 1).is_ok());
  EXPECT_EQ(store_->hold("video_gone", {}, "x", "{}", 1).code(), StatusCode::kNotFound);
  EXPECT_TRUE(check_transition(JobState::kInProgress, JobState::kHeld).is_ok());
  EXPECT_TRUE(check_transition(JobState::kHeld, JobState::kCompleted).is_ok());
  EXPECT_TRUE(check_transition(JobState::kHeld, JobState::kFailed).is_ok());
  EXPECT_FALSE(check_transition(JobState::kQueued, JobState::kHeld).is_ok());
  EXPECT_FALSE(check_transition(JobState::kHeld, JobState::kQueued).is_ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, ReviewStoreTest, ::testing::Values("sqlite", "redis"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace frugal::jobs

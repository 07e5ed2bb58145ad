// `frugal worker` and stateless API nodes: scale-out of the video service on Redis Streams, end to
// end on loopback (the wan-tiny model and helpers of tests/server/video_test_util.h). An API node
// (`frugal serve --job-store redis://... --no-video-workers`) and `frugal worker` processes sharing
// one redis-server the test starts (append-only file on) and one --video-state folder (the files).
// A worker killed with kill -9 mid-job: another finishes the job after the lease; SIGTERM drains a
// worker (its job finishes, or is released and run by another); Redis killed and restarted mid-run:
// no accepted job lost. Every job ends completed exactly once (its completions counter, read from
// Redis). Every wait is bounded.
#include <gtest/gtest.h>

#include <set>

#include "common/redis_server.h"
#include "server/video_test_util.h"

namespace frugal {
namespace {

using namespace video_test;

class VideoRedis : public VideoServerTest {
 protected:
  void SetUp() override {
    VideoServerTest::SetUp();
    if (IsSkipped()) return;
    FRUGAL_REQUIRE_REDIS_SERVER();
    redis_ = std::make_unique<testing::RedisServer>(::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(redis_->ready()) << redis_->log();
  }
  std::vector<std::string> video_args() const {
    return {"--video-model", "wan=" + wan_tiny_dir(), "--video-tiers", tiers_file(), "--video-state", state_dir_,
            "--job-store",   redis_->url()};
  }
  // A stateless API node; its port.
  int start_api() {
    std::vector<std::string> args = video_args();
    for (const char* arg : {"--no-video-workers", "--host", "127.0.0.1", "--port", "0", "-t", "1"}) args.push_back(arg);
    api_ = ServeProcess::with_exact_args(args);
    const int port = api_->wait_for_port();
    EXPECT_GT(port, 0) << api_->log();
    return port;
  }
  std::unique_ptr<ServeProcess> start_worker(const std::string& name, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = video_args();
    for (const char* arg : {"--job-lease", "1", "-t", "1", "--no-watermark"}) args.push_back(arg);
    args.push_back("--worker-name");
    args.push_back(name);
    args.insert(args.end(), extra.begin(), extra.end());
    auto worker = ServeProcess::command("worker", args);
    EXPECT_TRUE(worker->wait_for_log("worker ready", 60000)) << worker->log();
    return worker;
  }
  std::string submit(int port, const std::string& tier) {
    const HttpResult created = create_video(port, "-F prompt=scale -F tier=" + tier);
    EXPECT_EQ(created.status, 200) << created.body;
    return created.body_json.value("id", "");
  }
  // Polls until the job is in_progress with some progress (bounded).
  bool wait_running(int port, const std::string& id) {
    for (int attempt = 0; attempt < 1200; ++attempt) {  // 60 s
      const json video = http(port, "", "/v1/videos/" + id).body_json;
      if (video.value("status", "") == "in_progress" && video.value("progress", 0.0) > 2) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  std::string job_field(const std::string& id, const std::string& field) {
    std::string value = redis_->cli("HGET frugal:job:" + id + " " + field);
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    return value;
  }
  std::unique_ptr<testing::RedisServer> redis_;
  std::unique_ptr<ServeProcess> api_;
};

TEST_F(VideoRedis, AWorkerKilledMidJobHasItsJobFinishedByAnother_slow) {
  const int port = start_api();
  ASSERT_GT(port, 0);
  auto worker_a = start_worker("worker-a");
  const std::string victim = submit(port, "slow");
  ASSERT_TRUE(wait_running(port, victim)) << worker_a->log();
  std::vector<std::string> drafts;
  for (int job_idx = 0; job_idx < 4; ++job_idx) drafts.push_back(submit(port, "draft"));
  auto worker_b = start_worker("worker-b");
  worker_a->kill_hard();  // mid-job: no release, no acknowledgement
  EXPECT_EQ(job_field(victim, "state"), "in_progress");
  const json finished = wait_until_done(port, victim, std::chrono::seconds(180));
  ASSERT_EQ(finished.value("status", ""), "completed") << finished.dump() << worker_b->log();
  EXPECT_EQ(job_field(victim, "attempts"), "2") << "run again after the lease";
  EXPECT_NE(worker_b->log().find("video job " + victim + " completed"), std::string::npos) << worker_b->log();
  for (const std::string& id : drafts) {
    EXPECT_EQ(wait_until_done(port, id, std::chrono::seconds(120)).value("status", ""), "completed") << id;
  }
  for (const std::string& id : [&] { auto all = drafts; all.push_back(victim); return all; }()) {
    EXPECT_EQ(job_field(id, "completions"), "1") << id << ": zero lost, zero duplicated";
    const HttpResult content = http(port, "", "/v1/videos/" + id + "/content");
    EXPECT_EQ(content.status, 200) << id << " " << content.body.substr(0, 200);
  }
  EXPECT_EQ(redis_->cli("XPENDING frugal:stream:wan:slow workers").substr(0, 1), "0") << "acknowledged";
  EXPECT_EQ(worker_b->terminate_within(30000), 0) << worker_b->log();
}

TEST_F(VideoRedis, SigtermDrainsAWorkerFinishingItsJobOrReleasingIt_slow) {
  const int port = start_api();
  ASSERT_GT(port, 0);
  // Drain with time enough: the running job finishes, then the worker exits 0.
  auto worker_a = start_worker("worker-a");
  const std::string first = submit(port, "draft");
  ASSERT_TRUE(wait_running(port, first)) << worker_a->log();
  EXPECT_EQ(worker_a->terminate_within(60000), 0) << worker_a->log();
  EXPECT_EQ(job_field(first, "state"), "completed") << worker_a->log();
  // Drain with no time: the job is cancelled and released; another worker runs it from the start.
  auto worker_b = start_worker("worker-b", {"--drain-timeout", "0"});
  const std::string second = submit(port, "slow");
  ASSERT_TRUE(wait_running(port, second)) << worker_b->log();
  EXPECT_EQ(worker_b->terminate_within(30000), 0) << worker_b->log();
  EXPECT_NE(worker_b->log().find("released to the queue"), std::string::npos) << worker_b->log();
  EXPECT_EQ(job_field(second, "state"), "queued");
  auto worker_c = start_worker("worker-c");
  const json done = wait_until_done(port, second, std::chrono::seconds(180));
  EXPECT_EQ(done.value("status", ""), "completed") << done.dump() << worker_c->log();
  EXPECT_EQ(job_field(second, "completions"), "1");
  EXPECT_EQ(job_field(second, "lost"), "0") << "a release is not a failed attempt";
  EXPECT_EQ(worker_c->terminate_within(30000), 0) << worker_c->log();
}

TEST_F(VideoRedis, RedisKilledAndRestartedMidRunLosesNoAcceptedJob_slow) {
  const int port = start_api();
  ASSERT_GT(port, 0);
  auto worker = start_worker("worker-a");
  std::vector<std::string> ids;
  for (int job_idx = 0; job_idx < 6; ++job_idx) ids.push_back(submit(port, "draft"));
  ASSERT_TRUE(wait_running(port, ids[0])) << worker->log();
  redis_->kill_hard();
  const HttpResult down = http(port, "", "/v1/videos/" + ids[0]);
  EXPECT_GE(down.status, 500) << down.body;
  EXPECT_TRUE(down.body_json.contains("error")) << down.body;
  ASSERT_TRUE(redis_->restart()) << redis_->log();
  for (const std::string& id : ids) {
    const json done = wait_until_done(port, id, std::chrono::seconds(180));
    EXPECT_EQ(done.value("status", ""), "completed") << id << " " << done.dump() << worker->log();
    EXPECT_EQ(job_field(id, "completions"), "1") << id;
  }
  EXPECT_TRUE(worker->running()) << "the worker rode out the outage: " << worker->log();
  EXPECT_TRUE(api_->running()) << api_->log();
  EXPECT_EQ(worker->terminate_within(30000), 0) << worker->log();
}

TEST_F(VideoRedis, AnUnreachableRedisOrAMissingQueueIsAClearErrorAtStart) {
  const std::string dead_url = "redis://127.0.0.1:" + std::to_string(testing::free_loopback_port());
  const std::string video = " --video-model wan=" + wan_tiny_dir() + " --video-state " + state_dir_;
  const std::pair<std::string, std::string> cases[] = {
      {"serve --port 0 --job-store " + dead_url + video, "unreachable"},
      {"worker --job-store " + dead_url + video, "unreachable"},
      {"serve --port 0 --no-video-workers" + video, "--no-video-workers: nobody would run the jobs"},
      {"worker" + video, "--job-store redis://"},
      {"serve --port 0 --job-store mysql://x" + video, "expected redis://"},
      {"worker --tiers draft,nope --job-store " + redis_->url() + video + " --video-tiers " + tiers_file(),
       "no video tier is named \"nope\""},
  };
  for (const auto& [args, needle] : cases) {
    const auto started = std::chrono::steady_clock::now();
    const auto r = testing::run_command(testing::frugal_binary() + " " + args + " 2>&1");
    EXPECT_NE(r.exit_code, 0) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(needle), std::string::npos) << args << "\n" << r.output;
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30)) << args;
  }
}

}  // namespace
}  // namespace frugal

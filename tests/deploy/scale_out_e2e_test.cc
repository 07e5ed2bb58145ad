// Issue #21's end-to-end test of the scale-out deployment, all on 127.0.0.1: the shipped
// deploy/nginx/frugal.conf (rendered as nginx_test.cc does) in front of two stateless API nodes
// (`frugal serve --job-store redis://... --no-video-workers --object-store s3://...`), two
// `frugal worker` processes, a real redis-server (append-only file on) and s3rver (npm) as the
// S3-compatible bucket. No process shares a folder with another: jobs travel through Redis, files
// through the bucket. 20 jobs over three tiers of the wan-tiny model are submitted through nginx; the
// worker running the first (slow) job is killed with kill -9 mid-job and the other finishes it after
// the 2 s lease; one API node is killed with kill -9 and every later status and content request
// through nginx is still answered (by the other). Zero lost and zero duplicated jobs are asserted
// from Redis (each job completed, completions == 1, nothing pending in the streams) and from the
// bucket (exactly one MP4 per job, the same bytes nginx serves). nginx, redis-server or s3rver
// missing: skipped, or failed under CI=1. Every wait is bounded; every process is killed by RAII.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <map>
#include <regex>
#include <set>

#include "common/redis_server.h"
#include "common/s3rver_process.h"
#include "deploy/nginx_front.h"
#include "server/video_test_util.h"

namespace frugal {
namespace {

using namespace video_test;

constexpr const char* kBucket = "frugal-e2e";

class ScaleOutE2E : public VideoServerTest {
 protected:
  void SetUp() override {
    VideoServerTest::SetUp();
    if (IsSkipped()) return;
    const std::string nginx = testing::find_nginx();
    if (nginx.empty()) {
      if (std::getenv("CI") != nullptr) FAIL() << "nginx is not installed (scripts/install-deps installs it; required in CI)";
      GTEST_SKIP() << "nginx is not installed (apt-get install nginx, or scripts/install-deps)";
    }
    FRUGAL_REQUIRE_REDIS_SERVER();
    FRUGAL_REQUIRE_S3RVER();
    fs::create_directories(state_dir_);
    redis_ = std::make_unique<testing::RedisServer>("scale_out_e2e");
    ASSERT_TRUE(redis_->ready()) << redis_->log();
    setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);  // inherited by the nodes and workers
    setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
    s3rver_ = std::make_unique<testing::S3rverProcess>();
    ASSERT_GT(s3rver_->wait_for_port(), 0) << s3rver_->log();
    const auto made = testing::run_command("curl -s --max-time 20 -o /dev/null -w '%{http_code}' -X PUT " +
                                           s3rver_->endpoint() + "/" + kBucket);
    ASSERT_EQ(made.output, "200") << "create the bucket: " << s3rver_->log();
    for (const char* name : {"api-1", "api-2"}) {
      std::vector<std::string> args = common_args(name);
      for (const char* arg : {"--no-video-workers", "--host", "127.0.0.1", "--port", "0", "-t", "1"}) args.push_back(arg);
      apis_.push_back(ServeProcess::with_exact_args(args));
    }
    for (auto& api : apis_) {
      api_ports_.push_back(api->wait_for_port());
      ASSERT_GT(api_ports_.back(), 0) << api->log();
    }
    for (const char* name : {"worker-1", "worker-2"}) {
      std::vector<std::string> args = common_args(name);
      for (const char* arg : {"--job-lease", "2", "-t", "1", "--no-watermark", "--worker-name"}) args.push_back(arg);
      args.push_back(name);
      workers_.push_back(ServeProcess::command("worker", args));
    }
    for (auto& worker : workers_) ASSERT_TRUE(worker->wait_for_log("worker ready", 60000)) << worker->log();
    nginx_ = std::make_unique<testing::NginxFront>(state_dir_ + "/nginx");
    fs::create_directories(state_dir_ + "/nginx");
    std::string why;
    ASSERT_TRUE(nginx_->start(nginx, api_ports_, &why)) << why;
    port_ = nginx_->port();
  }
  void TearDown() override {
    nginx_.reset();  // the front first, then the nodes, the workers and the engines under them
    apis_.clear();
    workers_.clear();
    s3rver_.reset();
    redis_.reset();
    VideoServerTest::TearDown();
  }

  // The video flags every node and worker gets; each its own --video-state folder (nothing shared).
  std::vector<std::string> common_args(const std::string& name) const {
    return {"--video-model", "wan=" + wan_tiny_dir(), "--video-tiers", three_tiers_file(),
            "--video-state", state_dir_ + "/" + name,  "--job-store",   redis_->url(),
            "--object-store", "s3://" + std::string(kBucket) + "/videos?endpoint=" + s3rver_->endpoint() + "&region=us-east-1"};
  }
  std::string submit(const std::string& tier) {
    const HttpResult created = create_video(port_, "-F prompt='scale out' -F tier=" + tier);
    EXPECT_EQ(created.status, 200) << created.body;
    return created.body_json.value("id", "");
  }
  std::string job_field(const std::string& id, const std::string& field) const {
    std::string value = redis_->cli("HGET frugal:job:" + id + " " + field);
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    return value;
  }
  // The index of the worker whose log says it started job `id` (bounded: 60 s), -1 if none did.
  int worker_running(const std::string& id) {
    for (int attempt = 0; attempt < 1200; ++attempt) {
      for (size_t idx = 0; idx < workers_.size(); ++idx) {
        if (workers_[idx]->log().find("video job " + id + " started") != std::string::npos) return static_cast<int>(idx);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
  }
  // The bucket's keys under `prefix` (s3rver answers anonymous ListObjectsV2; 60 objects fit one page).
  std::vector<std::string> bucket_keys(const std::string& prefix) const {
    const auto listed = testing::run_command("curl -s --max-time 20 '" + s3rver_->endpoint() + "/" + kBucket +
                                             "?list-type=2&max-keys=1000&prefix=" + prefix + "'");
    EXPECT_NE(listed.output.find("<IsTruncated>false</IsTruncated>"), std::string::npos) << listed.output;
    std::vector<std::string> keys;
    const std::regex key(R"(<Key>([^<]+)</Key>)");
    for (auto it = std::sregex_iterator(listed.output.begin(), listed.output.end(), key); it != std::sregex_iterator(); ++it) {
      keys.push_back((*it)[1]);
    }
    return keys;
  }

  std::unique_ptr<testing::RedisServer> redis_;
  std::unique_ptr<testing::S3rverProcess> s3rver_;
  std::vector<std::unique_ptr<ServeProcess>> apis_;
  std::vector<std::unique_ptr<ServeProcess>> workers_;
  std::unique_ptr<testing::NginxFront> nginx_;
  std::vector<int> api_ports_;
  int port_ = 0;
};

TEST_F(ScaleOutE2E, TwentyJobsSurviveAWorkerAndAnApiNodeKilledWithNothingLostOrDuplicated_slow) {
  const auto started = std::chrono::steady_clock::now();
  // The victim: a slow job, killed with its worker mid-run.
  const std::string victim = submit("slow");
  ASSERT_FALSE(victim.empty());
  const int victim_worker = worker_running(victim);
  ASSERT_GE(victim_worker, 0) << workers_[0]->log() << workers_[1]->log();
  ServeProcess& survivor = *workers_[1 - victim_worker];
  bool mid_run = false;
  for (int attempt = 0; attempt < 600 && !mid_run; ++attempt) {  // 30 s: running, with some progress
    mid_run = job_field(victim, "state") == "in_progress" && std::atof(job_field(victim, "progress").c_str()) > 2;
    if (!mid_run) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(mid_run) << job_field(victim, "state") << " " << job_field(victim, "progress");
  workers_[victim_worker]->kill_hard();  // kill -9: no release, no acknowledgement
  EXPECT_EQ(job_field(victim, "state"), "in_progress") << "killed mid-job";
  EXPECT_EQ(workers_[victim_worker]->log().find("video job " + victim + " completed"), std::string::npos);

  // 19 more over the three tiers (20 in all: 11 draft, 6 standard, 3 slow).
  std::vector<std::string> ids = {victim};
  std::map<std::string, std::string> tier_of = {{victim, "slow"}};
  for (int job_idx = 0; job_idx < 19; ++job_idx) {
    const std::string tier = job_idx < 11 ? "draft" : job_idx < 17 ? "standard" : "slow";
    ids.push_back(submit(tier));
    ASSERT_FALSE(ids.back().empty());
    tier_of[ids.back()] = tier;
  }
  ASSERT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 20u);

  // An API node killed with kill -9 while jobs run; from now on every status and content request
  // through nginx must be answered, by the other node.
  apis_[0]->kill_hard();
  int status_requests = 0;
  std::set<std::string> done;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(400);
  while (done.size() < ids.size() && std::chrono::steady_clock::now() < deadline) {
    for (const std::string& id : ids) {
      if (done.count(id)) continue;
      const HttpResult video = http(port_, "", "/v1/videos/" + id);
      ++status_requests;
      ASSERT_EQ(video.status, 200) << id << " " << video.body << "\n" << nginx_->error_log();
      ASSERT_EQ(video.body_json.value("id", ""), id);
      const std::string status = video.body_json.value("status", "");
      ASSERT_NE(status, "failed") << video.body << survivor.log();
      if (status == "completed") done.insert(id);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(done.size(), ids.size()) << "not all jobs completed within 400 s:\n" << survivor.log();
  EXPECT_TRUE(apis_[1]->running()) << apis_[1]->log();
  // nginx's access log: the last answer came from the surviving node.
  const std::string access = nginx_->access_log();
  const size_t last_line = access.rfind('\n', access.size() >= 2 ? access.size() - 2 : 0);
  const json last = json::parse(access.substr(last_line == std::string::npos ? 0 : last_line + 1), nullptr, false);
  const std::string upstream = last.is_object() ? last.value("upstream", "") : "";
  const std::string survivor_node = "127.0.0.1:" + std::to_string(api_ports_[1]);
  EXPECT_EQ(upstream.substr(upstream.size() >= survivor_node.size() ? upstream.size() - survivor_node.size() : 0),
            survivor_node) << access.substr(access.size() > 2000 ? access.size() - 2000 : 0);

  // The victim: run again after the lease, and completed by the surviving worker.
  EXPECT_EQ(job_field(victim, "attempts"), "2") << "run again after the lease";
  EXPECT_NE(survivor.log().find("video job " + victim + " completed"), std::string::npos) << survivor.log();

  // Redis: every accepted job completed exactly once, nothing left pending, nothing dead-lettered.
  for (const std::string& id : ids) {
    EXPECT_EQ(job_field(id, "state"), "completed") << id;
    EXPECT_EQ(job_field(id, "completions"), "1") << id << ": zero lost, zero duplicated";
    EXPECT_EQ(job_field(id, "tier"), tier_of[id]) << id;
  }
  std::set<std::string> jobs_in_redis;  // the job hashes Redis holds: exactly the 20 accepted
  const std::string keys = redis_->cli("--scan --pattern 'frugal:job:video_*'");
  const std::regex job_key(R"(frugal:job:(video_[0-9a-f]+)\n)");
  for (auto it = std::sregex_iterator(keys.begin(), keys.end(), job_key); it != std::sregex_iterator(); ++it) {
    jobs_in_redis.insert((*it)[1]);
  }
  EXPECT_EQ(jobs_in_redis, std::set<std::string>(ids.begin(), ids.end())) << keys;
  for (const char* tier : {"draft", "standard", "slow"}) {
    const std::string pending = redis_->cli(std::string("XPENDING frugal:stream:wan:") + tier + " workers");
    EXPECT_EQ(pending.substr(0, 1), "0") << tier << ": acknowledged\n" << pending;
  }

  // The bucket: exactly one MP4 per job; each served through nginx (by the surviving node) as an
  // MP4, with the bucket's bytes (its presigned download URL).
  std::set<std::string> mp4_keys;
  for (const std::string& key : bucket_keys("videos/")) {
    if (key.size() > 10 && key.compare(key.size() - 10, 10, "/video.mp4") == 0) mp4_keys.insert(key);
  }
  std::set<std::string> expected_keys;
  for (const std::string& id : ids) expected_keys.insert("videos/" + id + "/video.mp4");
  EXPECT_EQ(mp4_keys, expected_keys);
  for (const std::string& id : ids) {
    const HttpResult content = http(port_, "", "/v1/videos/" + id + "/content");
    ASSERT_EQ(content.status, 200) << id << " " << content.body.substr(0, 200);
    ASSERT_GT(content.body.size(), 8u) << id;
    EXPECT_EQ(content.body.substr(4, 4), "ftyp") << id << ": an MP4";
    const HttpResult object = http(port_, "", "/v1/videos/" + id);
    ASSERT_EQ(object.status, 200) << object.body;
    const std::string url = object.body_json.value("frugal_download_url", "");
    ASSERT_EQ(url.rfind(s3rver_->endpoint() + "/" + kBucket + "/videos/" + id + "/video.mp4?", 0), 0u) << url;
    const std::string direct = temp_path("e2e_direct.mp4");
    const auto fetched = testing::run_command("curl -s --max-time 20 -o " + direct + " -w '%{http_code}' '" + url + "'");
    EXPECT_EQ(fetched.output, "200") << id;
    EXPECT_TRUE(testing::read_text_file(direct) == content.body) << id << ": nginx serves the bucket's bytes";
    fs::remove(direct);
  }
  std::printf("[ scale-out e2e ] 20 jobs, %d status requests through nginx after the API node died, %.1f s\n",
              status_requests,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  EXPECT_EQ(survivor.terminate_within(30000), 0) << survivor.log();
}

}  // namespace
}  // namespace frugal

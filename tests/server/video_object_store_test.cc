// `frugal serve --object-store s3://...`: the video service keeps a job's MP4, thumbnail and
// spritesheet in an S3-compatible bucket (s3rver, started by the test on 127.0.0.1) instead of
// <video-state>/files; GET /v1/videos/{id}/content streams the bucket's bytes, and the video object
// carries frugal_download_url, a presigned GET of them that plain curl downloads; DELETE removes them
// from the bucket; a missing bucket, refused credentials or a malformed URL stop the start with a
// clear message before any model loads. Every wait bounded.
#include <gtest/gtest.h>
#include <stdlib.h>

#include "common/s3rver_process.h"
#include "server/video_test_util.h"
#include "storage/s3_store.h"

namespace frugal {
namespace {

using namespace video_test;

class VideoObjectStore : public video_test::VideoServerTest {
 protected:
  void SetUp() override {
    VideoServerTest::SetUp();
    if (IsSkipped()) return;
    FRUGAL_REQUIRE_S3RVER();
    setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
    s3rver_ = std::make_unique<testing::S3rverProcess>();
    ASSERT_GT(s3rver_->wait_for_port(), 0) << s3rver_->log();
    url_ = "s3://frugal-videos/serve-test?endpoint=" + s3rver_->endpoint();
    auto config = storage::parse_s3_url(url_);
    ASSERT_TRUE(config) << config.error().to_string();
    auto bucket = storage::S3ObjectStore::open(std::move(*config), state_dir_ + "_probe_staging");
    ASSERT_TRUE(bucket) << bucket.error().to_string();
    bucket_ = std::move(*bucket);
    ASSERT_TRUE(bucket_->create_bucket().is_ok());
  }
  void TearDown() override {
    fs::remove_all(state_dir_ + "_probe_staging");
    VideoServerTest::TearDown();
  }
  std::unique_ptr<testing::S3rverProcess> s3rver_;
  std::unique_ptr<storage::S3ObjectStore> bucket_;  // the test's own view of the bucket
  std::string url_;
};

TEST_F(VideoObjectStore, ADraftVideoIsStoredInTheBucketAndServedFromIt) {
  auto serve = serve_video(state_dir_, {"--object-store", url_});
  const int port = serve->wait_for_port();
  ASSERT_GT(port, 0) << serve->log();
  EXPECT_NE(serve->log().find("video files in s3://frugal-videos/serve-test"), std::string::npos) << serve->log();
  const HttpResult created = create_video(port, "-F prompt='a red kite over the sea' -F tier=draft");
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string id = created.body_json["id"];
  ASSERT_EQ(wait_until_done(port, id)["status"], "completed") << serve->log();

  const HttpResult content = http(port, "", "/v1/videos/" + id + "/content");
  ASSERT_EQ(content.status, 200) << content.body;
  ASSERT_GT(content.body.size(), 8u);
  EXPECT_EQ(content.body.substr(4, 4), "ftyp") << "an MP4";
  auto in_bucket = bucket_->get(id + "/video.mp4", 0);
  ASSERT_TRUE(in_bucket) << in_bucket.error().to_string();
  EXPECT_TRUE(*in_bucket == content.body) << "the served bytes are the bucket's";
  auto listed = bucket_->list(id + "/");
  ASSERT_TRUE(listed) << listed.error().to_string();
  std::set<std::string> keys;
  for (const auto& object : *listed) keys.insert(object.key);
  EXPECT_TRUE(keys.count(id + "/thumbnail.png") && keys.count(id + "/spritesheet.png")) << keys.size();
  const HttpResult thumbnail = http(port, "", "/v1/videos/" + id + "/content?variant=thumbnail");
  EXPECT_EQ(thumbnail.status, 200);
  EXPECT_EQ(thumbnail.body.substr(1, 3), "PNG");
  EXPECT_FALSE(fs::exists(state_dir_ + "/files/objects/" + id)) << "nothing in the local store";

  // The video object offers a presigned URL of the MP4: plain curl, no credentials, same bytes.
  const HttpResult object = http(port, "", "/v1/videos/" + id);
  ASSERT_TRUE(object.body_json.contains("frugal_download_url")) << object.body;
  const std::string url = object.body_json["frugal_download_url"];
  EXPECT_EQ(url.rfind(s3rver_->endpoint() + "/frugal-videos/serve-test/" + id + "/video.mp4?", 0), 0u) << url;
  EXPECT_NE(url.find("X-Amz-Expires=3600&"), std::string::npos) << url;
  const std::string direct = temp_path("direct.mp4");
  const auto fetched = testing::run_command("curl -s --max-time 20 -o " + direct + " -w '%{http_code}' '" + url + "'");
  EXPECT_EQ(fetched.output, "200");
  EXPECT_TRUE(testing::read_text_file(direct) == content.body) << "the presigned URL serves the same MP4";
  fs::remove(direct);

  EXPECT_EQ(http(port, "-X DELETE", "/v1/videos/" + id).status, 200);
  auto after = bucket_->list(id + "/");
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->empty()) << "DELETE removed the job's objects from the bucket";
  EXPECT_EQ(serve->stop(), 0) << serve->log();
}

TEST_F(VideoObjectStore, ABadStoreStopsTheStartWithAClearMessage) {
  const std::string base = testing::frugal_binary() + " serve --port 0 --video-model " + wan_tiny_dir() +
                           " --video-state " + state_dir_ + " --object-store ";
  const std::pair<std::string, std::string> cases[] = {
      {"'s3://no-such-bucket?endpoint=" + s3rver_->endpoint() + "'", "NoSuchBucket"},
      {"'s3://frugal-videos?endpoint=" + s3rver_->endpoint() + "&colour=blue'", "unknown option \"colour\""},
  };
  for (const auto& [args, needle] : cases) {
    const auto r = testing::run_command(base + args + " 2>&1");
    EXPECT_NE(r.exit_code, 0) << args << "\n" << r.output;
    EXPECT_NE(r.output.find("--object-store"), std::string::npos) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(needle), std::string::npos) << args << "\n" << r.output;
    EXPECT_EQ(r.output.find("listening on"), std::string::npos) << args;
  }
  const auto refused = testing::run_command("AWS_ACCESS_KEY_ID=AKIDWRONG " + base + "'" + url_ + "' 2>&1");
  EXPECT_NE(refused.exit_code, 0) << refused.output;
  EXPECT_NE(refused.output.find("InvalidAccessKeyId"), std::string::npos) << refused.output;
  const auto no_model = testing::run_command(testing::frugal_binary() + " serve --port 0 -m " +
                                             testing::data_path("models/small-q8_0.gguf") + " --object-store '" + url_ +
                                             "' 2>&1");
  EXPECT_NE(no_model.exit_code, 0);
  EXPECT_NE(no_model.output.find("--object-store keeps video files: it needs --video-model"), std::string::npos)
      << no_model.output;
}

}  // namespace
}  // namespace frugal

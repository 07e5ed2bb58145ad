// S3ObjectStore against a real S3-compatible server (s3rver, started on 127.0.0.1 by the suite):
// put/get of a small file and of a multipart one (3 parts), replace, exists, expiry metadata
// honoured by get/exists and by sweep_expired, remove_prefix, a presigned URL downloaded with curl,
// and the typed errors: a missing bucket (kNotFound, NoSuchBucket), refused credentials
// (InvalidAccessKeyId in the message), a closed port (kUnavailable), all bounded in time.
#include "storage/s3_store.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>

#include "common/s3rver_process.h"
#include "common/subprocess.h"
#include "common/test_data.h"

namespace frugal::storage {
namespace {

namespace fs = std::filesystem;
using testing::S3rverProcess;

class S3StoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!testing::s3rver_missing().empty()) return;
    server_ = new S3rverProcess();
    port_ = server_->wait_for_port();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    FRUGAL_REQUIRE_S3RVER();
    ASSERT_GT(port_, 0) << "s3rver did not start:\n" << server_->log();
    setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
    staging_ = ::testing::TempDir() + "frugal_s3_staging_" + std::to_string(getpid());
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    store_ = open_store("s3://frugal-test/" + name + "?endpoint=" + server_->endpoint() + "&part_size_mib=5");
    ASSERT_TRUE(store_);
    const Status created = store_->create_bucket();  // the second time: already ours, not an error
    ASSERT_TRUE(created.is_ok()) << created.to_string();
    ASSERT_TRUE(store_->check_bucket().is_ok());
  }
  void TearDown() override { fs::remove_all(staging_); }
  std::unique_ptr<S3ObjectStore> open_store(const std::string& url) {
    auto config = parse_s3_url(url);
    EXPECT_TRUE(config) << config.error().to_string();
    if (!config) return nullptr;
    auto store = S3ObjectStore::open(std::move(*config), staging_);
    EXPECT_TRUE(store) << store.error().to_string();
    return store ? std::move(*store) : nullptr;
  }
  std::string stage(const std::string& name, const std::string& bytes) {
    const std::string path = staging_ + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  static std::string pattern(size_t size) {  // bytes that differ per position: a misplaced part shows
    std::string bytes(size, '\0');
    for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 2654435761u) >> 13);
    return bytes;
  }
  static inline S3rverProcess* server_ = nullptr;
  static inline int port_ = 0;
  std::string staging_;
  std::unique_ptr<S3ObjectStore> store_;
};

TEST_F(S3StoreTest, PutGetExistsAndReplace) {
  const std::string staged = stage("a.bin", std::string("abc\0def", 7));
  ASSERT_TRUE(store_->put_file("video_1/video.mp4", staged, 0).is_ok());
  EXPECT_FALSE(fs::exists(staged)) << "put_file moves the staged file in";
  auto bytes = store_->get("video_1/video.mp4", 100);
  ASSERT_TRUE(bytes) << bytes.error().to_string();
  EXPECT_EQ(*bytes, std::string("abc\0def", 7));
  EXPECT_TRUE(store_->exists("video_1/video.mp4", 100));
  EXPECT_FALSE(store_->exists("video_1/other.mp4", 100));
  auto missing = store_->get("video_1/other.mp4", 100);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->put_file("video_1/video.mp4", stage("b.bin", "new"), 0).is_ok());
  EXPECT_EQ(*store_->get("video_1/video.mp4", 100), "new");
  EXPECT_EQ(store_->put_file("../x", stage("c.bin", "x"), 0).code(), StatusCode::kInvalidArgument);
}

TEST_F(S3StoreTest, LargeFileGoesUpInPartsAndComesBackWhole) {
  const std::string bytes = pattern((11 << 20) + 12345);  // 5 MiB + 5 MiB + the rest: 3 parts
  ASSERT_TRUE(store_->put_file("video_2/video.mp4", stage("big.bin", bytes), 0).is_ok());
  auto back = store_->get("video_2/video.mp4", 0);
  ASSERT_TRUE(back) << back.error().to_string();
  ASSERT_EQ(back->size(), bytes.size());
  EXPECT_TRUE(*back == bytes) << "the parts came back out of order or changed";
  auto listed = store_->list("video_2/");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u) << "no leftover part objects";
  EXPECT_EQ((*listed)[0].key, "video_2/video.mp4");
}

TEST_F(S3StoreTest, ExpiryIsHonouredByGetExistsAndSweep) {
  ASSERT_TRUE(store_->put_file("j/a", stage("a", "A"), /*expires_at=*/1000).is_ok());
  ASSERT_TRUE(store_->put_file("j/b", stage("b", "B"), /*expires_at=*/0).is_ok());
  ASSERT_TRUE(store_->put_file("j/c", stage("c", "C"), /*expires_at=*/5000).is_ok());
  EXPECT_TRUE(store_->get("j/a", 999));
  EXPECT_TRUE(store_->exists("j/a", 999));
  auto expired = store_->get("j/a", 1000);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code(), StatusCode::kNotFound);
  EXPECT_FALSE(store_->exists("j/a", 1000));
  EXPECT_EQ(store_->sweep_expired(999), 0);
  EXPECT_EQ(store_->sweep_expired(1000), 1);
  auto listed = store_->list("j/");
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), 2u) << "only j/a was deleted";
  EXPECT_EQ(store_->sweep_expired(5000), 1) << "j/c, its expiry from the cache or a HEAD";
  EXPECT_TRUE(store_->get("j/b", 1LL << 40)) << "no expiry: kept";
}

TEST_F(S3StoreTest, RemovePrefixDeletesOneJobsObjectsOnly) {
  ASSERT_TRUE(store_->put_file("video_9/video.mp4", stage("v", "V"), 50).is_ok());
  ASSERT_TRUE(store_->put_file("video_9/thumbnail.png", stage("t", "T"), 50).is_ok());
  ASSERT_TRUE(store_->put_file("video_90/video.mp4", stage("w", "W"), 50).is_ok());
  ASSERT_TRUE(store_->remove_prefix("video_9").is_ok());
  EXPECT_FALSE(store_->exists("video_9/video.mp4", 0));
  EXPECT_FALSE(store_->exists("video_9/thumbnail.png", 0));
  EXPECT_TRUE(store_->exists("video_90/video.mp4", 0)) << "path semantics, as the local store's folders";
  EXPECT_TRUE(store_->remove_prefix("video_9").is_ok()) << "absent is not an error";
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(store_->put_file("many/" + std::to_string(i), stage("m", "M"), 0).is_ok());
  auto paged = store_->list("many/", /*page_size=*/3);  // 2 pages: a continuation token is followed
  ASSERT_TRUE(paged) << paged.error().to_string();
  EXPECT_EQ(paged->size(), 4u);
  ASSERT_TRUE(store_->remove_prefix("many").is_ok());
  auto none = store_->list("many/");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(store_->remove_prefix("a/../b").code(), StatusCode::kInvalidArgument);
}

TEST_F(S3StoreTest, PresignedUrlDownloadsWithPlainCurl) {
  ASSERT_TRUE(store_->put_file("video_3/video.mp4", stage("p", "presigned bytes"), 0).is_ok());
  auto url = store_->presigned_get_url("video_3/video.mp4", 600, std::time(nullptr));
  ASSERT_TRUE(url) << url.error().to_string();
  EXPECT_NE(url->find("/frugal-test/PresignedUrlDownloadsWithPlainCurl/video_3/video.mp4?"), std::string::npos) << *url;
  EXPECT_NE(url->find("X-Amz-Signature="), std::string::npos);
  const auto download = testing::run_command("curl -s --max-time 20 -w '\n%{http_code}' '" + *url + "'");
  EXPECT_EQ(download.output, "presigned bytes\n200");
  EXPECT_EQ(store_->presigned_get_url("video_3/video.mp4", 0, 0).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->presigned_get_url("video_3/video.mp4", 8 * 86400, 0).error().code(), StatusCode::kInvalidArgument);
}

TEST_F(S3StoreTest, MissingBucketAndRefusedCredentialsAreTypedErrors) {
  auto no_bucket = open_store("s3://no-such-bucket?endpoint=" + server_->endpoint());
  ASSERT_TRUE(no_bucket);
  const Status missing = no_bucket->check_bucket();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("NoSuchBucket"), std::string::npos) << missing.to_string();
  EXPECT_EQ(no_bucket->put_file("k", stage("k", "K"), 0).code(), StatusCode::kNotFound);

  setenv("AWS_ACCESS_KEY_ID", "AKIDWRONG", 1);
  auto wrong_key = open_store("s3://frugal-test?endpoint=" + server_->endpoint());
  ASSERT_TRUE(wrong_key);
  const Status refused = wrong_key->check_bucket();
  EXPECT_EQ(refused.code(), StatusCode::kInternal);
  EXPECT_NE(refused.message().find("HTTP 403 InvalidAccessKeyId"), std::string::npos) << refused.to_string();
  auto get = wrong_key->get("video_1/video.mp4", 0);
  ASSERT_FALSE(get);
  EXPECT_NE(get.error().message().find("denied permission"), std::string::npos) << get.error().to_string();
  EXPECT_FALSE(wrong_key->exists("video_1/video.mp4", 0));
}

TEST_F(S3StoreTest, ClosedPortIsUnavailableQuickly) {
  // A port that was just free: bound to find it, closed, so nothing listens there.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const int port = ntohs(address.sin_port);
  close(fd);
  auto closed = open_store("s3://frugal-test?endpoint=http://127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(closed);
  const auto start = std::chrono::steady_clock::now();
  const Status status = closed->check_bucket();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.to_string();
  EXPECT_FALSE(closed->exists("k", 0));
  auto sweep = closed->sweep_expired(1LL << 40);
  EXPECT_EQ(sweep, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20)) << "bounded retries";
}

}  // namespace
}  // namespace frugal::storage

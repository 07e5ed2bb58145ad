// S3ObjectStore when the server misbehaves, against a scripted S3 stand-in (httplib on 127.0.0.1)
// that s3rver cannot play: a part refused mid-upload (AbortMultipartUpload sent, the staged file
// kept, S3's code in the error), a CompleteMultipartUpload that answers 200 with an <Error> body
// (aborted, kUnavailable), 503 SlowDown retried a bounded 3 times then kUnavailable, garbage in place
// of XML (a clear error, no crash), and every request's x-amz-content-sha256 equal to its body's
// SHA-256 with a Credential scope of the configured region.
#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "storage/s3_store.h"
#include "storage/sigv4.h"

namespace frugal::storage {
namespace {

namespace fs = std::filesystem;

struct SeenRequest {
  std::string method, path, query, authorization;
  bool payload_hash_ok = false;
};

// An S3 stand-in: `handler` answers each request; every request is recorded.
class ScriptedS3 {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  explicit ScriptedS3(Handler handler) : handler_(std::move(handler)) {
    auto record = [this](const httplib::Request& req, httplib::Response& res) {
      std::string query;
      for (const auto& [name, value] : req.params) query += name + "=" + value + "&";
      SeenRequest seen{req.method, req.path, query, req.get_header_value("Authorization"),
                       req.get_header_value("x-amz-content-sha256") == sigv4::sha256_hex(req.body)};
      {
        std::lock_guard<std::mutex> lock(mutex_);
        seen_.push_back(seen);
      }
      handler_(req, res);
    };
    server_.Get(".*", record);
    server_.Put(".*", record);
    server_.Post(".*", record);
    server_.Delete(".*", record);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int attempt = 0; attempt < 500 && !server_.is_running(); ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  ~ScriptedS3() {
    server_.stop();
    thread_.join();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<SeenRequest> seen() {
    std::lock_guard<std::mutex> lock(mutex_);
    return seen_;
  }

 private:
  Handler handler_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  std::vector<SeenRequest> seen_;
};

class S3FailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("AWS_ACCESS_KEY_ID", "AKIDTEST", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    staging_ = ::testing::TempDir() + "frugal_s3_failure_" + std::to_string(getpid());
  }
  void TearDown() override { fs::remove_all(staging_); }
  std::unique_ptr<S3ObjectStore> open_store(const ScriptedS3& server) {
    auto config = parse_s3_url("s3://bkt?region=eu-north-1&part_size_mib=5&endpoint=" + server.endpoint());
    EXPECT_TRUE(config) << config.error().to_string();
    auto store = S3ObjectStore::open(std::move(*config), staging_);
    EXPECT_TRUE(store);
    return std::move(*store);
  }
  std::string stage(size_t size) {
    const std::string path = staging_ + "/big.bin";
    std::ofstream(path, std::ios::binary) << std::string(size, 'x');
    return path;
  }
  std::string staging_;
};

constexpr size_t kTwoParts = (6 << 20);  // 5 MiB + 1 MiB with part_size_mib=5

void answer_create(httplib::Response& res) {
  res.set_content("<InitiateMultipartUploadResult><UploadId>U1</UploadId></InitiateMultipartUploadResult>",
                  "application/xml");
}

TEST_F(S3FailureTest, APartRefusedMidUploadAbortsTheUploadAndKeepsTheFile) {
  ScriptedS3 server([](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "POST" && req.has_param("uploads")) return answer_create(res);
    if (req.method == "PUT" && req.get_param_value("partNumber") == "1") return res.set_header("ETag", "\"e1\"");
    if (req.method == "PUT") {
      res.status = 403;
      return res.set_content("<Error><Code>AccessDenied</Code><Message>no more parts</Message></Error>", "application/xml");
    }
    res.status = 204;  // the abort
  });
  auto store = open_store(server);
  const std::string staged = stage(kTwoParts);
  const Status status = store->put_file("video_1/video.mp4", staged, 0);
  EXPECT_EQ(status.code(), StatusCode::kInternal) << status.to_string();
  EXPECT_NE(status.message().find("HTTP 403 AccessDenied: no more parts"), std::string::npos) << status.to_string();
  EXPECT_TRUE(fs::exists(staged)) << "a failed upload leaves the staged file for the caller";
  const auto seen = server.seen();
  ASSERT_EQ(seen.size(), 4u);  // create, part 1, part 2 (refused: no retry of a 4xx), abort
  EXPECT_EQ(seen[3].method, "DELETE");
  EXPECT_EQ(seen[3].path, "/bkt/video_1/video.mp4");
  EXPECT_EQ(seen[3].query, "uploadId=U1&");
  for (const SeenRequest& request : seen) {
    EXPECT_TRUE(request.payload_hash_ok) << request.method << " " << request.path;
    EXPECT_NE(request.authorization.find("Credential=AKIDTEST/"), std::string::npos);
    EXPECT_NE(request.authorization.find("/eu-north-1/s3/aws4_request,"), std::string::npos) << request.authorization;
  }
}

TEST_F(S3FailureTest, ACompleteThatFailsAfter200IsAbortedAndUnavailable) {
  ScriptedS3 server([](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "POST" && req.has_param("uploads")) return answer_create(res);
    if (req.method == "PUT") return res.set_header("ETag", "\"e" + req.get_param_value("partNumber") + "\"");
    if (req.method == "POST") {
      if (req.body.find("<PartNumber>2</PartNumber><ETag>&quot;e2&quot;</ETag>") == std::string::npos) {
        res.status = 400;
        return res.set_content("<Error><Code>InvalidPart</Code></Error>", "application/xml");
      }
      return res.set_content("<Error><Code>InternalError</Code><Message>try again</Message></Error>", "application/xml");
    }
    res.status = 204;
  });
  auto store = open_store(server);
  const Status status = store->put_file("k/big", stage(kTwoParts), 0);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.to_string();
  EXPECT_NE(status.message().find("InternalError"), std::string::npos) << status.to_string();
  const auto seen = server.seen();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().method, "DELETE") << "aborted";
}

TEST_F(S3FailureTest, SlowDownIsRetriedThreeTimesThenUnavailable) {
  ScriptedS3 server([](const httplib::Request&, httplib::Response& res) {
    res.status = 503;
    res.set_content("<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
                    "application/xml");
  });
  auto store = open_store(server);
  auto got = store->get("k/a", 0);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(got.error().message().find("HTTP 503 SlowDown"), std::string::npos) << got.error().to_string();
  EXPECT_EQ(server.seen().size(), 3u);
}

TEST_F(S3FailureTest, GarbageInsteadOfXmlIsAClearErrorNotACrash) {
  ScriptedS3 server([](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "DELETE") return void(res.status = 204);
    res.status = req.method == "GET" ? 200 : (req.method == "POST" ? 200 : 418);
    res.set_content(std::string("<Upload<Id>>\0\xff<Contents><Key>", 30) + "<IsTruncated>true</IsTruncated>", "text/plain");
  });
  auto store = open_store(server);
  const Status put = store->put_file("k/big", stage(kTwoParts), 0);
  EXPECT_EQ(put.code(), StatusCode::kUnavailable);
  EXPECT_NE(put.message().find("no UploadId"), std::string::npos) << put.to_string();
  auto listed = store->list("");
  ASSERT_FALSE(listed) << "truncated without a continuation token";
  EXPECT_NE(listed.error().message().find("continuation token"), std::string::npos);
  EXPECT_EQ(store->sweep_expired(1), 0);
  const Status removed = store->remove_prefix("k");
  EXPECT_FALSE(removed.is_ok());
}

}  // namespace
}  // namespace frugal::storage

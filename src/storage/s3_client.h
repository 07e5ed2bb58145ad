// S3Client: one signed HTTP request to an S3-compatible server over libcurl (storage layer).
// Builds the URL (path-style http://host/BUCKET/KEY or virtual-hosted https://BUCKET.host/KEY),
// signs it with SigV4 (signed payload: x-amz-content-sha256 is the body's SHA-256), sends it with
// bounded timeouts, and retries (bounded: 3 tries) when the network fails or S3 answers 5xx.
// Answers of any HTTP status come back as S3Response; only a request that never got an answer is
// an error (kUnavailable). s3_error_status() turns a non-2xx answer into a typed Status.
// Threading contract: const and stateless per call (one curl handle per request): any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/expected.h"
#include "storage/s3_config.h"
#include "storage/sigv4.h"

namespace frugal::storage {

struct S3Response {
  long http_status = 0;
  std::map<std::string, std::string> headers;  // names lowercased ("etag", "x-amz-meta-expires-at")
  std::string body;
  // "" when absent.
  std::string header(const std::string& lowercase_name) const;
};

struct S3Call {
  std::string method;     // GET, HEAD, PUT, POST, DELETE
  std::string key;        // the object's full key in the bucket; "" for the bucket itself
  sigv4::Params query;    // unencoded; encoded and signed here
  sigv4::Params headers;  // extra headers, all signed (x-amz-meta-*, content-type, ...)
  std::string body;       // sent for PUT and POST
};

class S3Client {
 public:
  explicit S3Client(S3Config config);

  // Sends `call` (see the class comment). kUnavailable when no answer came after the retries.
  Expected<S3Response> send(const S3Call& call) const;

  // A URL anyone may GET `key` with until `now + ttl_seconds` (SigV4 query-string form).
  std::string presigned_get_url(const std::string& key, int64_t ttl_seconds, int64_t now) const;

  const S3Config& config() const { return config_; }

 private:
  std::string host() const;                          // the Host header: "BUCKET.host" or "host"
  std::string path_of(const std::string& key) const;  // "/BUCKET/KEY" or "/KEY", unencoded
  Expected<S3Response> send_once(const S3Call& call, int64_t now) const;
  S3Config config_;
};

// The Status of a non-2xx answer to `what` ("PUT video_1/video.mp4"), with S3's XML error code
// and message when the body has them: 404 → kNotFound; 401/403 → kInternal ("S3 denied
// permission": the server's credentials or bucket policy are wrong, not the caller's request);
// 5xx and 429 → kUnavailable (retry later); any other 4xx → kInvalidArgument.
Status s3_error_status(const S3Response& response, const std::string& what);

}  // namespace frugal::storage

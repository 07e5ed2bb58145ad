// S3ObjectStore: the ObjectStore in an S3-compatible bucket (storage layer), for API nodes and
// workers on several machines sharing one store (issue #21's scale-out).
// Layout: object KEY is "<prefix>/KEY" in the bucket; its expiry (unix seconds) is the object's
// metadata x-amz-meta-expires-at, written with the object in the same request, so both appear
// together. get/exists treat an object past its expiry as absent (kNotFound) even before
// sweep_expired deletes it; a bucket lifecycle rule may be added by the operator as a backstop.
// put_file: one PUT up to the part size, else a multipart upload (CreateMultipartUpload, UploadPart
// per part, CompleteMultipartUpload; AbortMultipartUpload when any step fails), so the object
// appears whole or not at all. Errors: s3_error_status() (404 → kNotFound, 403 → kInternal naming
// S3's error code, network or 5xx → kUnavailable).
// Threading contract: every method is safe from any thread (S3Client is per-call; the expiry cache
// has its own mutex).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "storage/object_store.h"
#include "storage/s3_client.h"
#include "storage/s3_config.h"

namespace frugal::storage {

struct S3ListedObject {
  std::string key;   // relative to the store's prefix ("video_1/video.mp4")
  std::string etag;  // changes whenever the object is replaced
};

class S3ObjectStore final : public ObjectStore {
 public:
  // `staging_dir`: the local folder producers write to before put_file (created when missing).
  // Sends nothing: check_bucket() is the first request.
  static Expected<std::unique_ptr<S3ObjectStore>> open(S3Config config, const std::string& staging_dir);

  // One cheap listing (ListObjectsV2, max-keys=1): a missing bucket, a wrong endpoint or refused
  // credentials fail here with S3's error code in the message, before any job runs.
  Status check_bucket() const;
  // Creates the bucket (tests, first deployments); an existing bucket of ours is not an error.
  Status create_bucket() const;

  Status put_file(const std::string& key, const std::string& source_path, int64_t expires_at) override;
  Expected<std::string> get(const std::string& key, int64_t now) const override;
  bool exists(const std::string& key, int64_t now) const override;
  Status remove_prefix(const std::string& prefix) override;
  int64_t sweep_expired(int64_t now) override;
  std::string staging_dir() const override { return staging_dir_; }
  Expected<std::string> download_url(const std::string& key, int64_t ttl_seconds, int64_t now) const override {
    return presigned_get_url(key, ttl_seconds, now);
  }

  // A URL a client may GET `key` from without credentials until `now + ttl_seconds` (1 s .. 7 days).
  Expected<std::string> presigned_get_url(const std::string& key, int64_t ttl_seconds, int64_t now) const;
  // Every object under `key_prefix` ("" = the whole store), `page_size` (1..1000) per request,
  // following continuation tokens.
  Expected<std::vector<S3ListedObject>> list(const std::string& key_prefix, int page_size = 1000) const;

  const S3Config& config() const { return client_.config(); }

 private:
  S3ObjectStore(S3Config config, std::string staging_dir) : client_(std::move(config)), staging_dir_(std::move(staging_dir)) {}
  std::string full_key(const std::string& key) const;
  // x-amz-meta-expires-at and content-type of a new object.
  sigv4::Params object_headers(const std::string& key, int64_t expires_at) const;
  Status put_single(const std::string& full, const std::string& source_path, int64_t size, const sigv4::Params& headers);
  Status put_multipart(const std::string& full, const std::string& source_path, int64_t size, const sigv4::Params& headers);
  Status upload_parts(const std::string& full, const std::string& source_path, int64_t size, const std::string& upload_id,
                      std::vector<std::string>* etags);
  // The object's expiry (0: none); from the cache when `etag` matches, else one HEAD.
  Expected<int64_t> expiry_of(const S3ListedObject& object);

  S3Client client_;
  std::string staging_dir_;
  std::mutex cache_mutex_;
  std::map<std::string, std::pair<std::string, int64_t>> expiry_cache_;  // key → (etag, expires_at)
};

}  // namespace frugal::storage

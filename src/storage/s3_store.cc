#include "storage/s3_store.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "storage/s3_xml.h"

namespace frugal::storage {
namespace fs = std::filesystem;

namespace {

constexpr const char* kExpiresHeader = "x-amz-meta-expires-at";
constexpr int64_t kMaxParts = 10000;            // S3's limit on parts of one upload
constexpr int64_t kMaxPresignSeconds = 604800;  // SigV4 presigned URLs live at most 7 days

std::string content_type_of(const std::string& key) {
  const std::string extension = fs::path(key).extension().string();
  if (extension == ".mp4") return "video/mp4";
  if (extension == ".png") return "image/png";
  if (extension == ".jpg" || extension == ".jpeg") return "image/jpeg";
  if (extension == ".json") return "application/json";
  return "application/octet-stream";
}

// 0 when the header is absent or not a positive number.
int64_t parse_expiry(const std::string& value) {
  if (value.empty()) return 0;
  char* end = nullptr;
  const long long parsed = std::strtoll(value.c_str(), &end, 10);
  return (*end == '\0' && parsed > 0) ? static_cast<int64_t>(parsed) : 0;
}

bool expired(int64_t expires_at, int64_t now) { return expires_at > 0 && now >= expires_at; }

// `length` bytes of `path` from `offset`; kUnavailable when the file is shorter or unreadable.
Expected<std::string> read_range(const std::string& path, int64_t offset, int64_t length) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return unavailable("cannot open " + path);
  file.seekg(offset);
  std::string bytes(static_cast<size_t>(length), '\0');
  file.read(bytes.data(), length);
  if (file.gcount() != length) return unavailable("cannot read " + std::to_string(length) + " bytes of " + path);
  return bytes;
}

}  // namespace

Expected<std::unique_ptr<S3ObjectStore>> S3ObjectStore::open(S3Config config, const std::string& staging_dir) {
  std::error_code ec;
  fs::create_directories(staging_dir, ec);
  if (ec) return unavailable("cannot create the staging folder " + staging_dir + ": " + ec.message());
  if (config.part_size_bytes < kS3MinPartBytes) {
    return invalid_argument("S3 part size must be at least 5 MiB, not " + std::to_string(config.part_size_bytes) + " bytes");
  }
  return std::unique_ptr<S3ObjectStore>(new S3ObjectStore(std::move(config), staging_dir));
}

std::string S3ObjectStore::full_key(const std::string& key) const {
  return config().prefix.empty() ? key : config().prefix + "/" + key;
}

Status S3ObjectStore::check_bucket() const {
  auto response = client_.send({"GET", "", {{"list-type", "2"}, {"max-keys", "1"}}, {}, ""});
  if (!response) return response.error();
  if (response->http_status / 100 != 2) return s3_error_status(*response, "bucket " + config().bucket);
  return Status::ok();
}

Status S3ObjectStore::create_bucket() const {
  auto response = client_.send({"PUT", "", {}, {}, ""});
  if (!response) return response.error();
  if (response->http_status / 100 == 2) return Status::ok();
  const std::string code = s3xml::first_text(response->body, "Code");
  if (code == "BucketAlreadyOwnedByYou") return Status::ok();
  if (code == "BucketAlreadyExists" && check_bucket()) return Status::ok();  // some servers say so to the owner too
  return s3_error_status(*response, "create bucket " + config().bucket);
}

sigv4::Params S3ObjectStore::object_headers(const std::string& key, int64_t expires_at) const {
  sigv4::Params headers = {{"content-type", content_type_of(key)}};
  if (expires_at > 0) headers.emplace_back(kExpiresHeader, std::to_string(expires_at));
  return headers;
}

Status S3ObjectStore::put_file(const std::string& key, const std::string& source_path, int64_t expires_at) {
  if (!is_valid_object_key(key)) return invalid_argument("invalid object key \"" + key + "\"");
  std::error_code ec;
  const auto size = fs::file_size(source_path, ec);
  if (ec) return unavailable("cannot store " + key + ": " + source_path + ": " + ec.message());
  const std::string full = full_key(key);
  const sigv4::Params headers = object_headers(key, expires_at);
  const int64_t size_bytes = static_cast<int64_t>(size);
  Status stored = size_bytes <= config().part_size_bytes ? put_single(full, source_path, size_bytes, headers)
                                                          : put_multipart(full, source_path, size_bytes, headers);
  if (!stored) return stored;
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    expiry_cache_.erase(key);  // the ETag changed; the next sweep asks again
  }
  fs::remove(source_path, ec);  // moved in, as the local store's rename does
  return Status::ok();
}

Status S3ObjectStore::put_single(const std::string& full, const std::string& source_path, int64_t size,
                                 const sigv4::Params& headers) {
  auto bytes = read_range(source_path, 0, size);
  if (!bytes) return bytes.error();
  auto response = client_.send({"PUT", full, {}, headers, std::move(*bytes)});
  if (!response) return response.error();
  if (response->http_status / 100 != 2) return s3_error_status(*response, "PUT " + full);
  return Status::ok();
}

Status S3ObjectStore::put_multipart(const std::string& full, const std::string& source_path, int64_t size,
                                    const sigv4::Params& headers) {
  const int64_t part_size = config().part_size_bytes;
  if ((size + part_size - 1) / part_size > kMaxParts) {
    return invalid_argument("cannot store " + full + ": " + std::to_string(size) + " bytes need more than 10000 parts of " +
                            std::to_string(part_size) + " bytes; raise part_size_mib");
  }
  auto created = client_.send({"POST", full, {{"uploads", ""}}, headers, ""});
  if (!created) return created.error();
  if (created->http_status / 100 != 2) return s3_error_status(*created, "CreateMultipartUpload " + full);
  const std::string upload_id = s3xml::first_text(created->body, "UploadId");
  if (upload_id.empty()) return unavailable("S3 CreateMultipartUpload " + full + ": the answer has no UploadId");

  std::vector<std::string> etags;
  Status result = upload_parts(full, source_path, size, upload_id, &etags);
  if (result) {
    std::string body = "<CompleteMultipartUpload>";
    for (size_t i = 0; i < etags.size(); ++i) {
      body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + s3xml::escape(etags[i]) +
              "</ETag></Part>";
    }
    body += "</CompleteMultipartUpload>";
    auto completed = client_.send({"POST", full, {{"uploadId", upload_id}}, {{"content-type", "application/xml"}}, body});
    if (!completed) {
      result = completed.error();
    } else if (completed->http_status / 100 != 2) {
      result = s3_error_status(*completed, "CompleteMultipartUpload " + full);
    } else if (completed->body.find("<Error>") != std::string::npos) {  // S3 may fail after answering 200
      S3Response failed = *completed;
      failed.http_status = 500;
      result = s3_error_status(failed, "CompleteMultipartUpload " + full);
    }
  }
  if (!result) (void)client_.send({"DELETE", full, {{"uploadId", upload_id}}, {}, ""});  // abort: frees the parts
  return result;
}

Status S3ObjectStore::upload_parts(const std::string& full, const std::string& source_path, int64_t size,
                                   const std::string& upload_id, std::vector<std::string>* etags) {
  const int64_t part_size = config().part_size_bytes;
  for (int64_t offset = 0, part = 1; offset < size; offset += part_size, ++part) {
    auto bytes = read_range(source_path, offset, std::min(part_size, size - offset));
    if (!bytes) return bytes.error();
    auto response = client_.send(
        {"PUT", full, {{"partNumber", std::to_string(part)}, {"uploadId", upload_id}}, {}, std::move(*bytes)});
    if (!response) return response.error();
    const std::string what = "UploadPart " + std::to_string(part) + " of " + full;
    if (response->http_status / 100 != 2) return s3_error_status(*response, what);
    const std::string etag = response->header("etag");
    if (etag.empty()) return unavailable("S3 " + what + ": the answer has no ETag");
    etags->push_back(etag);
  }
  return Status::ok();
}

Expected<std::string> S3ObjectStore::get(const std::string& key, int64_t now) const {
  if (!is_valid_object_key(key)) return not_found("no stored object " + key + " (invalid key)");
  auto response = client_.send({"GET", full_key(key), {}, {}, ""});
  if (!response) return response.error();
  if (response->http_status / 100 != 2) return s3_error_status(*response, "GET " + full_key(key));
  if (expired(parse_expiry(response->header(kExpiresHeader)), now)) {
    return not_found("no stored object " + key + " (expired)");
  }
  return std::move(response->body);
}

bool S3ObjectStore::exists(const std::string& key, int64_t now) const {
  if (!is_valid_object_key(key)) return false;
  auto response = client_.send({"HEAD", full_key(key), {}, {}, ""});
  if (!response || response->http_status / 100 != 2) return false;
  return !expired(parse_expiry(response->header(kExpiresHeader)), now);
}

Expected<std::vector<S3ListedObject>> S3ObjectStore::list(const std::string& key_prefix, int page_size) const {
  const std::string store_prefix = config().prefix.empty() ? "" : config().prefix + "/";
  std::vector<S3ListedObject> objects;
  std::string token;
  std::set<std::string> seen_tokens;  // a server repeating a token must not loop us forever
  while (true) {
    sigv4::Params query = {{"list-type", "2"}, {"max-keys", std::to_string(page_size)}, {"prefix", store_prefix + key_prefix}};
    if (!token.empty()) query.emplace_back("continuation-token", token);
    auto response = client_.send({"GET", "", query, {}, ""});
    if (!response) return response.error();
    if (response->http_status / 100 != 2) return s3_error_status(*response, "ListObjectsV2 " + store_prefix + key_prefix);
    for (std::string_view contents : s3xml::elements(response->body, "Contents")) {
      const std::string key = s3xml::first_text(contents, "Key");
      if (key.size() <= store_prefix.size() || key.compare(0, store_prefix.size(), store_prefix) != 0) continue;
      objects.push_back({key.substr(store_prefix.size()), s3xml::first_text(contents, "ETag")});
    }
    if (s3xml::first_text(response->body, "IsTruncated") != "true") break;
    token = s3xml::first_text(response->body, "NextContinuationToken");
    if (token.empty() || !seen_tokens.insert(token).second) {
      return unavailable("S3 ListObjectsV2: truncated listing without a new continuation token");
    }
  }
  return objects;
}

Status S3ObjectStore::remove_prefix(const std::string& prefix) {
  if (!is_valid_object_key(prefix)) return invalid_argument("invalid object key prefix \"" + prefix + "\"");
  // Path semantics, as the local store's folders: "video_9" removes video_9 and video_9/*, not video_90.
  auto listed = list(prefix + "/");
  if (!listed) return listed.error();
  std::vector<std::string> keys = {prefix};
  for (const S3ListedObject& object : *listed) keys.push_back(object.key);
  Status first_error;
  for (const std::string& key : keys) {
    auto response = client_.send({"DELETE", full_key(key), {}, {}, ""});
    Status status = !response ? response.error()
                    : (response->http_status / 100 == 2 || response->http_status == 404)
                        ? Status::ok()
                        : s3_error_status(*response, "DELETE " + full_key(key));
    if (!status && first_error) first_error = status;
    std::lock_guard<std::mutex> lock(cache_mutex_);
    expiry_cache_.erase(key);
  }
  return first_error;
}

Expected<int64_t> S3ObjectStore::expiry_of(const S3ListedObject& object) {
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    const auto it = expiry_cache_.find(object.key);
    if (it != expiry_cache_.end() && !object.etag.empty() && it->second.first == object.etag) return it->second.second;
  }
  auto response = client_.send({"HEAD", full_key(object.key), {}, {}, ""});
  if (!response) return response.error();
  if (response->http_status / 100 != 2) return s3_error_status(*response, "HEAD " + full_key(object.key));
  const int64_t expires_at = parse_expiry(response->header(kExpiresHeader));
  std::lock_guard<std::mutex> lock(cache_mutex_);
  expiry_cache_[object.key] = {object.etag, expires_at};
  return expires_at;
}

int64_t S3ObjectStore::sweep_expired(int64_t now) {
  auto listed = list("");
  if (!listed) return 0;  // unreachable store: the next sweep tries again
  int64_t removed = 0;
  std::set<std::string> present;
  for (const S3ListedObject& object : *listed) {
    present.insert(object.key);
    auto expires_at = expiry_of(object);
    if (!expires_at || !expired(*expires_at, now)) continue;
    auto response = client_.send({"DELETE", full_key(object.key), {}, {}, ""});
    if (response && response->http_status / 100 == 2) ++removed;
    present.erase(object.key);
  }
  std::lock_guard<std::mutex> lock(cache_mutex_);
  for (auto it = expiry_cache_.begin(); it != expiry_cache_.end();) {
    it = present.count(it->first) != 0 ? std::next(it) : expiry_cache_.erase(it);  // bounded by the bucket's size
  }
  return removed;
}

Expected<std::string> S3ObjectStore::presigned_get_url(const std::string& key, int64_t ttl_seconds, int64_t now) const {
  if (!is_valid_object_key(key)) return invalid_argument("invalid object key \"" + key + "\"");
  if (ttl_seconds < 1 || ttl_seconds > kMaxPresignSeconds) {
    return invalid_argument("a presigned URL lives 1 s to 7 days, not " + std::to_string(ttl_seconds) + " s");
  }
  return client_.presigned_get_url(full_key(key), ttl_seconds, now);
}

}  // namespace frugal::storage

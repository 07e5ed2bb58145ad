// S3Config: where an S3-compatible object store is and how to reach it, parsed from one URL-ish
// string (storage layer), e.g. `frugal serve --object-store`:
//
//   s3://BUCKET[/PREFIX]?endpoint=http://127.0.0.1:4568&region=us-east-1
//
// Query options (all optional):
//   endpoint=URL            http(s)://host[:port]; default https://s3.<region>.amazonaws.com
//   region=NAME             default us-east-1 (the SigV4 scope's region)
//   addressing=path|virtual default: virtual for the AWS default endpoint, path for a custom one
//   part_size_mib=N         multipart part size, 5..5120 (S3's minimum part is 5 MiB); default 8
//   credentials_file=PATH   an AWS shared-credentials file (aws_access_key_id = ..., [profile]s)
//   profile=NAME            its section; default "default"
//   timeout_s=N             per-request bound once connected (default 300); connecting: 10 s
// Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN) from the
// environment, unless credentials_file is given. Any other option, or a malformed value, is a
// kInvalidArgument naming it.
#pragma once

#include <cstdint>
#include <string>

#include "core/expected.h"
#include "storage/sigv4.h"

namespace frugal::storage {

struct S3Config {
  std::string bucket;             // "examplebucket"
  std::string prefix;             // "" or "a/b": every key is stored as "<prefix>/<key>"
  std::string scheme = "https";   // of the endpoint
  std::string endpoint_host;      // "127.0.0.1:4568" (port kept when given): the Host the request signs
  std::string region = "us-east-1";
  bool virtual_hosted = false;    // true: https://BUCKET.host/KEY; false: http://host/BUCKET/KEY
  int64_t part_size_bytes = 8LL << 20;
  int64_t timeout_seconds = 300;
  int64_t connect_timeout_seconds = 10;
  sigv4::Credentials credentials;
};

inline constexpr int64_t kS3MinPartBytes = 5LL << 20;  // S3 refuses smaller parts (except the last)

// Parses `url` (see the header comment); reads the environment or the credentials file.
Expected<S3Config> parse_s3_url(const std::string& url);

// True when `value` looks like an S3 URL ("s3://..."), as opposed to a local folder.
bool is_s3_url(const std::string& value);

}  // namespace frugal::storage

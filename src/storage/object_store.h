// ObjectStore: where finished files live, by key, with an expiry (storage layer, depends on core).
// The video service writes a job's MP4, thumbnail and spritesheet here and serves them back; the
// local directory backend is the default, an S3 backend is the scale-out issue's.
// Keys are relative paths of [A-Za-z0-9._-] segments joined by '/' ("video_ab12/video.mp4"); any
// other key is kInvalidArgument, so a key can never name a file outside the store.
// Threading contract: every method is safe to call from any thread.
#pragma once

#include <cstdint>
#include <string>

#include "core/expected.h"
#include "core/status.h"

namespace frugal::storage {

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  // Moves (or copies) the local file `source_path` in as `key`, replacing any object there, to be
  // deleted after `expires_at` (unix seconds; 0: never). The object appears whole or not at all.
  virtual Status put_file(const std::string& key, const std::string& source_path, int64_t expires_at) = 0;
  // The object's bytes. kNotFound when it is absent or expired.
  virtual Expected<std::string> get(const std::string& key, int64_t now) const = 0;
  virtual bool exists(const std::string& key, int64_t now) const = 0;
  // Deletes every object whose key starts with `prefix` (absent objects are not an error).
  virtual Status remove_prefix(const std::string& prefix) = 0;
  // Deletes every object expired at `now`; returns how many.
  virtual int64_t sweep_expired(int64_t now) = 0;
  // A local folder where a producer may stage files before put_file (same filesystem: put is a rename).
  virtual std::string staging_dir() const = 0;
  // A URL a client may download `key` from directly, without credentials, until `now + ttl_seconds`
  // (S3: a presigned GET). kUnimplemented for stores whose bytes only the server can read (local).
  virtual Expected<std::string> download_url(const std::string& key, int64_t ttl_seconds, int64_t now) const {
    return unimplemented("this object store has no direct download URLs");
  }
};

// True when `key` is a valid object key (see the header comment).
bool is_valid_object_key(const std::string& key);

}  // namespace frugal::storage

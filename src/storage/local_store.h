// LocalDirectoryStore: the ObjectStore in a local folder (storage layer).
// Layout: <root>/objects/<key> holds the bytes, <root>/objects/<key>.expires its expiry (unix seconds,
// text) when it has one; <root>/staging/ is where producers write before put_file renames.
// put_file writes the expiry first and renames the object last, so a crash leaves either the old
// object or the new one, never half a file (rename(2) is atomic on one filesystem).
#pragma once

#include <memory>
#include <string>

#include "storage/object_store.h"

namespace frugal::storage {

class LocalDirectoryStore final : public ObjectStore {
 public:
  // Creates <root>/objects and <root>/staging when missing; kUnavailable when it cannot.
  static Expected<std::unique_ptr<LocalDirectoryStore>> open(const std::string& root);

  Status put_file(const std::string& key, const std::string& source_path, int64_t expires_at) override;
  Expected<std::string> get(const std::string& key, int64_t now) const override;
  bool exists(const std::string& key, int64_t now) const override;
  Status remove_prefix(const std::string& prefix) override;
  int64_t sweep_expired(int64_t now) override;
  std::string staging_dir() const override;

 private:
  explicit LocalDirectoryStore(std::string root) : root_(std::move(root)) {}
  std::string object_path(const std::string& key) const;
  // 0 when the object has no expiry file.
  int64_t expiry_of(const std::string& key) const;
  std::string root_;
};

}  // namespace frugal::storage

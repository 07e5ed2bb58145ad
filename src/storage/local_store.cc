#include "storage/local_store.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace frugal::storage {
namespace fs = std::filesystem;

namespace {

constexpr const char* kExpirySuffix = ".expires";

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

}  // namespace

bool is_valid_object_key(const std::string& key) {
  if (key.empty() || key.size() > 512) return false;
  size_t segment_begin = 0;
  for (size_t pos = 0; pos <= key.size(); ++pos) {
    if (pos == key.size() || key[pos] == '/') {
      const std::string segment = key.substr(segment_begin, pos - segment_begin);
      if (segment.empty() || segment == "." || segment == "..") return false;
      segment_begin = pos + 1;
    } else if (!is_key_char(key[pos])) {
      return false;
    }
  }
  return true;
}

Expected<std::unique_ptr<LocalDirectoryStore>> LocalDirectoryStore::open(const std::string& root) {
  std::error_code ec;
  fs::create_directories(fs::path(root) / "objects", ec);
  if (!ec) fs::create_directories(fs::path(root) / "staging", ec);
  if (ec) return unavailable("cannot create the object store folder " + root + ": " + ec.message());
  return std::unique_ptr<LocalDirectoryStore>(new LocalDirectoryStore(root));
}

std::string LocalDirectoryStore::object_path(const std::string& key) const {
  return (fs::path(root_) / "objects" / key).string();
}

std::string LocalDirectoryStore::staging_dir() const { return (fs::path(root_) / "staging").string(); }

int64_t LocalDirectoryStore::expiry_of(const std::string& key) const {
  std::ifstream file(object_path(key) + kExpirySuffix);
  int64_t expires_at = 0;
  if (file) file >> expires_at;
  return expires_at;
}

Status LocalDirectoryStore::put_file(const std::string& key, const std::string& source_path, int64_t expires_at) {
  if (!is_valid_object_key(key)) return invalid_argument("invalid object key \"" + key + "\"");
  const fs::path target = object_path(key);
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) return unavailable("cannot create " + target.parent_path().string() + ": " + ec.message());
  const std::string expiry_path = target.string() + kExpirySuffix;
  if (expires_at > 0) {
    std::ofstream expiry(expiry_path, std::ios::trunc);
    expiry << expires_at << "\n";
    if (!expiry.flush()) return unavailable("cannot write " + expiry_path);
  } else {
    fs::remove(expiry_path, ec);
  }
  fs::rename(source_path, target, ec);
  if (ec) {  // another filesystem: copy to a partial file beside the target, then rename
    const fs::path partial = target.string() + ".partial";
    fs::copy_file(source_path, partial, fs::copy_options::overwrite_existing, ec);
    if (!ec) fs::rename(partial, target, ec);
    if (ec) return unavailable("cannot store " + key + ": " + ec.message());
    fs::remove(source_path, ec);
  }
  return Status::ok();
}

bool LocalDirectoryStore::exists(const std::string& key, int64_t now) const {
  if (!is_valid_object_key(key)) return false;
  std::error_code ec;
  if (!fs::is_regular_file(object_path(key), ec)) return false;
  const int64_t expires_at = expiry_of(key);
  return expires_at == 0 || now < expires_at;
}

Expected<std::string> LocalDirectoryStore::get(const std::string& key, int64_t now) const {
  if (!exists(key, now)) return not_found("no stored object " + key + " (never written, deleted or expired)");
  std::ifstream file(object_path(key), std::ios::binary);
  if (!file) return not_found("cannot open stored object " + key);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

Status LocalDirectoryStore::remove_prefix(const std::string& prefix) {
  if (!is_valid_object_key(prefix)) return invalid_argument("invalid object key prefix \"" + prefix + "\"");
  std::error_code ec;
  const fs::path path = object_path(prefix);
  fs::remove_all(path, ec);
  fs::remove(path.string() + kExpirySuffix, ec);
  return Status::ok();
}

int64_t LocalDirectoryStore::sweep_expired(int64_t now) {
  int64_t removed = 0;
  std::error_code ec;
  const fs::path objects = fs::path(root_) / "objects";
  std::vector<fs::path> expired;
  for (auto it = fs::recursive_directory_iterator(objects, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const fs::path path = it->path();
    if (path.extension() != kExpirySuffix) continue;
    std::ifstream file(path);
    int64_t expires_at = 0;
    if (file >> expires_at && expires_at > 0 && now >= expires_at) expired.push_back(path);
  }
  for (const fs::path& expiry : expired) {
    fs::path object = expiry;
    object.replace_extension();
    if (fs::remove(object, ec)) ++removed;
    fs::remove(expiry, ec);
  }
  return removed;
}

}  // namespace frugal::storage

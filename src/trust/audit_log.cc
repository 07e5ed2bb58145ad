#include "trust/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/logging.h"
#include "core/utc_time.h"
#include "trust/audit_record.h"
#include "trust/sha256.h"

namespace frugal::trust {
namespace {

using json = nlohmann::json;

// Bytes read per step while looking backwards for the last two newlines.
constexpr int64_t kTailChunkBytes = 64 * 1024;

Status write_all(int fd, const std::string& bytes, const std::string& path) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return unavailable("cannot write " + path + ": " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return Status::ok();
}

// The file's bytes from `from` to its end.
Expected<std::string> read_from(int fd, int64_t from, int64_t size, const std::string& path) {
  std::string bytes(static_cast<size_t>(size - from), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pread(fd, bytes.data() + done, bytes.size() - done, from + static_cast<int64_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return unavailable("cannot read " + path + ": " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return bytes;
}

std::string default_key_path(const std::string& log_path) {
  const std::filesystem::path folder = std::filesystem::path(log_path).parent_path();
  return ((folder.empty() ? std::filesystem::path(".") : folder) / "audit-signing-key.pem").string();
}

void fsync_folder_of(const std::string& path) {
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  if (folder.empty()) folder = ".";
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

}  // namespace

Expected<std::unique_ptr<AuditLog>> AuditLog::open(const AuditLogOptions& options_in) {
  AuditLogOptions options = options_in;
  if (options.path.empty()) return invalid_argument("audit log: no file given");
  if (options.checkpoint_every < 1) return invalid_argument("audit log: checkpoint interval must be >= 1 record");
  if (options.key_path.empty()) options.key_path = default_key_path(options.path);
  AuditOpenReport report;
  report.key_path = options.key_path;
  std::error_code ec;
  auto key = SigningKey::load(options.key_path);
  if (!key && key.error().code() == StatusCode::kNotFound && !std::filesystem::exists(options.key_path, ec) &&
      options.generate_key) {
    key = SigningKey::generate(options.key_path);
    report.key_generated = key.has_value();
  }
  if (!key) return key.error();
  report.key_fingerprint = key->public_key().fingerprint();
  std::unique_ptr<AuditLog> log(new AuditLog(std::move(options), std::move(*key)));
  log->report_ = report;
  log->fd_ = ::open(log->options_.path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (log->fd_ < 0) return unavailable("cannot open audit log " + log->options_.path + ": " + std::strerror(errno));
  if (Status s = log->recover_tail(); !s) return s;
  log->report_.next_seq = log->next_seq_;
  return log;
}

// Finds the last whole record (its seq and hash) and cuts a torn tail after it.
Status AuditLog::recover_tail() {
  const std::string& path = options_.path;
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return unavailable("cannot stat " + path + ": " + std::strerror(errno));
  const int64_t size = st.st_size;
  head_ = kGenesisHash;
  next_seq_ = 0;
  size_bytes_ = size;
  if (size == 0) return Status::ok();
  // Read backwards until the tail holds two newlines (the last whole line is between them) or the file starts.
  int64_t tail_start = size;
  std::string tail;
  do {
    tail_start = std::max<int64_t>(0, tail_start - kTailChunkBytes);
    auto bytes = read_from(fd_, tail_start, size, path);
    if (!bytes) return bytes.error();
    tail = std::move(*bytes);
  } while (tail_start > 0 && std::count(tail.begin(), tail.end(), '\n') < 2);
  const size_t last_nl = tail.rfind('\n');
  const int64_t whole_end = last_nl == std::string::npos ? tail_start : tail_start + static_cast<int64_t>(last_nl) + 1;
  if (whole_end < size) {  // a torn tail: cut it, say so, record it below once the chain head is known
    const std::string torn = tail.substr(static_cast<size_t>(whole_end - tail_start));
    if (::ftruncate(fd_, whole_end) != 0 || ::fsync(fd_) != 0) {
      return unavailable("cannot cut the torn tail of " + path + ": " + std::strerror(errno));
    }
    report_.torn_bytes_cut = size - whole_end;
    size_bytes_ = whole_end;
    log_warn("audit log " + path + ": cut a torn last line (" + std::to_string(size - whole_end) +
             " bytes after offset " + std::to_string(whole_end) + ", sha256 " + sha256_hex(torn) +
             "): a write was interrupted by a crash");
  }
  if (last_nl != std::string::npos) {
    const size_t line_start = last_nl == 0 ? std::string::npos : tail.rfind('\n', last_nl - 1);
    const size_t from = line_start == std::string::npos ? 0 : line_start + 1;
    const std::string line = tail.substr(from, last_nl - from);
    const json record = json::parse(line, nullptr, /*allow_exceptions=*/false);
    const bool whole = record.is_object() && record.contains("seq") && record["seq"].is_number_unsigned() &&
                       record.contains("hash") && record["hash"].is_string() &&
                       record["hash"].get<std::string>() == record_hash(record);
    if (!whole) {
      return data_loss("audit log " + path + ": its last record is damaged (run `frugal audit verify " + path +
                       "`); refusing to append to a broken chain");
    }
    next_seq_ = record["seq"].get<int64_t>() + 1;
    head_ = record["hash"].get<std::string>();
  }
  if (report_.torn_bytes_cut > 0) {
    json recovery{{"kind", "recovery"},
                  {"torn_bytes", report_.torn_bytes_cut},
                  {"detail", "a torn last line was cut on open; the chain continues from the last whole record"}};
    return append_locked(std::move(recovery));
  }
  return Status::ok();
}

AuditLog::~AuditLog() { (void)close(); }

int64_t AuditLog::next_seq() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return next_seq_;
}

Status AuditLog::record(const AuditEvent& event) { return append(event_record(event, options_.store_prompts)); }

Status AuditLog::append(json body) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (fd_ < 0) return unavailable("audit log " + options_.path + " is closed");
  if (Status s = append_locked(std::move(body)); !s) return s;
  if (since_checkpoint_ >= options_.checkpoint_every) return checkpoint_locked();
  return Status::ok();
}

Status AuditLog::append_locked(json body, std::string* sealed_line) {
  body["seq"] = next_seq_;
  body["prev"] = head_;
  body["time"] = frugal::utc_now_iso();
  const std::string line = seal_record(body) + "\n";
  Status written = write_all(fd_, line, options_.path);
  if (written && ::fdatasync(fd_) != 0) written = unavailable("cannot fsync " + options_.path + ": " + std::strerror(errno));
  if (!written) {
    // Undo a partial line so the chain stays whole; the record is reported as not logged.
    (void)::ftruncate(fd_, size_bytes_);
    return written;
  }
  size_bytes_ += static_cast<int64_t>(line.size());
  if (sealed_line != nullptr) *sealed_line = line;
  head_ = body["hash"].get<std::string>();
  ++next_seq_;
  if (body["kind"] == "checkpoint") {
    since_checkpoint_ = 0;
  } else {
    ++since_checkpoint_;
  }
  return Status::ok();
}

Status AuditLog::checkpoint() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (fd_ < 0) return unavailable("audit log " + options_.path + " is closed");
  return checkpoint_locked();
}

Status AuditLog::checkpoint_locked() {
  const int64_t count = next_seq_;
  auto signature = key_.sign(checkpoint_message(count, head_));
  if (!signature) return signature.error();
  json body{{"kind", "checkpoint"},
            {"count", count},
            {"head", head_},
            {"algorithm", key_.public_key().algorithm()},
            {"signer", key_.public_key().fingerprint()},
            {"public_key", key_.public_key().pem()},
            {"signature", base64_encode(*signature)}};
  std::string line;
  if (Status s = append_locked(std::move(body), &line); !s) return s;
  if (Status s = write_anchor(line); !s) log_warn("audit log: " + s.to_string());
  return Status::ok();
}

Status AuditLog::write_anchor(const std::string& line) {
  const std::string anchor = options_.path + ".head";
  const std::string temp = anchor + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return unavailable("cannot write " + temp + ": " + std::strerror(errno));
  Status s = write_all(fd, line, temp);
  if (s && ::fsync(fd) != 0) s = unavailable("cannot fsync " + temp);
  ::close(fd);
  if (!s) return s;
  if (::rename(temp.c_str(), anchor.c_str()) != 0) return unavailable("cannot rename " + temp + ": " + std::strerror(errno));
  fsync_folder_of(anchor);
  return Status::ok();
}

Status AuditLog::close() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (fd_ < 0) return Status::ok();
  Status s = since_checkpoint_ > 0 ? checkpoint_locked() : Status::ok();
  ::close(fd_);
  fd_ = -1;
  return s;
}

}  // namespace frugal::trust

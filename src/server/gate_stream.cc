#include "server/gate_stream.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace frugal {
namespace {

// A blocked write wakes up this often to notice that the client hung up.
constexpr std::chrono::milliseconds kWriteWakeup{100};

}  // namespace

bool write_all(int fd, std::string_view bytes, std::chrono::milliseconds stall, const ClientLink* link,
               bool* timed_out) {
  auto last_progress = std::chrono::steady_clock::now();
  while (!bytes.empty()) {
    if (link != nullptr && link->gone()) return false;
    const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent > 0) {
      bytes.remove_prefix(static_cast<size_t>(sent));
      last_progress = std::chrono::steady_clock::now();
      continue;
    }
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
    const auto waited = std::chrono::steady_clock::now() - last_progress;
    if (waited >= stall) {
      if (timed_out != nullptr) *timed_out = true;
      return false;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(stall - waited);
    pollfd pfd{fd, POLLOUT, 0};
    ::poll(&pfd, 1, static_cast<int>(std::min(left, kWriteWakeup).count()) + 1);
  }
  return true;
}

ssize_t GateStream::read(char* ptr, size_t size) {
  const size_t n = std::min(size, request_.size() - read_pos_);
  std::memcpy(ptr, request_.data() + read_pos_, n);
  read_pos_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t GateStream::write(const char* ptr, size_t size) {
  if (failed_) return -1;
  if (!write_all(fd_, std::string_view(ptr, size), write_timeout_, &link_, &timed_out_)) {
    failed_ = true;
    return -1;
  }
  return static_cast<ssize_t>(size);
}

}  // namespace frugal

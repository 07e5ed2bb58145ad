// Test helper: a raw HTTP/1.1 client over one loopback TCP socket, for what a library client will
// not send (bad framing, pipelining, slow bytes, hang-ups) and for many idle connections. It can
// connect from another loopback source address (127.0.0.2, ...) to act as a different client.
// Every wait is bounded.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace frugal::testing {

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // de-chunked
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

class RawClient {
 public:
  RawClient() = default;
  RawClient(RawClient&& other) noexcept : fd_(other.fd_), buffer_(std::move(other.buffer_)) { other.fd_ = -1; }
  RawClient& operator=(RawClient&& other) noexcept {
    if (this != &other) {
      close();
      fd_ = other.fd_;
      buffer_ = std::move(other.buffer_);
      other.fd_ = -1;
    }
    return *this;
  }
  ~RawClient() { close(); }

  // Connects to 127.0.0.1:port from `source` (a loopback address; "" = any). False on failure.
  bool connect(int port, const std::string& source = "") {
    close();
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    if (!source.empty()) {
      sockaddr_in from{};
      from.sin_family = AF_INET;
      ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
      if (::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0) return fail();
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) return fail();
    const int yes = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    return true;
  }
  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }  // for a test that reads the raw bytes itself (piece by piece)

  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // One response (Content-Length, chunked, or until close), within timeout_ms; nullopt otherwise.
  std::optional<RawResponse> read_response(int timeout_ms = 5000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(deadline)) return std::nullopt;
    }
    RawResponse res;
    const std::string head = buffer_.substr(0, head_end);
    buffer_.erase(0, head_end + 4);
    if (head.size() < 12 || head.rfind("HTTP/1.", 0) != 0) return std::nullopt;
    res.status = std::stoi(head.substr(9, 3));
    size_t pos = head.find("\r\n");
    while (pos != std::string::npos) {
      const size_t next = head.find("\r\n", pos + 2);
      const std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        res.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
      }
      pos = next;
    }
    if (res.status == 100) return read_response(timeout_ms);
    if (res.header("transfer-encoding") == "chunked") {
      for (;;) {
        size_t line_end;
        while ((line_end = buffer_.find("\r\n")) == std::string::npos) {
          if (!fill(deadline)) return std::nullopt;
        }
        const size_t size = std::stoul(buffer_.substr(0, line_end), nullptr, 16);
        while (buffer_.size() < line_end + 2 + size + 2) {
          if (!fill(deadline)) return std::nullopt;
        }
        res.body += buffer_.substr(line_end + 2, size);
        buffer_.erase(0, line_end + 2 + size + 2);
        if (size == 0) return res;
      }
    }
    if (!res.header("content-length").empty()) {
      const size_t length = std::stoul(res.header("content-length"));
      while (buffer_.size() < length) {
        if (!fill(deadline)) return std::nullopt;
      }
      res.body = buffer_.substr(0, length);
      buffer_.erase(0, length);
      return res;
    }
    while (fill(deadline)) {
    }
    res.body.swap(buffer_);
    return res;
  }

  // True when the server closed the connection within timeout_ms (EOF or reset).
  bool closed_by_peer(int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (fill(deadline)) {
    }
    return eof_;
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffer_.clear();
    eof_ = false;
  }

 private:
  bool fail() {
    close();
    return false;
  }
  // Reads more bytes before the deadline; false at EOF, on an error or on the deadline.
  bool fill(std::chrono::steady_clock::time_point deadline) {
    if (fd_ < 0 || eof_) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buffer_;
  bool eof_ = false;
};

// A request with a body and its framing headers.
inline std::string raw_post(const std::string& path, const std::string& body,
                            const std::string& content_type = "application/json", const std::string& extra = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + content_type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
}

inline std::string raw_get(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n";
}

// GET /health on a fresh connection: the status and the milliseconds from connect to the response
// (status 0 when there was none within timeout_ms).
inline std::pair<int, double> timed_health(int port, const std::string& source = "", int timeout_ms = 5000) {
  const auto start = std::chrono::steady_clock::now();
  RawClient client;
  if (!client.connect(port, source) || !client.send(raw_get("/health", "Connection: close\r\n"))) return {0, 0};
  const std::optional<RawResponse> res = client.read_response(timeout_ms);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return {res ? res->status : 0, ms};
}

// Raises this process's open-file limit to its hard limit (many client sockets in one test).
inline void raise_open_file_limit() {
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
}

}  // namespace frugal::testing

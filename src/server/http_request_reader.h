// Incremental, bounded HTTP/1.1 request reader (server layer, no sockets): bytes in, one complete
// and validated request out, or the status that refuses it. It is what stands between a client and
// everything else, so it trusts nothing: the head and every header are bounded, Content-Length must be
// plain digits (no sign, no list), Content-Length with Transfer-Encoding is refused (smuggling), only
// the "chunked" coding is accepted and its decoded size is bounded as it arrives (413 however the body
// is sent). Bytes after a complete request stay buffered for the next one (pipelining).
// Threading contract: one thread at a time (the gate's event loop, then the worker that serves it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace frugal {

struct HttpRequestLimits {
  size_t max_head_bytes = 16 * 1024;    // request line + headers; beyond -> 431 (a long target: 414)
  size_t max_target_bytes = 8 * 1024;   // the request target; beyond -> 414
  size_t max_headers = 100;             // header lines; beyond -> 431
  size_t max_body_bytes = 1 << 20;      // decoded body; beyond -> 413
};

// A parsed request head. Names keep their case; look them up with header().
struct HttpHead {
  std::string method;   // e.g. "POST"
  std::string target;   // origin-form: "/v1/videos?limit=2"
  std::string path;     // target up to '?'
  std::string version;  // "HTTP/1.1" | "HTTP/1.0"
  std::vector<std::pair<std::string, std::string>> headers;
  bool keep_alive = true;        // 1.1 without "Connection: close", or 1.0 with "keep-alive"
  bool expect_continue = false;  // "Expect: 100-continue"
  bool chunked = false;          // "Transfer-Encoding: chunked"
  uint64_t content_length = 0;   // declared (not chunked)

  // The first header named `name` (ASCII case-insensitive), if any.
  std::optional<std::string_view> header(std::string_view name) const;
};

struct HttpReadError {
  int http_status = 400;  // 400, 413, 414, 415, 431, 501 or 505
  std::string message;
  std::string code;       // machine-readable: "bad_request_line", "content_length", ...
};

class HttpRequestReader {
 public:
  enum class Progress { kNeedMore, kComplete, kError };

  explicit HttpRequestReader(HttpRequestLimits limits = {}) : limits_(limits) {}

  // Appends received bytes and parses as far as they go.
  Progress feed(std::string_view bytes);
  // Parses what is buffered (after next_request(), a pipelined request may already be complete).
  Progress parse();

  bool started() const;            // some byte of the current request has arrived
  bool head_done() const { return state_ != State::kHead; }
  Progress progress() const;
  const HttpHead& head() const { return head_; }    // valid once head_done()
  const std::string& body() const { return body_; }  // decoded; valid when kComplete
  const HttpReadError& error() const { return error_; }  // valid when kError
  size_t buffered_bytes() const { return buffer_.size() - consumed_; }

  // The complete request re-serialised for cpp-httplib: the request line, the headers without
  // Transfer-Encoding / Content-Length / Expect / Content-Encoding, one Content-Length, the body.
  std::string normalized() const;

  // Forgets the completed request; bytes after it stay buffered for the next one.
  void next_request();

 private:
  enum class State { kHead, kBody, kChunkSize, kChunkData, kChunkDataEnd, kTrailers, kComplete, kError };

  Progress fail(int http_status, std::string code, std::string message);
  Progress parse_head();
  Progress parse_chunked();
  // The next line (without its CR LF / LF) starting at consumed_, or nullopt when not all here.
  std::optional<std::string_view> peek_line(size_t max_bytes, bool* too_long);
  Progress check_framing();

  HttpRequestLimits limits_;
  std::string buffer_;   // raw bytes received; [0, consumed_) already parsed
  size_t consumed_ = 0;
  State state_ = State::kHead;
  HttpHead head_;
  std::string body_;
  uint64_t chunk_left_ = 0;  // kChunkData: bytes of the current chunk still to come
  size_t trailer_bytes_ = 0;
  size_t head_scanned_ = 0;  // kHead: buffer_ offset up to which no blank line was found
  HttpReadError error_;
};

}  // namespace frugal

#include "server/http_request_reader.h"

#include <algorithm>
#include <charconv>

namespace frugal {
namespace {

// RFC 9110 tchar: the characters of a method or a header name.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) { return !text.empty() && std::all_of(text.begin(), text.end(), is_tchar); }

// A header value may hold visible characters, spaces, tabs and obs-text; never CR, LF, NUL or DEL.
bool is_field_value(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7f);
  });
}

// The request target: origin-form ("/..."), visible ASCII only.
bool is_origin_form(std::string_view target) {
  if (target.empty() || target.front() != '/') return false;
  return std::all_of(target.begin(), target.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f;
  });
}

std::string_view trim_ows(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'A' && x <= 'Z' ? x + 32 : x) == (y >= 'A' && y <= 'Z' ? y + 32 : y);
         });
}

// Content-Length: 1*DIGIT, at most 18 digits (fits in int64 with room).
std::optional<uint64_t> parse_content_length(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  uint64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// A chunk-size line: 1*HEXDIG [ ";" extensions ]; at most 15 hex digits.
std::optional<uint64_t> parse_chunk_size(std::string_view line) {
  const size_t semicolon = line.find(';');
  std::string_view digits = trim_ows(line.substr(0, semicolon));
  if (digits.empty() || digits.size() > 15) return std::nullopt;
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, 16);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

// Longest chunk-size or trailer line accepted.
constexpr size_t kMaxChunkLineBytes = 4096;

}  // namespace

std::optional<std::string_view> HttpHead::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

HttpRequestReader::Progress HttpRequestReader::fail(int http_status, std::string code, std::string message) {
  state_ = State::kError;
  error_ = HttpReadError{http_status, std::move(message), std::move(code)};
  return Progress::kError;
}

HttpRequestReader::Progress HttpRequestReader::progress() const {
  if (state_ == State::kComplete) return Progress::kComplete;
  if (state_ == State::kError) return Progress::kError;
  return Progress::kNeedMore;
}

bool HttpRequestReader::started() const {
  if (state_ != State::kHead) return true;
  for (size_t pos = consumed_; pos < buffer_.size(); ++pos) {
    if (buffer_[pos] != '\r' && buffer_[pos] != '\n') return true;
  }
  return false;
}

HttpRequestReader::Progress HttpRequestReader::feed(std::string_view bytes) {
  if (state_ == State::kError) return Progress::kError;
  buffer_.append(bytes);
  return parse();
}

HttpRequestReader::Progress HttpRequestReader::parse() {
  if (state_ == State::kHead) {
    const Progress p = parse_head();
    if (p != Progress::kComplete) return p;
  }
  if (state_ == State::kBody) {
    if (buffered_bytes() < head_.content_length) return Progress::kNeedMore;
    body_.assign(buffer_, consumed_, head_.content_length);
    consumed_ += head_.content_length;
    state_ = State::kComplete;
  }
  if (state_ != State::kComplete && state_ != State::kError) return parse_chunked();
  return progress();
}

std::optional<std::string_view> HttpRequestReader::peek_line(size_t max_bytes, bool* too_long) {
  *too_long = false;
  const size_t newline = buffer_.find('\n', consumed_);
  if (newline == std::string::npos) {
    *too_long = buffered_bytes() > max_bytes;
    return std::nullopt;
  }
  if (newline - consumed_ > max_bytes) {
    *too_long = true;
    return std::nullopt;
  }
  std::string_view line(buffer_.data() + consumed_, newline - consumed_);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

HttpRequestReader::Progress HttpRequestReader::parse_head() {
  // Empty lines before a request line are ignored (RFC 9112 2.2), a bounded number of bytes of them.
  while (consumed_ < buffer_.size() && (buffer_[consumed_] == '\r' || buffer_[consumed_] == '\n')) {
    if (consumed_ >= limits_.max_head_bytes) return fail(400, "bad_request_line", "Expected an HTTP request line");
    ++consumed_;
  }
  // Resume the search for the blank line where the last one stopped: a client sending one byte at a
  // time must not make every byte rescan the whole head.
  const size_t scan_from = std::max(consumed_, head_scanned_ > 2 ? head_scanned_ - 2 : 0);
  size_t end = buffer_.find("\n\r\n", scan_from);
  size_t end_len = 3;
  const size_t lf_end = buffer_.find("\n\n", scan_from);
  if (lf_end != std::string::npos && (end == std::string::npos || lf_end < end)) {
    end = lf_end;
    end_len = 2;
  }
  if (end == std::string::npos) {
    head_scanned_ = buffer_.size();
    if (buffered_bytes() > limits_.max_head_bytes) {
      const size_t line_end = buffer_.find('\n', consumed_);
      if (line_end == std::string::npos) {
        return fail(414, "uri_too_long", "The request line is longer than " + std::to_string(limits_.max_head_bytes) + " bytes");
      }
      return fail(431, "headers_too_large",
                  "The request headers are larger than " + std::to_string(limits_.max_head_bytes) + " bytes");
    }
    return Progress::kNeedMore;
  }
  if (end + 1 - consumed_ > limits_.max_head_bytes) {
    return fail(431, "headers_too_large",
                "The request headers are larger than " + std::to_string(limits_.max_head_bytes) + " bytes");
  }
  std::string_view block(buffer_.data() + consumed_, end + 1 - consumed_);
  consumed_ = end + end_len;
  head_scanned_ = 0;
  head_ = HttpHead{};
  bool first = true;
  while (!block.empty()) {
    const size_t newline = block.find('\n');
    std::string_view line = block.substr(0, newline);
    block.remove_prefix(newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (first) {
      first = false;
      const size_t sp1 = line.find(' ');
      const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
      if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
        return fail(400, "bad_request_line", "Malformed HTTP request line");
      }
      const std::string_view method = line.substr(0, sp1);
      const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
      const std::string_view version = line.substr(sp2 + 1);
      if (!is_token(method)) return fail(400, "bad_request_line", "Malformed HTTP method");
      if (target.size() > limits_.max_target_bytes) {
        return fail(414, "uri_too_long", "The request target is longer than " + std::to_string(limits_.max_target_bytes) + " bytes");
      }
      if (!is_origin_form(target)) return fail(400, "bad_request_line", "The request target must be a path (\"/...\")");
      if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
          version[5] > '9' || version[7] < '0' || version[7] > '9') {
        return fail(400, "bad_request_line", "Malformed HTTP version");
      }
      if (version != "HTTP/1.1" && version != "HTTP/1.0") {
        return fail(505, "http_version_not_supported", "Only HTTP/1.0 and HTTP/1.1 are served");
      }
      head_.method = std::string(method);
      head_.target = std::string(target);
      head_.path = std::string(target.substr(0, target.find('?')));
      head_.version = std::string(version);
      continue;
    }
    if (line.empty()) continue;
    if (line.front() == ' ' || line.front() == '\t') {
      return fail(400, "bad_header", "Folded header lines (obs-fold) are not accepted");
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
      return fail(400, "bad_header", "Malformed header line");
    }
    const std::string_view value = trim_ows(line.substr(colon + 1));
    if (!is_field_value(value)) return fail(400, "bad_header", "A header value holds control characters");
    if (head_.headers.size() >= limits_.max_headers) {
      return fail(431, "headers_too_large", "More than " + std::to_string(limits_.max_headers) + " header lines");
    }
    head_.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  return check_framing();
}

// Connection semantics and how the body is framed; the body state to continue in.
HttpRequestReader::Progress HttpRequestReader::check_framing() {
  const bool http10 = head_.version == "HTTP/1.0";
  head_.keep_alive = !http10;
  std::optional<uint64_t> length;
  bool has_transfer_encoding = false;
  for (const auto& [name, value] : head_.headers) {
    if (iequals(name, "Connection")) {
      if (iequals(value, "close")) head_.keep_alive = false;
      if (http10 && iequals(value, "keep-alive")) head_.keep_alive = true;
    } else if (iequals(name, "Content-Length")) {
      const std::optional<uint64_t> parsed = parse_content_length(value);
      if (!parsed) return fail(400, "content_length", "Content-Length must be a non-negative decimal integer");
      if (length && *length != *parsed) return fail(400, "content_length", "Conflicting Content-Length headers");
      length = parsed;
    } else if (iequals(name, "Transfer-Encoding")) {
      if (has_transfer_encoding || !iequals(value, "chunked")) {
        return fail(501, "transfer_encoding", "Only 'Transfer-Encoding: chunked' is supported");
      }
      has_transfer_encoding = true;
    } else if (iequals(name, "Expect")) {
      if (!iequals(value, "100-continue")) return fail(417, "expectation_failed", "Only 'Expect: 100-continue' is supported");
      head_.expect_continue = true;
    } else if (iequals(name, "Content-Encoding")) {
      if (!iequals(value, "identity")) {
        return fail(415, "content_encoding", "Compressed request bodies (Content-Encoding) are not accepted");
      }
    }
  }
  if (has_transfer_encoding && (length || http10)) {
    return fail(400, "transfer_encoding", "Transfer-Encoding with Content-Length (or in HTTP/1.0) is refused");
  }
  if (has_transfer_encoding) {
    head_.chunked = true;
    state_ = State::kChunkSize;
    return Progress::kComplete;  // the head; the caller continues with the body
  }
  head_.content_length = length.value_or(0);
  if (head_.content_length > limits_.max_body_bytes) {
    return fail(413, "request_too_large", "The request body (" + std::to_string(head_.content_length) +
                                              " bytes) is larger than " + std::to_string(limits_.max_body_bytes) + " bytes");
  }
  state_ = State::kBody;
  return Progress::kComplete;
}

HttpRequestReader::Progress HttpRequestReader::parse_chunked() {
  bool too_long = false;
  for (;;) {
    switch (state_) {
      case State::kChunkSize: {
        const std::optional<std::string_view> line = peek_line(kMaxChunkLineBytes, &too_long);
        if (!line) return too_long ? fail(400, "bad_chunk", "Chunk-size line too long") : Progress::kNeedMore;
        const std::optional<uint64_t> size = parse_chunk_size(*line);
        consumed_ = buffer_.find('\n', consumed_) + 1;
        if (!size) return fail(400, "bad_chunk", "Malformed chunk size");
        if (*size > limits_.max_body_bytes - body_.size()) {
          return fail(413, "request_too_large",
                      "The chunked request body is larger than " + std::to_string(limits_.max_body_bytes) + " bytes");
        }
        chunk_left_ = *size;
        state_ = *size == 0 ? State::kTrailers : State::kChunkData;
        break;
      }
      case State::kChunkData: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(chunk_left_, buffered_bytes()));
        body_.append(buffer_, consumed_, take);
        consumed_ += take;
        chunk_left_ -= take;
        if (chunk_left_ > 0) {
          buffer_.erase(0, consumed_);  // decoded bytes need not stay twice
          consumed_ = 0;
          return Progress::kNeedMore;
        }
        state_ = State::kChunkDataEnd;
        break;
      }
      case State::kChunkDataEnd: {
        // The data must be followed by CRLF (or a bare LF) at once.
        if (buffered_bytes() == 0) return Progress::kNeedMore;
        const char first = buffer_[consumed_];
        if (first == '\n') {
          consumed_ += 1;
        } else if (first != '\r') {
          return fail(400, "bad_chunk", "Chunk data must end with CRLF");
        } else if (buffered_bytes() < 2) {
          return Progress::kNeedMore;
        } else if (buffer_[consumed_ + 1] != '\n') {
          return fail(400, "bad_chunk", "Chunk data must end with CRLF");
        } else {
          consumed_ += 2;
        }
        state_ = State::kChunkSize;
        break;
      }
      case State::kTrailers: {
        const std::optional<std::string_view> line = peek_line(kMaxChunkLineBytes, &too_long);
        if (!line) return too_long ? fail(431, "headers_too_large", "Trailer line too long") : Progress::kNeedMore;
        const size_t line_bytes = buffer_.find('\n', consumed_) + 1 - consumed_;
        const bool last = line->empty();
        consumed_ += line_bytes;
        trailer_bytes_ += line_bytes;
        if (trailer_bytes_ > limits_.max_head_bytes) return fail(431, "headers_too_large", "Trailers too large");
        if (last) {
          state_ = State::kComplete;
          return Progress::kComplete;
        }
        break;  // trailers are read and dropped
      }
      default:
        return progress();
    }
  }
}

std::string HttpRequestReader::normalized() const {
  std::string out;
  out.reserve(256 + body_.size());
  out.append(head_.method).append(" ").append(head_.target).append(" ").append(head_.version).append("\r\n");
  for (const auto& [name, value] : head_.headers) {
    if (iequals(name, "Transfer-Encoding") || iequals(name, "Content-Length") || iequals(name, "Expect") ||
        iequals(name, "Content-Encoding")) {
      continue;
    }
    out.append(name).append(": ").append(value).append("\r\n");
  }
  const bool has_body = !body_.empty() || head_.method == "POST" || head_.method == "PUT" || head_.method == "PATCH";
  if (has_body) out.append("Content-Length: ").append(std::to_string(body_.size())).append("\r\n");
  out.append("\r\n").append(body_);
  return out;
}

void HttpRequestReader::next_request() {
  buffer_.erase(0, consumed_);
  consumed_ = 0;
  state_ = State::kHead;
  head_ = HttpHead{};
  body_.clear();
  chunk_left_ = 0;
  trailer_bytes_ = 0;
  head_scanned_ = 0;
  error_ = HttpReadError{};
}

}  // namespace frugal

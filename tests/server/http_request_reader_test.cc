// HttpRequestReader: framing, limits and the status each malformed request gets; bytes arriving one
// at a time; pipelined requests; the normalized request handed to cpp-httplib.
#include "server/http_request_reader.h"

#include <gtest/gtest.h>

#include "server/json_limits.h"

namespace frugal {
namespace {

using Progress = HttpRequestReader::Progress;

HttpRequestLimits small_limits() {
  HttpRequestLimits limits;
  limits.max_head_bytes = 1024;
  limits.max_target_bytes = 256;
  limits.max_headers = 8;
  limits.max_body_bytes = 100;
  return limits;
}

// The status a request is refused with (0 when it is accepted or incomplete).
int refusal(const std::string& bytes) {
  HttpRequestReader reader(small_limits());
  return reader.feed(bytes) == Progress::kError ? reader.error().http_status : 0;
}

TEST(HttpRequestReader, ReadsARequestArrivingOneByteAtATime) {
  const std::string request = "POST /v1/completions?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello";
  HttpRequestReader reader(small_limits());
  EXPECT_FALSE(reader.started());
  for (size_t byte_idx = 0; byte_idx + 1 < request.size(); ++byte_idx) {
    ASSERT_EQ(reader.feed(request.substr(byte_idx, 1)), Progress::kNeedMore) << byte_idx;
    EXPECT_TRUE(reader.started());
  }
  ASSERT_EQ(reader.feed(request.substr(request.size() - 1)), Progress::kComplete);
  EXPECT_EQ(reader.head().method, "POST");
  EXPECT_EQ(reader.head().path, "/v1/completions");
  EXPECT_EQ(reader.head().target, "/v1/completions?x=1");
  EXPECT_EQ(reader.head().header("host"), "a");
  EXPECT_TRUE(reader.head().keep_alive);
  EXPECT_EQ(reader.body(), "hello");
}

TEST(HttpRequestReader, PipelinedRequestsComeOutOneByOne) {
  HttpRequestReader reader(small_limits());
  ASSERT_EQ(reader.feed("GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nokGET /c HTTP/1.0\r\n\r\n"),
            Progress::kComplete);
  EXPECT_EQ(reader.head().path, "/a");
  reader.next_request();
  ASSERT_EQ(reader.parse(), Progress::kComplete);
  EXPECT_EQ(reader.head().path, "/b");
  EXPECT_EQ(reader.body(), "ok");
  reader.next_request();
  ASSERT_EQ(reader.parse(), Progress::kComplete);
  EXPECT_EQ(reader.head().path, "/c");
  EXPECT_FALSE(reader.head().keep_alive) << "HTTP/1.0 closes unless asked to keep alive";
  reader.next_request();
  EXPECT_EQ(reader.parse(), Progress::kNeedMore);
  EXPECT_EQ(reader.buffered_bytes(), 0u);
}

TEST(HttpRequestReader, ChunkedBodiesAreDecodedAndBounded) {
  HttpRequestReader reader(small_limits());
  ASSERT_EQ(reader.feed("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n"
                        "0\r\nTrailer: x\r\n\r\n"),
            Progress::kComplete);
  EXPECT_EQ(reader.body(), "hello world");
  EXPECT_EQ(reader.normalized(), "POST /x HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world");
  // A chunk that would take the body past the limit is refused before its bytes arrive.
  EXPECT_EQ(refusal("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n"), 413);
  EXPECT_EQ(refusal("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n"), 400);
  EXPECT_EQ(refusal("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), 400);
  EXPECT_EQ(refusal("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY"), 400) << "no CRLF after data";
  // Many small chunks add up.
  std::string many = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int chunk_idx = 0; chunk_idx < 101; ++chunk_idx) many += "1\r\na\r\n";
  EXPECT_EQ(refusal(many), 413);
}

TEST(HttpRequestReader, ContentLengthMustBePlainDigitsWithinTheLimit) {
  EXPECT_EQ(refusal("POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400);
  EXPECT_EQ(refusal("POST /x HTTP/1.1\r\nContent-Length: +5\r\n\r\n"), 400);
  EXPECT_EQ(refusal("POST /x HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n"), 400);
  EXPECT_EQ(refusal("POST /x HTTP/1.1\r\nContent-Length: abc\r\n\r\n"), 400);
  EXPECT_EQ(refusal("POST /x HTTP/1.1\r\nContent-Length: \r\n\r\n"), 400);
  EXPECT_EQ(refusal("POST /x HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n"), 400);
  EXPECT_EQ(refusal("POST /x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"), 400);
  EXPECT_EQ(refusal("POST /x HTTP/1.1\r\nContent-Length: 101\r\n\r\n"), 413) << "refused from the head alone";
  EXPECT_EQ(refusal("POST /x HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
  EXPECT_EQ(refusal("POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"), 501);
  EXPECT_EQ(refusal("POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
  EXPECT_EQ(refusal("POST /x HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: 1\r\n\r\nx"), 415);
  EXPECT_EQ(refusal("POST /x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"), 0) << "repeats agree";
}

TEST(HttpRequestReader, MalformedHeadsGetTheirStatus) {
  EXPECT_EQ(refusal("GARBAGE\r\n\r\n"), 400);
  EXPECT_EQ(refusal("GET  / HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(refusal("GET http://evil/ HTTP/1.1\r\n\r\n"), 400) << "origin-form targets only";
  EXPECT_EQ(refusal("G(T / HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(refusal("GET / HTTP/2.0\r\n\r\n"), 505);
  EXPECT_EQ(refusal("GET / HTTQ/1.1\r\n\r\n"), 400);
  EXPECT_EQ(refusal("GET /" + std::string(300, 'a') + " HTTP/1.1\r\n\r\n"), 414);
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nX-Long: " + std::string(2000, 'a') + "\r\n\r\n"), 431);
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nX-Long: " + std::string(2000, 'a')), 431) << "no end of head in sight";
  std::string many = "GET / HTTP/1.1\r\n";
  for (int header_idx = 0; header_idx < 9; ++header_idx) many += "X-" + std::to_string(header_idx) + ": 1\r\n";
  EXPECT_EQ(refusal(many + "\r\n"), 431);
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n"), 400);
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nBad Name: a\r\n\r\n"), 400);
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nX: a\x01" "b\r\n\r\n"), 400);
  constexpr char kNul[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
  EXPECT_EQ(refusal(std::string(kNul, sizeof(kNul) - 1)), 400);
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nExpect: something\r\n\r\n"), 417);
  EXPECT_EQ(refusal("GET / HTTP/1.1\nHost: lf-only\n\n"), 0) << "bare LF line ends are tolerated";
}

TEST(JsonLimits, CountsNestingOutsideStrings) {
  EXPECT_EQ(json_nesting_depth(R"({"a": [1, {"b": []}]})"), 4u);
  EXPECT_EQ(json_nesting_depth(R"({"a": "[[[[[[", "b": "\"[[["})"), 1u);
  EXPECT_EQ(json_nesting_depth("[]]]]]"), 1u) << "stray closers do not go negative";
  const std::string deep = "{\"prompt\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_EQ(json_nesting_depth(deep), 100001u);
  EXPECT_TRUE(check_json_depth(deep).has_value());
  EXPECT_FALSE(check_json_depth(std::string(128, '[') + std::string(128, ']')).has_value());
  EXPECT_TRUE(check_json_depth(std::string(129, '[') + std::string(129, ']')).has_value());
}

}  // namespace
}  // namespace frugal

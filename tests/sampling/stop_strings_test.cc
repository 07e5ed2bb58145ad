// Tests StopStringMatcher: held-back prefixes, splits across pushes, overlaps, UTF-8, edge cases.
#include "sampling/stop_strings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace frugal {
namespace {

struct StreamResult {
  std::string emitted;
  bool stopped;
  std::string matched;
};

// Feeds `text` in chunks of `chunk_bytes` and flushes at the end.
StreamResult stream(const std::vector<std::string>& stops, const std::string& text, size_t chunk_bytes) {
  StopStringMatcher matcher(stops);
  std::string emitted;
  for (size_t offset = 0; offset < text.size(); offset += chunk_bytes) {
    emitted += matcher.push(std::string_view(text).substr(offset, chunk_bytes));
  }
  emitted += matcher.flush();
  return {emitted, matcher.stopped(), matcher.matched()};
}

TEST(StopStrings, NoStopsPassesEverythingThroughImmediately) {
  StopStringMatcher matcher({});
  EXPECT_EQ(matcher.push("Hello <|"), "Hello <|");
  EXPECT_EQ(matcher.flush(), "");
  EXPECT_FALSE(matcher.stopped());
  StopStringMatcher only_empty({""});
  EXPECT_EQ(only_empty.push("abc"), "abc");
  EXPECT_FALSE(only_empty.stopped());
}

TEST(StopStrings, HoldsBackPossiblePrefixAndReleasesIt) {
  StopStringMatcher matcher({"</end>"});
  EXPECT_EQ(matcher.push("Hello </"), "Hello ");
  EXPECT_EQ(matcher.push("en"), "");
  EXPECT_EQ(matcher.push("x"), "</enx");  // no longer a prefix: released
  EXPECT_EQ(matcher.push(" <"), " ");
  EXPECT_EQ(matcher.flush(), "<");
  EXPECT_FALSE(matcher.stopped());
  EXPECT_EQ(matcher.matched(), "");
}

TEST(StopStrings, StopSplitAcrossManyPushes) {
  StopStringMatcher matcher({"STOP"});
  EXPECT_EQ(matcher.push("abcS"), "abc");
  EXPECT_EQ(matcher.push("T"), "");
  EXPECT_EQ(matcher.push("O"), "");
  EXPECT_EQ(matcher.push("Ptail"), "");
  EXPECT_TRUE(matcher.stopped());
  EXPECT_EQ(matcher.matched(), "STOP");
  EXPECT_EQ(matcher.push("more"), "");
  EXPECT_EQ(matcher.flush(), "");
}

TEST(StopStrings, ResultIndependentOfChunking) {
  const std::vector<std::string> stops = {"abcd", "bc", "zz"};
  const std::string text = "xxabcdyy";
  for (size_t chunk : {1u, 2u, 3u, 100u}) {
    const StreamResult result = stream(stops, text, chunk);
    // "bc" completes (at offset 5) before "abcd" would (offset 6).
    EXPECT_EQ(result.emitted, "xxa") << chunk;
    EXPECT_TRUE(result.stopped);
    EXPECT_EQ(result.matched, "bc");
  }
}

TEST(StopStrings, OverlappingStopsSameEndLongestWins) {
  for (size_t chunk : {1u, 4u, 100u}) {
    const StreamResult result = stream({"lo", "hello"}, "say hello world", chunk);
    EXPECT_EQ(result.emitted, "say ") << chunk;
    EXPECT_EQ(result.matched, "hello");
  }
}

TEST(StopStrings, SelfOverlappingStop) {
  // "aab" inside "aaab": the held-back "aa" must slide, not reset.
  for (size_t chunk : {1u, 2u, 100u}) {
    const StreamResult result = stream({"aab"}, "xaaab!", chunk);
    EXPECT_EQ(result.emitted, "xa") << chunk;
    EXPECT_TRUE(result.stopped);
  }
}

TEST(StopStrings, MultiByteUtf8Stop) {
  const std::string stop = "\xE3\x80\x82\xE7\xB5\x82";  // "。終"
  const std::string text = "\xE6\x97\xA5\xE6\x9C\xAC" + stop + "\xE8\xAA\x9E";
  for (size_t chunk : {1u, 2u, 5u, 100u}) {
    const StreamResult result = stream({stop}, text, chunk);
    EXPECT_EQ(result.emitted, "\xE6\x97\xA5\xE6\x9C\xAC") << chunk;
    EXPECT_TRUE(result.stopped);
    EXPECT_EQ(result.matched, stop);
  }
  // A partial multi-byte prefix at the end is held back, then released by flush.
  StopStringMatcher matcher({stop});
  EXPECT_EQ(matcher.push("ok\xE3\x80"), "ok");
  EXPECT_EQ(matcher.flush(), "\xE3\x80");
}

TEST(StopStrings, StopAtVeryStart) {
  StopStringMatcher matcher({"<|eot|>"});
  EXPECT_EQ(matcher.push("<|eot|>after"), "");
  EXPECT_TRUE(matcher.stopped());
  EXPECT_EQ(matcher.matched(), "<|eot|>");
}

TEST(StopStrings, NoStopInTextEmitsAll) {
  const StreamResult result = stream({"###", "User:"}, "plain text # with ## hashes and Use", 3);
  EXPECT_EQ(result.emitted, "plain text # with ## hashes and Use");
  EXPECT_FALSE(result.stopped);
}

}  // namespace
}  // namespace frugal

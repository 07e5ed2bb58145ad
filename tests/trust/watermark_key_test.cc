// The key file (strict format, created 0600 when missing, never replaced) and the payload hash.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "trust/watermark_key.h"
#include "watermark_test_util.h"

namespace frugal::trust {
namespace {

std::string scratch(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("frugal_wm_key_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

TEST(WatermarkKey, CreatedOnceThenLoaded) {
  const std::string path = scratch("sub/dir/watermark.key");
  std::filesystem::remove(path);
  bool created = false;
  auto first = load_or_create_watermark_key(path, &created);
  ASSERT_TRUE(first.has_value()) << first.error().to_string();
  EXPECT_TRUE(created);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto second = load_or_create_watermark_key(path, &created);
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(created);
  EXPECT_EQ(first->bytes, second->bytes);
  std::filesystem::remove_all(std::filesystem::path(path).parent_path().parent_path());
}

TEST(WatermarkKey, MalformedFilesAreErrorsNeverReplaced) {
  const std::string path = scratch("bad.key");
  for (const std::string& text : std::vector<std::string>{"", "abc\n", std::string(63, 'a'), std::string(65, 'a'), std::string(63, 'a') + "g",
                                 std::string(64, 'a') + "\n\n"}) {
    std::ofstream(path) << text;
    auto key = load_watermark_key(path);
    ASSERT_FALSE(key.has_value()) << "\"" << text << "\"";
    EXPECT_EQ(key.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(key.error().message().find(path), std::string::npos);
    bool created = true;
    EXPECT_FALSE(load_or_create_watermark_key(path, &created).has_value());
    EXPECT_FALSE(created);
  }
  std::ofstream(path) << std::string(64, 'F') << "\n";
  auto key = load_watermark_key(path);
  ASSERT_TRUE(key.has_value());
  for (uint8_t b : key->bytes) EXPECT_EQ(b, 0xff);
  EXPECT_EQ(load_watermark_key("/nonexistent/wm.key").error().code(), StatusCode::kNotFound);
  std::filesystem::remove(path);
}

TEST(WatermarkKey, PayloadIsAKeyedHashOfTheJobId) {
  const WatermarkKey a = testing::test_key(1), b = testing::test_key(2);
  EXPECT_EQ(watermark_payload_for(a, "job-1"), watermark_payload_for(a, "job-1"));
  EXPECT_NE(watermark_payload_for(a, "job-1"), watermark_payload_for(a, "job-2"));
  EXPECT_NE(watermark_payload_for(a, "job-1"), watermark_payload_for(b, "job-1"));
  EXPECT_EQ(payload_hex(0x00ff00ff00ff00ffULL), "00ff00ff00ff00ff");
  // Python's hmac: hmac.new(bytes((1 + 31 * i) & 255 for i in range(32)),
  //   b"frugal-watermark-payload:job-1", hashlib.sha256).hexdigest()[:16]
  EXPECT_EQ(payload_hex(watermark_payload_for(a, "job-1")), "b5bef3e970d7a02d");
}

}  // namespace
}  // namespace frugal::trust

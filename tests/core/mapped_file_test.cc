// MappedFile::release_pages: the released pages leave this process's resident set (RssFile in
// /proc/self/status) and read back unchanged from the file; borrowed buffers and ranges outside
// the mapping are left alone.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/mapped_file.h"

namespace frugal {
namespace {

// This process's file-backed resident memory, in KiB.
int64_t rss_file_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("RssFile:", 0) == 0) return std::stoll(line.substr(8));
  }
  return -1;
}

uint8_t pattern(size_t i) { return static_cast<uint8_t>((i * 131) ^ (i >> 12)); }

TEST(MappedFile, ReleasedPagesLeaveTheResidentSetAndReadBackUnchanged) {
  constexpr size_t kBytes = 8 << 20;
  const std::string path =
      (std::filesystem::temp_directory_path() / ("frugal_mapped_" + std::to_string(::getpid()))).string();
  {
    std::vector<uint8_t> bytes(kBytes);
    for (size_t i = 0; i < kBytes; ++i) bytes[i] = pattern(i);
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), kBytes);
  }
  auto file = MappedFile::open(path);
  ASSERT_TRUE(file) << file.error().to_string();
  uint64_t sum = 0;
  for (size_t i = 0; i < kBytes; i += 512) sum += file->data()[i];  // fault every page in
  ASSERT_GT(sum, 0u);
  const int64_t before = rss_file_kib();
  ASSERT_GT(before, 0) << "no RssFile in /proc/self/status";
  file->release_pages(file->data() + (1 << 20) + 100, 6 << 20);  // ~6 MiB, unaligned ends
  const int64_t after = rss_file_kib();
  EXPECT_LE(after, before - 5 * 1024) << "RssFile " << before << " KiB -> " << after << " KiB";
  for (size_t i = 0; i < kBytes; ++i) ASSERT_EQ(file->data()[i], pattern(i)) << "byte " << i;
  // Out of range and null: nothing happens.
  file->release_pages(file->data() + kBytes - 10, 20);
  file->release_pages(nullptr, 4096);
  std::filesystem::remove(path);
}

TEST(MappedFile, BorrowedBuffersAreNeverReleased) {
  std::vector<uint8_t> buffer(1 << 16, 7);
  const MappedFile borrowed = MappedFile::borrow(buffer.data(), buffer.size());
  borrowed.release_pages(buffer.data(), buffer.size());
  for (uint8_t b : buffer) ASSERT_EQ(b, 7);
}

}  // namespace
}  // namespace frugal

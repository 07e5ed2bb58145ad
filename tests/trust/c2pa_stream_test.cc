// The streaming C2PA embed (trust/bmff_stream.h): the same bytes as the in-memory embed, and a
// large file embedded under an address-space cap far below its size — the file is never held whole.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "media/mp4_writer.h"
#include "trust/c2pa_test_util.h"
#include "trust/bmff.h"
#include "trust/bmff_stream.h"
#include "trust/c2pa_manifest.h"
#include "trust/signing_credentials.h"

namespace frugal::trust {
namespace {

namespace fs = std::filesystem;

using c2pa_test::make_mp4;
using c2pa_test::read_bytes;

std::string temp_dir(const std::string& name) { return c2pa_test::temp_dir("c2pa_stream", name); }

// The C2PA box's payload after its hash field differs run to run (a fresh manifest id and ECDSA
// nonce); everything outside the box, and the box's size, must be what the in-memory path writes.
TEST(C2paStream, FileEmbedWritesWhatTheInMemoryEmbedWrites) {
  const std::string dir = temp_dir("same");
  const std::string mp4 = make_mp4(dir);
  bool created = false;
  auto creds = ensure_dev_credentials(dir, &created);
  ASSERT_TRUE(creds.has_value());
  const ProvenanceInfo info{"test", "tiny-model", "clip.mp4", WatermarkBinding{"org.frugal.test", {0xde, 0xad}}};
  const std::vector<uint8_t> before = read_bytes(mp4);
  auto in_memory = embed_c2pa(before, info, *creds);
  ASSERT_TRUE(in_memory.has_value()) << in_memory.error().to_string();
  ASSERT_TRUE(embed_c2pa_file(mp4, info, *creds).is_ok());
  const std::vector<uint8_t> streamed = read_bytes(mp4);
  ASSERT_EQ(streamed.size(), in_memory->size());
  auto boxes = top_level_boxes(streamed);
  ASSERT_TRUE(boxes.has_value());
  ASSERT_TRUE((*boxes)[1].c2pa);
  const size_t lo = (*boxes)[1].offset, hi = lo + (*boxes)[1].size;
  EXPECT_TRUE(std::equal(streamed.begin(), streamed.begin() + lo, in_memory->begin()));
  EXPECT_TRUE(std::equal(streamed.begin() + hi, streamed.end(), in_memory->begin() + hi));
  EXPECT_EQ(*bmff_hash(streamed), *bmff_hash(*in_memory));
  EXPECT_FALSE(fs::exists(mp4 + ".c2pa"));
  // Errors keep the file as it was and leave no temporary behind.
  EXPECT_FALSE(embed_c2pa_file(mp4, info, *creds).is_ok());  // already signed
  EXPECT_EQ(read_bytes(mp4), streamed);
  EXPECT_FALSE(fs::exists(mp4 + ".c2pa"));
  EXPECT_EQ(embed_c2pa_file(dir + "/missing.mp4", info, *creds).code(), StatusCode::kNotFound);
}

size_t vm_size_bytes() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmSize:") {
      size_t kb = 0;
      in >> kb;
      return kb * 1024;
    }
  }
  return 0;
}

// A 256 MiB MP4 (the real clip plus a sparse trailing `free` box, so it costs no disk until copied)
// embedded in a child process whose address space may grow by 64 MiB only: the old whole-file embed
// needs over 512 MiB (the input and the output), the streaming one moov + two 1 MiB chunks. The
// child first checks that the cap bites (a file-sized allocation must fail).
TEST(C2paStream, LargeFileEmbedsInBoundedMemory_slow) {
  const std::string dir = temp_dir("large");
  const std::string mp4 = make_mp4(dir);
  bool created = false;
  auto creds = ensure_dev_credentials(dir, &created);
  ASSERT_TRUE(creds.has_value());
  const uint64_t small = fs::file_size(mp4);
  const uint64_t free_size = (256ULL << 20) - small;
  {
    std::ofstream out(mp4, std::ios::binary | std::ios::app);
    const uint8_t header[8] = {static_cast<uint8_t>(free_size >> 24), static_cast<uint8_t>(free_size >> 16),
                               static_cast<uint8_t>(free_size >> 8), static_cast<uint8_t>(free_size), 'f', 'r', 'e', 'e'};
    out.write(reinterpret_cast<const char*>(header), 8);
  }
  fs::resize_file(mp4, small + free_size);
  const ProvenanceInfo info{"test", "tiny-model", "large.mp4", std::nullopt};
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const rlim_t cap = vm_size_bytes() + (64ULL << 20);
    const struct rlimit limit = {cap, cap};
    if (::setrlimit(RLIMIT_AS, &limit) != 0) ::_exit(10);
    try {
      std::vector<uint8_t> whole(small + free_size, 1);
      ::_exit(11);  // the cap did not bite: the test would prove nothing
    } catch (const std::bad_alloc&) {
    }
    ::_exit(embed_c2pa_file(mp4, info, *creds).is_ok() ? 0 : 12);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "the child died (signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0) << ")";
  ASSERT_EQ(WEXITSTATUS(status), 0) << "10: setrlimit failed, 11: the cap did not bite, 12: the embed failed";
  auto source = FileSource::open(mp4);
  ASSERT_TRUE(source.has_value());
  auto boxes = top_level_boxes(*source);
  ASSERT_TRUE(boxes.has_value());
  ASSERT_GE(boxes->size(), 4u);
  EXPECT_EQ((*boxes)[0].type, "ftyp");
  EXPECT_TRUE((*boxes)[1].c2pa);
  EXPECT_EQ(boxes->back().type, "free");
  EXPECT_EQ(source->size(), small + free_size + (*boxes)[1].size);
  fs::remove_all(dir);
}

// Corrupted files (random bytes overwritten in the box headers and the moov tables of a real clip):
// planning and writing either succeed with the planned size or fail with a clear code, never crash,
// and the file source agrees with the memory source.
TEST(C2paStream, CorruptedBoxesAreErrorsNotCrashes) {
  const std::string dir = temp_dir("corrupt");
  const std::vector<uint8_t> clean = read_bytes(make_mp4(dir));
  auto boxes = top_level_boxes(clean);
  ASSERT_TRUE(boxes.has_value());
  uint64_t moov_end = 0;
  for (const TopBox& b : *boxes) {
    if (b.type == "moov") moov_end = b.offset + b.size;
  }
  ASSERT_GT(moov_end, 0u);
  std::mt19937 rng(7);
  int planned = 0, refused = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<uint8_t> file = clean;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) file[rng() % moov_end] = static_cast<uint8_t>(rng());
    const std::string path = dir + "/corrupt.mp4";
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(file.data()),
                                                                  static_cast<std::streamsize>(file.size()));
    const SpanSource memory(file);
    auto from_memory = plan_insert_after_ftyp(memory, 1000);
    auto source = FileSource::open(path);
    ASSERT_TRUE(source.has_value());
    auto from_file = plan_insert_after_ftyp(*source, 1000);
    ASSERT_EQ(from_memory.has_value(), from_file.has_value());
    if (!from_memory) {
      const StatusCode code = from_memory.error().code();
      EXPECT_TRUE(code == StatusCode::kDataLoss || code == StatusCode::kInvalidArgument || code == StatusCode::kOutOfRange)
          << from_memory.error().to_string();
      EXPECT_EQ(code, from_file.error().code());
      ++refused;
      continue;
    }
    EXPECT_EQ(*planned_bmff_hash(memory, *from_memory), *planned_bmff_hash(*source, *from_file));
    uint64_t written = 0;
    const std::vector<uint8_t> box(1000, 0);
    ASSERT_TRUE(write_planned(memory, *from_memory, box, [&](std::span<const uint8_t> bytes) {
                  written += bytes.size();
                  return Status::ok();
                }).is_ok());
    EXPECT_EQ(written, file.size() + 1000);
    ++planned;
  }
  std::printf("300 corrupted clips: %d planned, %d refused\n", planned, refused);
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace frugal::trust

// Streaming ISO BMFF edits for C2PA (trust layer): insert a box after `ftyp`, hash the result as
// c2pa.hash.bmff.v3 defines it, and write it out — without holding the file in memory. Only the
// `moov` box (the sample tables: kilobytes per minute of video) is read whole, to shift its chunk
// offsets; every other box is read and hashed or copied in chunks of kBmffChunk bytes. So embedding
// a manifest in a file of any size needs about moov + 2 × kBmffChunk bytes
// (tests/trust/c2pa_stream_test.cc proves the bound under an address-space cap).
// Threading: a source is read-only after open and may be shared; a plan is a value.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/expected.h"
#include "core/status.h"
#include "trust/bmff.h"

namespace frugal::trust {

inline constexpr size_t kBmffChunk = 1 << 20;  // bytes per read while hashing or copying

// Random-access bytes: read(offset, out) fills all of `out` or fails (kDataLoss past the end).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  virtual Status read(uint64_t offset, std::span<uint8_t> out) const = 0;
};

class SpanSource final : public ByteSource {
 public:
  explicit SpanSource(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  uint64_t size() const override { return bytes_.size(); }
  Status read(uint64_t offset, std::span<uint8_t> out) const override;

 private:
  std::span<const uint8_t> bytes_;
};

// A file read with pread(2); the descriptor closes with the object.
class FileSource final : public ByteSource {
 public:
  static Expected<FileSource> open(const std::string& path);  // kNotFound when it cannot be opened
  FileSource(FileSource&& other) noexcept : fd_(std::exchange(other.fd_, -1)), size_(other.size_) {}
  FileSource& operator=(FileSource&&) = delete;
  ~FileSource() override;
  uint64_t size() const override { return size_; }
  Status read(uint64_t offset, std::span<uint8_t> out) const override;

 private:
  FileSource(int fd, uint64_t size) : fd_(fd), size_(size) {}
  int fd_ = -1;
  uint64_t size_ = 0;
};

// The top-level boxes from their headers alone (kDataLoss as top_level_boxes(span)).
Expected<std::vector<TopBox>> top_level_boxes(const ByteSource& source);

// The input with `insert_size` bytes inserted right after its leading ftyp, described, not built:
// the input's boxes and each moov with its chunk offsets already shifted by insert_size.
struct InsertPlan {
  std::vector<TopBox> boxes;                                  // the input's top-level boxes
  uint64_t insert_size = 0;
  std::vector<std::pair<size_t, std::vector<uint8_t>>> moov;  // (index in boxes, shifted bytes)
};
// Errors as insert_after_ftyp: no leading ftyp or an existing C2PA box is kInvalidArgument,
// malformed boxes kDataLoss, a 32-bit stco overflow kOutOfRange.
Expected<InsertPlan> plan_insert_after_ftyp(const ByteSource& source, uint64_t insert_size);
// c2pa.hash.bmff.v3 of the planned output; the inserted box is a C2PA box the hash excludes, so its
// content is not needed.
Expected<std::vector<uint8_t>> planned_bmff_hash(const ByteSource& source, const InsertPlan& plan);
// Streams the planned output to `sink` in order: ftyp, `box` (plan.insert_size bytes), the rest.
Status write_planned(const ByteSource& source, const InsertPlan& plan, std::span<const uint8_t> box,
                     const std::function<Status(std::span<const uint8_t>)>& sink);

}  // namespace frugal::trust

#include "trust/bmff_stream.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

namespace frugal::trust {
namespace {

uint64_t get_be(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

void put_be(uint8_t* p, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) p[n - 1 - i] = static_cast<uint8_t>(v >> (8 * i));
}

using Digest = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

// Feeds bytes [offset, offset + length) of `source` to `consume` in kBmffChunk pieces (one buffer).
Status for_each_chunk(const ByteSource& source, uint64_t offset, uint64_t length, std::vector<uint8_t>& buffer,
                      const std::function<Status(std::span<const uint8_t>)>& consume) {
  buffer.resize(kBmffChunk);
  while (length > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(length, kBmffChunk));
    if (Status st = source.read(offset, std::span<uint8_t>(buffer.data(), n)); !st) return st;
    if (Status st = consume(std::span<const uint8_t>(buffer.data(), n)); !st) return st;
    offset += n;
    length -= n;
  }
  return Status::ok();
}

const std::vector<uint8_t>* rewritten(const InsertPlan& plan, size_t index) {
  for (const auto& [at, bytes] : plan.moov) {
    if (at == index) return &bytes;
  }
  return nullptr;
}

}  // namespace

Status SpanSource::read(uint64_t offset, std::span<uint8_t> out) const {
  if (offset > bytes_.size() || out.size() > bytes_.size() - offset) return data_loss("MP4: read past the end");
  if (!out.empty()) std::memcpy(out.data(), bytes_.data() + offset, out.size());
  return Status::ok();
}

Expected<FileSource> FileSource::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return not_found("cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return invalid_argument(path + " is not a regular file");
  }
  return FileSource(fd, static_cast<uint64_t>(st.st_size));
}

FileSource::~FileSource() {
  if (fd_ >= 0) ::close(fd_);
}

Status FileSource::read(uint64_t offset, std::span<uint8_t> out) const {
  if (offset > size_ || out.size() > size_ - offset) return data_loss("MP4: read past the end");
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return data_loss(std::string("MP4: read failed: ") + (n < 0 ? std::strerror(errno) : "file shrank"));
    done += static_cast<size_t>(n);
  }
  return Status::ok();
}

Expected<std::vector<TopBox>> top_level_boxes(const ByteSource& source) {
  std::vector<TopBox> boxes;
  const uint64_t end = source.size();
  uint64_t pos = 0;
  while (pos < end) {
    uint8_t head[24] = {};  // size, type, and a uuid's extended type (or a 64-bit size)
    const uint64_t avail = std::min<uint64_t>(sizeof(head), end - pos);
    if (avail < 8) return data_loss("MP4: malformed top-level box at offset " + std::to_string(pos));
    if (Status st = source.read(pos, std::span<uint8_t>(head, avail)); !st) return st;
    TopBox box;
    box.offset = pos;
    box.type.assign(reinterpret_cast<const char*>(head + 4), 4);
    box.size = get_be(head, 4);
    uint64_t header = 8;
    if (box.size == 1) {
      if (avail < 16) return data_loss("MP4: malformed top-level box at offset " + std::to_string(pos));
      box.size = get_be(head + 8, 8);
      header = 16;
    } else if (box.size == 0) {
      box.size = end - pos;
    }
    if (box.size < header || box.size > end - pos) {
      return data_loss("MP4: malformed top-level box at offset " + std::to_string(pos));
    }
    box.c2pa = box.type == "uuid" && header == 8 && box.size >= 24 && avail >= 24 &&
               std::memcmp(head + 8, kC2paUuid.data(), kC2paUuid.size()) == 0;
    boxes.push_back(box);
    pos += box.size;
  }
  return boxes;
}

Expected<InsertPlan> plan_insert_after_ftyp(const ByteSource& source, uint64_t insert_size) {
  auto boxes = top_level_boxes(source);
  if (!boxes) return boxes.error();
  if (boxes->empty() || boxes->front().type != "ftyp") return invalid_argument("MP4: the file does not start with ftyp");
  InsertPlan plan;
  plan.insert_size = insert_size;
  for (size_t i = 0; i < boxes->size(); ++i) {
    const TopBox& b = (*boxes)[i];
    if (b.c2pa) return invalid_argument("MP4: the file already carries a C2PA manifest box");
    if (b.type != "moov") continue;
    std::vector<uint8_t> bytes(static_cast<size_t>(b.size));
    if (Status st = source.read(b.offset, bytes); !st) return st;
    if (Status st = shift_chunk_offsets(bytes, insert_size); !st) return st;
    plan.moov.emplace_back(i, std::move(bytes));
  }
  plan.boxes = std::move(*boxes);
  return plan;
}

Expected<std::vector<uint8_t>> planned_bmff_hash(const ByteSource& source, const InsertPlan& plan) {
  Digest ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) return internal_error("SHA-256 init failed");
  std::vector<uint8_t> buffer;
  const auto update = [&](std::span<const uint8_t> bytes) {
    EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size());
    return Status::ok();
  };
  for (size_t i = 0; i < plan.boxes.size(); ++i) {
    const TopBox& box = plan.boxes[i];
    if (bmff_hash_excludes(box)) continue;  // ftyp and mfra; the inserted C2PA box is not in the list
    uint8_t offset_be[8];
    put_be(offset_be, box.offset + (i == 0 ? 0 : plan.insert_size), 8);  // its offset in the output
    EVP_DigestUpdate(ctx.get(), offset_be, sizeof(offset_be));
    if (const std::vector<uint8_t>* moov = rewritten(plan, i)) {
      EVP_DigestUpdate(ctx.get(), moov->data(), moov->size());
    } else if (Status st = for_each_chunk(source, box.offset, box.size, buffer, update); !st) {
      return st;
    }
  }
  std::vector<uint8_t> digest(32);
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest.data(), &len) != 1 || len != 32) return internal_error("SHA-256 failed");
  return digest;
}

Status write_planned(const ByteSource& source, const InsertPlan& plan, std::span<const uint8_t> box,
                     const std::function<Status(std::span<const uint8_t>)>& sink) {
  if (box.size() != plan.insert_size) return invalid_argument("MP4: the box to insert is not the planned size");
  std::vector<uint8_t> buffer;
  for (size_t i = 0; i < plan.boxes.size(); ++i) {
    const TopBox& b = plan.boxes[i];
    if (const std::vector<uint8_t>* moov = rewritten(plan, i)) {
      if (Status st = sink(*moov); !st) return st;
    } else if (Status st = for_each_chunk(source, b.offset, b.size, buffer, sink); !st) {
      return st;
    }
    if (i == 0) {
      if (Status st = sink(box); !st) return st;
    }
  }
  return Status::ok();
}

}  // namespace frugal::trust

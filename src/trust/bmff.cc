#include "trust/bmff.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "trust/bmff_stream.h"

namespace frugal::trust {

namespace {

uint64_t get_be(std::span<const uint8_t> b, size_t pos, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | b[pos + i];
  return v;
}

void put_be(uint8_t* p, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) p[n - 1 - i] = static_cast<uint8_t>(v >> (8 * i));
}

// Box header at `pos` within [pos, end): fills size/header length; false when malformed.
bool read_header(std::span<const uint8_t> b, uint64_t pos, uint64_t end, uint64_t& size, uint64_t& header,
                 std::string& type) {
  if (end - pos < 8) return false;
  size = get_be(b, pos, 4);
  type.assign(reinterpret_cast<const char*>(b.data() + pos + 4), 4);
  header = 8;
  if (size == 1) {
    if (end - pos < 16) return false;
    size = get_be(b, pos + 8, 8);
    header = 16;
  } else if (size == 0) {
    size = end - pos;  // to the end of the enclosing space
  }
  return size >= header && size <= end - pos;
}

// Adds `delta` to every chunk offset under the container box payload [begin, end).
Status shift_offsets(std::span<uint8_t> b, uint64_t begin, uint64_t end, uint64_t delta) {
  static constexpr const char* kContainers[] = {"moov", "trak", "mdia", "minf", "stbl", "edts", "dinf"};
  uint64_t pos = begin;
  while (pos < end) {
    uint64_t size = 0, header = 0;
    std::string type;
    if (!read_header(b, pos, end, size, header, type)) return data_loss("MP4: malformed box inside moov");
    const uint64_t payload = pos + header;
    if (type == "stco" || type == "co64") {
      const int width = type == "stco" ? 4 : 8;
      if (size < header + 8) return data_loss("MP4: truncated " + type);
      const uint64_t count = get_be(b, payload + 4, 4);
      if (count > (size - header - 8) / width) return data_loss("MP4: " + type + " entry count past its box");
      for (uint64_t i = 0; i < count; ++i) {
        const uint64_t at = payload + 8 + i * width;
        const uint64_t v = get_be(b, at, width) + delta;
        if (width == 4 && v > 0xffffffffULL) return out_of_range("MP4: stco offset overflows 32 bits");
        put_be(b.data() + at, v, width);
      }
    } else if (std::any_of(std::begin(kContainers), std::end(kContainers), [&](const char* c) { return type == c; })) {
      if (Status st = shift_offsets(b, payload, pos + size, delta); !st) return st;
    }
    pos += size;
  }
  return Status::ok();
}

}  // namespace

Expected<std::vector<TopBox>> top_level_boxes(std::span<const uint8_t> file) {
  return top_level_boxes(SpanSource(file));
}

Status shift_chunk_offsets(std::span<uint8_t> moov, uint64_t delta) {
  uint64_t size = 0, header = 0;
  std::string type;
  if (!read_header(moov, 0, moov.size(), size, header, type) || type != "moov" || size != moov.size()) {
    return data_loss("MP4: malformed moov box");
  }
  return shift_offsets(moov, header, size, delta);
}

bool bmff_hash_excludes(const TopBox& box) { return box.c2pa || box.type == "ftyp" || box.type == "mfra"; }

Expected<std::vector<uint8_t>> bmff_hash(std::span<const uint8_t> file) {
  const SpanSource source(file);
  auto boxes = top_level_boxes(source);
  if (!boxes) return boxes.error();
  InsertPlan as_is;  // nothing inserted, nothing rewritten: the file's own boxes at their own offsets
  as_is.boxes = std::move(*boxes);
  return planned_bmff_hash(source, as_is);
}

std::vector<uint8_t> c2pa_uuid_box(std::span<const uint8_t> manifest_store) {
  static constexpr char kPurpose[] = "manifest";  // written with its NUL
  const uint64_t size = 8 + 16 + 4 + sizeof(kPurpose) + 8 + manifest_store.size();
  std::vector<uint8_t> out(size, 0);
  put_be(out.data(), size, 4);
  std::memcpy(out.data() + 4, "uuid", 4);
  std::memcpy(out.data() + 8, kC2paUuid.data(), 16);
  // version/flags (4 bytes) stay 0; purpose; merkle offset (8 bytes) stays 0.
  std::memcpy(out.data() + 28, kPurpose, sizeof(kPurpose));
  if (!manifest_store.empty()) {
    std::memcpy(out.data() + (size - manifest_store.size()), manifest_store.data(), manifest_store.size());
  }
  return out;
}

Expected<std::vector<uint8_t>> insert_after_ftyp(std::span<const uint8_t> file, std::span<const uint8_t> box) {
  const SpanSource source(file);
  auto plan = plan_insert_after_ftyp(source, box.size());
  if (!plan) return plan.error();
  std::vector<uint8_t> out;
  out.reserve(file.size() + box.size());
  const Status st = write_planned(source, *plan, box, [&](std::span<const uint8_t> bytes) {
    out.insert(out.end(), bytes.begin(), bytes.end());
    return Status::ok();
  });
  if (!st) return st;
  return out;
}

}  // namespace frugal::trust

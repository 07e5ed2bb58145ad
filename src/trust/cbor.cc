#include "trust/cbor.h"

namespace frugal::trust {

void CborWriter::head(uint8_t major, uint64_t value) {
  const uint8_t m = static_cast<uint8_t>(major << 5);
  if (value < 24) {
    out_.push_back(static_cast<uint8_t>(m | value));
    return;
  }
  int bytes = 8;
  uint8_t info = 27;
  if (value <= 0xff) {
    bytes = 1, info = 24;
  } else if (value <= 0xffff) {
    bytes = 2, info = 25;
  } else if (value <= 0xffffffffULL) {
    bytes = 4, info = 26;
  }
  out_.push_back(static_cast<uint8_t>(m | info));
  for (int i = bytes - 1; i >= 0; --i) out_.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

CborWriter& CborWriter::uint(uint64_t value) {
  head(0, value);
  return *this;
}

CborWriter& CborWriter::integer(int64_t value) {
  if (value >= 0) {
    head(0, static_cast<uint64_t>(value));
  } else {
    head(1, static_cast<uint64_t>(-(value + 1)));
  }
  return *this;
}

CborWriter& CborWriter::bytes(std::span<const uint8_t> value) {
  head(2, value.size());
  out_.insert(out_.end(), value.begin(), value.end());
  return *this;
}

CborWriter& CborWriter::text(std::string_view value) {
  head(3, value.size());
  out_.insert(out_.end(), value.begin(), value.end());
  return *this;
}

CborWriter& CborWriter::array(uint64_t count) {
  head(4, count);
  return *this;
}

CborWriter& CborWriter::map(uint64_t pairs) {
  head(5, pairs);
  return *this;
}

CborWriter& CborWriter::tag(uint64_t number) {
  head(6, number);
  return *this;
}

CborWriter& CborWriter::boolean(bool value) {
  out_.push_back(value ? 0xf5 : 0xf4);
  return *this;
}

CborWriter& CborWriter::null() {
  out_.push_back(0xf6);
  return *this;
}

CborWriter& CborWriter::raw(std::span<const uint8_t> encoded) {
  out_.insert(out_.end(), encoded.begin(), encoded.end());
  return *this;
}

}  // namespace frugal::trust

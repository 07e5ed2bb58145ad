// A small CBOR (RFC 8949) writer for C2PA claims, assertions and COSE structures (trust layer).
//
// Definite lengths only: the caller states each map's pair count and each array's item count up
// front, then writes that many items (a map's items alternate key, value). Integers use the
// shortest head, as RFC 8949 §4.2.1's preferred serialisation asks. Nothing here parses CBOR.
//
// Threading: a writer is a plain value; one thread at a time.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace frugal::trust {

class CborWriter {
 public:
  CborWriter& uint(uint64_t value);            // major type 0
  CborWriter& integer(int64_t value);          // major type 0 or 1 (negative)
  CborWriter& bytes(std::span<const uint8_t> value);  // major type 2
  CborWriter& text(std::string_view value);    // major type 3 (UTF-8, not checked)
  CborWriter& array(uint64_t count);           // major type 4: `count` items follow
  CborWriter& map(uint64_t pairs);             // major type 5: `pairs` key/value pairs follow
  CborWriter& tag(uint64_t number);            // major type 6: one item follows
  CborWriter& boolean(bool value);
  CborWriter& null();
  // Appends an already encoded CBOR item verbatim (e.g. a nested structure built elsewhere).
  CborWriter& raw(std::span<const uint8_t> encoded);

  const std::vector<uint8_t>& data() const { return out_; }
  std::vector<uint8_t> take() { return std::move(out_); }

 private:
  void head(uint8_t major, uint64_t value);
  std::vector<uint8_t> out_;
};

}  // namespace frugal::trust

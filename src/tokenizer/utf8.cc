// UTF-8 scanning helpers (tokenizer layer).
#include "tokenizer/utf8.h"

namespace frugal::utf8 {
namespace {

bool is_continuation(uint8_t byte) { return (byte & 0xC0) == 0x80; }

// Allowed range of the second byte for a lead byte (the Unicode table 3-7 of well-formed
// sequences): this is what rules out overlongs, surrogates and code points above U+10FFFF.
struct SecondByteRange {
  uint8_t lo;
  uint8_t hi;
};

SecondByteRange second_byte_range(uint8_t lead) {
  if (lead == 0xE0) return {0xA0, 0xBF};
  if (lead == 0xED) return {0x80, 0x9F};
  if (lead == 0xF0) return {0x90, 0xBF};
  if (lead == 0xF4) return {0x80, 0x8F};
  return {0x80, 0xBF};
}

}  // namespace

size_t lead_length(uint8_t lead) {
  static constexpr uint8_t kLengths[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLengths[lead >> 4];
}

SeqScan scan(std::string_view text) {
  const auto lead = static_cast<uint8_t>(text[0]);
  if (lead < 0x80) return {SeqKind::kValid, 1, lead};
  size_t need = 0;
  uint32_t cpt = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 2;
    cpt = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 3;
    cpt = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 4;
    cpt = lead & 0x07;
  } else {
    return {SeqKind::kInvalid, 1, 0};  // continuation byte, C0/C1 or F5..FF as a lead
  }
  const SecondByteRange range = second_byte_range(lead);
  for (size_t i = 1; i < need; ++i) {
    if (i >= text.size()) return {SeqKind::kIncomplete, i, 0};
    const auto byte = static_cast<uint8_t>(text[i]);
    const bool ok = (i == 1) ? (byte >= range.lo && byte <= range.hi) : is_continuation(byte);
    if (!ok) return {SeqKind::kInvalid, i, 0};
    cpt = (cpt << 6) | (byte & 0x3F);
  }
  return {SeqKind::kValid, need, cpt};
}

size_t sanitize_prefix(std::string_view text, bool final_chunk, std::string* out) {
  size_t pos = 0;
  while (pos < text.size()) {
    const SeqScan seq = scan(text.substr(pos));
    if (seq.kind == SeqKind::kValid) {
      out->append(text.data() + pos, seq.length);
    } else if (seq.kind == SeqKind::kInvalid || final_chunk) {
      out->append(kReplacement);
    } else {
      break;  // incomplete tail: wait for more bytes
    }
    pos += seq.length;
  }
  return pos;
}

std::string sanitize(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  sanitize_prefix(text, /*final_chunk=*/true, &out);
  return out;
}

bool is_valid(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    const SeqScan seq = scan(text.substr(pos));
    if (seq.kind != SeqKind::kValid) return false;
    pos += seq.length;
  }
  return true;
}

void append_cpt(uint32_t cpt, std::string* out) {
  if (cpt < 0x80) {
    out->push_back(static_cast<char>(cpt));
  } else if (cpt < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cpt >> 6)));
    out->push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  } else if (cpt < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cpt >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cpt >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cpt >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  }
}

}  // namespace frugal::utf8

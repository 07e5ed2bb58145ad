// GPT-2 bytes_to_unicode (tokenizer layer): printable Latin-1 bytes map to themselves, the other
// 68 bytes to U+0100 onwards in byte order, so every byte becomes a visible, non-space character.
#include "tokenizer/byte_unicode.h"

#include <array>

#include "tokenizer/utf8.h"

namespace frugal::byte_unicode {
namespace {

constexpr uint32_t kMaxMappedCpt = 0x100 + 68;  // the highest code point of the mapping is below this

struct Tables {
  std::array<std::string, 256> byte_to_utf8;
  std::array<int16_t, kMaxMappedCpt> cpt_to_byte;

  Tables() {
    cpt_to_byte.fill(-1);
    uint32_t next_extra = 0x100;
    for (uint32_t byte = 0; byte < 256; ++byte) {
      const bool printable = (byte >= 0x21 && byte <= 0x7E) || (byte >= 0xA1 && byte <= 0xAC) || byte >= 0xAE;
      const uint32_t cpt = printable ? byte : next_extra++;
      utf8::append_cpt(cpt, &byte_to_utf8[byte]);
      cpt_to_byte[cpt] = static_cast<int16_t>(byte);
    }
  }
};

const Tables& tables() {
  static const Tables kTables;  // immutable after the thread-safe static initialisation
  return kTables;
}

}  // namespace

std::string_view encode_byte(uint8_t byte) { return tables().byte_to_utf8[byte]; }

void encode(std::string_view bytes, std::string* out) {
  const Tables& t = tables();
  for (char c : bytes) out->append(t.byte_to_utf8[static_cast<uint8_t>(c)]);
}

int decode_cpt(uint32_t cpt) { return cpt < kMaxMappedCpt ? tables().cpt_to_byte[cpt] : -1; }

std::string decode(std::string_view token_text) {
  std::string out;
  out.reserve(token_text.size());
  size_t pos = 0;
  while (pos < token_text.size()) {
    const utf8::SeqScan seq = utf8::scan(token_text.substr(pos));
    const int byte = seq.kind == utf8::SeqKind::kValid ? decode_cpt(seq.cpt) : -1;
    if (byte >= 0) {
      out.push_back(static_cast<char>(byte));
    } else {
      out.append(token_text.substr(pos, seq.length));
    }
    pos += seq.length;
  }
  return out;
}

}  // namespace frugal::byte_unicode

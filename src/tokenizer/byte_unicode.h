// GPT-2's reversible byte <-> printable code point mapping (tokenizer layer). Byte-level BPE
// vocabularies store every token as the UTF-8 of these code points (" " is "Ġ" = U+0120).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace frugal::byte_unicode {

// UTF-8 of the code point that stands for `byte` (1 or 2 bytes).
std::string_view encode_byte(uint8_t byte);

// Appends the byte-level encoding of raw bytes.
void encode(std::string_view bytes, std::string* out);

// Byte for a code point of the mapping, or -1 when the code point is not part of it.
int decode_cpt(uint32_t cpt);

// Decodes a vocab token text back to raw bytes. Code points outside the mapping (which a
// well-formed byte-level vocab never has) are copied through as their UTF-8.
std::string decode(std::string_view token_text);

}  // namespace frugal::byte_unicode

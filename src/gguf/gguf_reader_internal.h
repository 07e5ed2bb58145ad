// Internal pieces of the GGUF reader (gguf layer): value and tensor-info decoding on a ByteCursor.
// Not for use outside src/gguf; GgufFile (gguf_reader.h) is the public surface.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "gguf/byte_cursor.h"
#include "gguf/gguf_reader.h"

namespace frugal::gguf_internal {

// Two lowercase hex digits.
std::string hex_byte(uint8_t byte);
// A name for error messages: quoted, at most 80 bytes, non-printable bytes escaped (\xNN), so a
// hostile name cannot flood or garble a log line.
std::string display_name(std::string_view name);

// Reads a GGUF string; `what` prefixes the error ("gguf: metadata entry 3 of 9: key").
Status read_string(ByteCursor& cursor, const std::string& what, std::string* out);
// Reads one value of type id `type_id` for metadata key `key`; depth 1 = a top-level value.
// Array elements are charged against *values_left (kResourceExhausted when it runs out).
Status read_value(ByteCursor& cursor, uint32_t type_id, int depth, std::string_view key, uint64_t* values_left,
                  GgufValue* out);
// Reads tensor info `tensor_idx`, validates its dims, element count, type and row length, and sets
// size_bytes; its data range is checked later by validate_tensor_data (the data section start is
// not known until every tensor info has been read).
Status read_tensor_info(ByteCursor& cursor, uint64_t tensor_idx, uint64_t n_tensors, GgufTensorInfo* info);
// Offset alignment, and [offset, offset + size_bytes) inside the file.
Status validate_tensor_data(const GgufTensorInfo& info, uint64_t alignment, uint64_t data_offset, size_t file_size);

}  // namespace frugal::gguf_internal

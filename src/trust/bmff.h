// ISO BMFF (MP4) structure for C2PA: top-level boxes, the C2PA `uuid` box (spec Annex A.5), chunk
// offset fix-ups when a box is inserted before `mdat`, and the c2pa.hash.bmff.v2/v3 file hash
// (trust layer).
//
// The hard-binding hash (C2PA 2.x §18.6, the same in v2 and v3 for a hash without Merkle trees):
// walk the top-level boxes in file order; a box matched by an exclusion is skipped entirely; every
// other box contributes its absolute file offset as 8 bytes big-endian, then all of its bytes.
// frugal writes the three exclusions the spec requires for BMFF: the C2PA `uuid` box(es) (matched
// by their 16-byte extended type at offset 8), `ftyp` and `mfra`.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/expected.h"
#include "core/status.h"

namespace frugal::trust {

// D8FEC3D6-1B0E-483C-9297-5828877EC481: the extended type of C2PA's `uuid` boxes.
inline constexpr std::array<uint8_t, 16> kC2paUuid = {0xD8, 0xFE, 0xC3, 0xD6, 0x1B, 0x0E, 0x48, 0x3C,
                                                      0x92, 0x97, 0x58, 0x28, 0x87, 0x7E, 0xC4, 0x81};

struct TopBox {
  uint64_t offset = 0;  // bytes from the start of the file
  uint64_t size = 0;    // whole box, header included
  std::string type;     // 4 characters
  bool c2pa = false;    // a `uuid` box with kC2paUuid
};

// The top-level boxes of `file`; kDataLoss when a size runs past the end or is below its header.
Expected<std::vector<TopBox>> top_level_boxes(std::span<const uint8_t> file);

// Whether the hard binding skips `box` (C2PA uuid, ftyp, mfra).
bool bmff_hash_excludes(const TopBox& box);

// SHA-256 of `file` as c2pa.hash.bmff.v2/v3 defines it (see the header comment), 32 bytes.
Expected<std::vector<uint8_t>> bmff_hash(std::span<const uint8_t> file);

// The C2PA `uuid` box around a JUMBF manifest store: [size][uuid][kC2paUuid][version 0, flags 0]
// ["manifest\0"][merkle offset u64 = 0][store].
std::vector<uint8_t> c2pa_uuid_box(std::span<const uint8_t> manifest_store);

// Adds `delta` to every stco/co64 chunk offset inside `moov` (the whole box, header included).
// kDataLoss on malformed boxes, kOutOfRange when a 32-bit stco entry would overflow.
Status shift_chunk_offsets(std::span<uint8_t> moov, uint64_t delta);

// Inserts `box` right after the `ftyp` box and adds box.size() to every stco/co64 chunk offset in
// `moov`, so the samples stay addressed. kInvalidArgument when the file has no leading ftyp or
// already carries a C2PA box; kDataLoss on malformed boxes; kOutOfRange when a 32-bit stco entry
// would overflow. In memory; trust/bmff_stream.h does the same file to file in bounded memory.
Expected<std::vector<uint8_t>> insert_after_ftyp(std::span<const uint8_t> file, std::span<const uint8_t> box);

}  // namespace frugal::trust

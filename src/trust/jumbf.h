// JUMBF (ISO/IEC 19566-5) boxes as C2PA lays out a manifest store (trust layer).
//
// A box is [size u32 BE][type 4cc][payload]. A superbox `jumb` holds a description box `jumd`
// ([type UUID 16][toggles u8 = requestable|label][label UTF-8 NUL]) followed by content boxes.
// C2PA's types are 4-character codes followed by the ISO suffix 0011-0010-8000-00AA00389B71:
// "c2pa" manifest store, "c2ma" manifest, "c2as" assertion store, "c2cl" claim, "c2cs" claim
// signature, "cbor" a CBOR assertion (content box type `cbor`).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace frugal::trust {

using Bytes = std::vector<uint8_t>;
using JumbfType = std::array<uint8_t, 16>;

// The 16-byte JUMBF type UUID of a 4-character C2PA code ("c2pa", "c2ma", "cbor", ...).
JumbfType jumbf_type(std::string_view fourcc);

// One ISO BMFF-style box: 8-byte header (size, type) + payload. `type` is 4 characters.
Bytes make_box(std::string_view type, std::span<const uint8_t> payload);

// A `jumd` description box for `type` with a label (toggles 0x03: requestable, label present).
Bytes description_box(const JumbfType& type, std::string_view label);

// The payload of a `jumb` superbox: its description box followed by `contents` (whole boxes).
// C2PA hashes this (not the 8-byte jumb header) for a hashed URI to an assertion.
Bytes superbox_payload(const JumbfType& type, std::string_view label, std::span<const Bytes> contents);

// The whole `jumb` superbox.
Bytes superbox(const JumbfType& type, std::string_view label, std::span<const Bytes> contents);

// A CBOR assertion's superbox payload: description (type "cbor", `label`) + a `cbor` box of `cbor`.
Bytes cbor_assertion_payload(std::string_view label, std::span<const uint8_t> cbor);

}  // namespace frugal::trust

// C2PA 2.x provenance for frugal's MP4s: builds the manifest store (JUMBF) and embeds it in a
// `uuid` box after `ftyp` (spec Annex A.5), signed with the operator's (or the development)
// credentials (trust layer).
//
// The manifest (one, active) holds, as created assertions:
//   c2pa.actions.v2     c2pa.created with digitalSourceType trainedAlgorithmicMedia and
//                       softwareAgent {name "frugal", version, model}; c2pa.watermarked when the
//                       video carries frugal's invisible watermark
//   c2pa.soft-binding   the watermark's algorithm name and payload (only with a watermark)
//   c2pa.hash.bmff.v3   SHA-256 hard binding of the file (bmff.h), excluding the C2PA uuid box,
//                       ftyp and mfra
// a claim v2 (c2pa.claim.v2) that hashes each assertion's JUMBF superbox payload, and a COSE_Sign1
// ES256 claim signature with the x5chain (cose_sign.h).
//
// Two passes make the hash bind the final file: the store is built with a zero hash to learn its
// size (every variable-length field is fixed by then: the hash is 32 bytes, the signature 64), the
// box is inserted (moving mdat, whose chunk offsets are fixed up), the file is hashed, and the real
// store is written over the placeholder.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/expected.h"
#include "core/status.h"
#include "trust/bmff_stream.h"
#include "trust/signing_credentials.h"

namespace frugal::trust {

inline constexpr const char* kTrainedAlgorithmicMedia =
    "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";

struct WatermarkBinding {
  std::string algorithm;         // soft-binding algorithm name, e.g. "org.frugal.luma-dct.1"
  std::vector<uint8_t> payload;  // the embedded payload bits, packed MSB first
};

// frugal's invisible watermark (trust/watermark_embed.h) as a soft binding: its algorithm name and
// the 64-bit payload, big-endian.
inline constexpr const char* kFrugalWatermarkAlgorithm = "org.frugal.watermark.luma-cells.1";
inline WatermarkBinding frugal_watermark_binding(uint64_t payload) {
  WatermarkBinding binding{kFrugalWatermarkAlgorithm, {}};
  for (int byte_idx = 7; byte_idx >= 0; --byte_idx) binding.payload.push_back(static_cast<uint8_t>(payload >> (8 * byte_idx)));
  return binding;
}

struct ProvenanceInfo {
  std::string software_version;  // frugal's version string
  std::string model;             // the generating model's name
  std::string title;             // dc:title of the claim, e.g. the file name (optional)
  std::optional<WatermarkBinding> watermark;
};

// The JUMBF manifest store for an asset whose c2pa.hash.bmff.v3 hash is `file_hash` (32 bytes).
// `manifest_id` is the UUID (36 characters) of the manifest label urn:c2pa:<id>.
Expected<std::vector<uint8_t>> build_manifest_store(const ProvenanceInfo& info, const SigningCredentials& creds,
                                                    std::span<const uint8_t> file_hash,
                                                    const std::string& manifest_id);

// `mp4` with a signed manifest embedded (see the header comment). kInvalidArgument for a file
// without ftyp or one that already carries a C2PA box; kDataLoss for malformed boxes.
Expected<std::vector<uint8_t>> embed_c2pa(std::span<const uint8_t> mp4, const ProvenanceInfo& info,
                                          const SigningCredentials& creds);

// The same, streamed: `source` is read in chunks and the signed file goes to `sink` in order, so
// memory is bounded by the moov box plus two chunks (trust/bmff_stream.h), whatever the file size.
Status embed_c2pa_stream(const ByteSource& source, const ProvenanceInfo& info, const SigningCredentials& creds,
                         const std::function<Status(std::span<const uint8_t>)>& sink);

// Rewrites the MP4 at `path` with a manifest embedded (streamed to a file beside it, then renamed
// over it; bounded memory as embed_c2pa_stream).
Status embed_c2pa_file(const std::string& path, const ProvenanceInfo& info, const SigningCredentials& creds);

// An Mp4Options::before_publish (media/mp4_writer.h) that embeds a manifest for `info` signed with
// `creds` into the finished file before it is published.
std::function<Status(const std::string&)> c2pa_before_publish(std::shared_ptr<const SigningCredentials> creds,
                                                              ProvenanceInfo info);

// A random (version 4) UUID, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".
std::string random_uuid();

}  // namespace frugal::trust

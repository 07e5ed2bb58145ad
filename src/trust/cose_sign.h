// COSE_Sign1 (RFC 9052) with ES256 over a detached payload, as C2PA signs a claim (trust layer).
//
// Protected header {1 (alg): -7 (ES256), 33 (x5chain): [signer DER, intermediates DER...]};
// unprotected header {}; payload nil (detached: the claim is the payload); signature r || s,
// 32 bytes each (RFC 9053 §2.1), over Sig_structure ["Signature1", protected, h'', payload].
// The result is the tagged (18) COSE_Sign1 CBOR item that goes into the c2pa.signature box.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <span>
#include <vector>

#include "core/expected.h"

namespace frugal::trust {

// `key` is a P-256 private key; `chain_der` the signer certificate first. kInvalidArgument for
// another key type, kInternal when OpenSSL fails.
Expected<std::vector<uint8_t>> cose_sign1_es256(EVP_PKEY* key, std::span<const std::vector<uint8_t>> chain_der,
                                                std::span<const uint8_t> payload);

// Verifies a COSE_Sign1 made by cose_sign1_es256 against `payload` with `public_key` (used by tests
// and self-checks; a full validator also checks the certificate chain). Returns false on any
// mismatch or malformed input.
bool cose_verify_es256(std::span<const uint8_t> cose, EVP_PKEY* public_key, std::span<const uint8_t> payload);

}  // namespace frugal::trust

// The audit log's checkpoint signing key (trust layer): an Ed25519 or ECDSA P-256 key in PEM,
// loaded, generated on first run, used to sign and verify checkpoint messages (OpenSSL EVP).
// Ed25519 signs the message itself; P-256 signs its SHA-256 (ECDSA, DER signature).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/expected.h"

namespace frugal::trust {

// A public key: verifies signatures. Move-only.
class PublicKey {
 public:
  // PEM SubjectPublicKeyInfo ("-----BEGIN PUBLIC KEY-----"). kInvalidArgument naming `what` when it is
  // not one, or not Ed25519 / P-256.
  static Expected<PublicKey> from_pem(const std::string& pem, const std::string& what);
  static Expected<PublicKey> load(const std::string& path);
  PublicKey(PublicKey&&) noexcept;
  PublicKey& operator=(PublicKey&&) noexcept;
  ~PublicKey();

  bool verify(std::string_view message, const std::string& signature_bytes) const;
  std::string pem() const;
  // "ed25519" | "p256"
  const std::string& algorithm() const { return algorithm_; }
  // SHA-256 of the DER SubjectPublicKeyInfo, first 16 bytes as hex: names the key in checkpoints.
  std::string fingerprint() const;

 private:
  friend class SigningKey;
  PublicKey() = default;
  void* pkey_ = nullptr;  // EVP_PKEY*
  std::string algorithm_;
};

// A private signing key. Move-only.
class SigningKey {
 public:
  // PEM private key (PKCS#8 or traditional EC). kInvalidArgument naming the path when malformed or
  // of another algorithm; kNotFound when absent.
  static Expected<SigningKey> load(const std::string& path);
  // A new Ed25519 key written to `path` (mode 0600, fsync'd) with its public key at `path`.pub.
  static Expected<SigningKey> generate(const std::string& path);
  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;
  ~SigningKey();

  Expected<std::string> sign(std::string_view message) const;  // raw signature bytes
  const PublicKey& public_key() const { return public_; }

 private:
  SigningKey() = default;
  void* pkey_ = nullptr;  // EVP_PKEY*
  PublicKey public_;
};

// Standard base64 (with padding) and back; nullopt-like error on bad input.
std::string base64_encode(std::string_view bytes);
Expected<std::string> base64_decode(std::string_view text);

}  // namespace frugal::trust

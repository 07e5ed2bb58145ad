// The C2PA signer's key and X.509 chain: loading an operator's PEM files with the checks real
// validators make, and a local development CA + signer made on first run (trust layer).
//
// Checks on the signer (the first certificate of the chain), as C2PA 2.x §14.5 and c2pa-rs enforce:
// X.509 v3; not a CA (basicConstraints CA:FALSE or absent); AuthorityKeyIdentifier and
// SubjectKeyIdentifier present; keyUsage present, critical, with digitalSignature; an extended key
// usage naming emailProtection or documentSigning (1.3.6.1.5.5.7.3.36); valid now; its public key
// matches the private key, which is EC P-256 (frugal signs ES256). Each further certificate must
// have signed the one before it. Any failure is kInvalidArgument naming the file and the rule.
//
// Threading: SigningCredentials is immutable after load and shared read-only by the workers.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/expected.h"

namespace frugal::trust {

struct SigningCredentials {
  std::shared_ptr<EVP_PKEY> key;                // P-256 private key
  std::vector<std::vector<uint8_t>> chain_der;  // signer first, then its issuers
  std::string signer_subject;                   // one-line subject name, for logs
};

// Loads `key_pem` (a private key) and `chain_pem` (signer certificate first) and checks them.
Expected<SigningCredentials> load_signing_credentials(const std::string& key_pem, const std::string& chain_pem);

// Where the development credentials live under a state folder: <dir>/c2pa/.
struct DevCredentialPaths {
  std::string key;    // dev-signer.key (0600)
  std::string chain;  // dev-signer-chain.pem: signer, then the CA
  std::string ca;     // dev-ca.pem: the trust anchor to give validators
};
DevCredentialPaths dev_credential_paths(const std::string& state_dir);

// Loads the development credentials under `state_dir`, making a CA (P-256, 10 years) and a signer
// certificate (P-256, 2 years) there first when none exist; `*created` says whether it made them.
Expected<SigningCredentials> ensure_dev_credentials(const std::string& state_dir, bool* created);

}  // namespace frugal::trust

// ensure_dev_credentials (signing_credentials.h): a local development CA and signer certificate.
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>

#include "trust/signing_credentials.h"

namespace frugal::trust {

namespace {

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

constexpr long kDay = 24L * 3600L;

KeyPtr make_p256_key() { return KeyPtr(EVP_EC_gen("P-256"), EVP_PKEY_free); }

bool add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A v3 certificate for `key`'s public half named `cn`, issued by `issuer` (nullptr: self-signed)
// and signed with `issuer_key`, valid from an hour ago for `days`.
X509Ptr make_cert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, long days, bool ca) {
  X509Ptr cert(X509_new(), X509_free);
  if (!cert || X509_set_version(cert.get(), 2) != 1) return X509Ptr(nullptr, X509_free);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * kDay);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("frugal (development)"), -1,
                             -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  bool ok = add_ext(cert.get(), signer, NID_subject_key_identifier, "hash") &&
            add_ext(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
  if (ca) {
    ok = ok && add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE") &&
         add_ext(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    ok = ok && add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE") &&
         add_ext(cert.get(), signer, NID_key_usage, "critical,digitalSignature") &&
         add_ext(cert.get(), signer, NID_ext_key_usage, "emailProtection,1.3.6.1.5.5.7.3.36");
  }
  if (!ok || X509_sign(cert.get(), issuer_key, EVP_sha256()) <= 0) return X509Ptr(nullptr, X509_free);
  return cert;
}

bool write_pem(const std::string& path, mode_t mode, const std::function<bool(FILE*)>& write) {
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return false;
  ::chmod(tmp.c_str(), mode);
  const bool ok = write(f);
  if (std::fclose(f) != 0 || !ok) return false;
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

// The three files directly in `dir` (dev_credential_paths puts them in <state>/c2pa/).
DevCredentialPaths dev_credential_paths_in(const std::string& dir) {
  return {dir + "/dev-signer.key", dir + "/dev-signer-chain.pem", dir + "/dev-ca.pem"};
}

Status make_dev_credentials(const DevCredentialPaths& paths) {
  KeyPtr ca_key = make_p256_key();
  KeyPtr signer_key = make_p256_key();
  if (!ca_key || !signer_key) return internal_error("C2PA dev credentials: P-256 key generation failed");
  X509Ptr ca = make_cert(ca_key.get(), "frugal development C2PA CA", nullptr, ca_key.get(), 3650, true);
  if (!ca) return internal_error("C2PA dev credentials: cannot make the CA certificate");
  X509Ptr signer = make_cert(signer_key.get(), "frugal development C2PA signer", ca.get(), ca_key.get(), 730, false);
  if (!signer) return internal_error("C2PA dev credentials: cannot make the signer certificate");
  const bool ok =
      write_pem(paths.ca, 0644, [&](FILE* f) { return PEM_write_X509(f, ca.get()) == 1; }) &&
      write_pem(paths.chain, 0644,
                [&](FILE* f) { return PEM_write_X509(f, signer.get()) == 1 && PEM_write_X509(f, ca.get()) == 1; }) &&
      write_pem(paths.key, 0600, [&](FILE* f) {
        return PEM_write_PrivateKey(f, signer_key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
      });
  if (!ok) return unavailable("C2PA dev credentials: cannot write " + paths.key + " and the certificates beside it");
  return Status::ok();
}

}  // namespace

Expected<SigningCredentials> ensure_dev_credentials(const std::string& state_dir, bool* created) {
  const DevCredentialPaths paths = dev_credential_paths(state_dir);
  *created = false;
  const std::filesystem::path dir = std::filesystem::path(paths.key).parent_path();
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    // Made in a private folder, then renamed into place in one step: processes starting together
    // (parallel tests, several servers on one state folder) never mix one's key with another's
    // certificate; whoever renames first wins and the others load its files.
    std::filesystem::create_directories(dir.parent_path(), ec);
    if (ec) return unavailable("cannot create " + dir.parent_path().string() + ": " + ec.message());
    std::string tmp = (dir.parent_path() / ".c2pa-XXXXXX").string();
    if (::mkdtemp(tmp.data()) == nullptr) return unavailable("cannot create a folder beside " + dir.string());
    const DevCredentialPaths staged = dev_credential_paths_in(tmp);
    Status made = make_dev_credentials(staged);
    if (made && std::rename(tmp.c_str(), dir.c_str()) == 0) {
      *created = true;
    } else {
      std::filesystem::remove_all(tmp, ec);
      if (!made) return made;
    }
  }
  return load_signing_credentials(paths.key, paths.chain);
}

}  // namespace frugal::trust

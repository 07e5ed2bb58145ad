#include "trust/signing_credentials.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <string_view>

namespace frugal::trust {

namespace {

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
constexpr std::string_view kDocumentSigningOid = "1.3.6.1.5.5.7.3.36";
constexpr std::string_view kEmailProtectionOid = "1.3.6.1.5.5.7.3.4";

std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

std::string subject_of(X509* cert) {
  char buf[512];
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof(buf));
  return buf;
}

bool has_eku(X509* cert) {
  auto* ekus = static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(cert, NID_ext_key_usage, nullptr, nullptr));
  if (ekus == nullptr) return false;
  bool found = false;
  for (int i = 0; i < sk_ASN1_OBJECT_num(ekus); ++i) {
    char oid[80];
    OBJ_obj2txt(oid, sizeof(oid), sk_ASN1_OBJECT_value(ekus, i), 1);
    found |= oid == kDocumentSigningOid || oid == kEmailProtectionOid;
  }
  EXTENDED_KEY_USAGE_free(ekus);
  return found;
}

// The signer certificate rules of the header comment; "" when all hold.
std::string signer_rule_broken(X509* cert) {
  if (X509_get_version(cert) != 2) return "is not X.509 v3";
  if ((X509_get_extension_flags(cert) & EXFLAG_CA) != 0 || X509_check_ca(cert) != 0) {
    return "is a CA certificate (basicConstraints CA:TRUE); the signer must not be a CA";
  }
  if (X509_get0_authority_key_id(cert) == nullptr) return "has no AuthorityKeyIdentifier";
  if (X509_get0_subject_key_id(cert) == nullptr) return "has no SubjectKeyIdentifier";
  const int ku = X509_get_ext_by_NID(cert, NID_key_usage, -1);
  if (ku < 0) return "has no keyUsage extension";
  if (X509_EXTENSION_get_critical(X509_get_ext(cert, ku)) != 1) return "has a keyUsage extension that is not critical";
  if ((X509_get_key_usage(cert) & KU_DIGITAL_SIGNATURE) == 0) return "has a keyUsage without digitalSignature";
  if (!has_eku(cert)) return "has no extendedKeyUsage naming emailProtection or documentSigning";
  if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0) return "is not valid yet (notBefore is in the future)";
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) return "has expired (notAfter is in the past)";
  return "";
}

Expected<std::string> read_file(const std::string& path, const char* what) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(path.c_str(), "r"), BIO_free);
  if (!bio) return not_found(std::string("cannot open the C2PA ") + what + " " + path);
  std::string text;
  char buf[4096];
  int n = 0;
  while ((n = BIO_read(bio.get(), buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(n));
  return text;
}

}  // namespace

Expected<SigningCredentials> load_signing_credentials(const std::string& key_pem, const std::string& chain_pem) {
  auto key_text = read_file(key_pem, "key");
  if (!key_text) return key_text.error();
  auto chain_text = read_file(chain_pem, "certificate chain");
  if (!chain_text) return chain_text.error();
  ERR_clear_error();

  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new_mem_buf(key_text->data(), static_cast<int>(key_text->size())),
                                                    BIO_free);
  EVP_PKEY* raw_key = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr);
  if (raw_key == nullptr) {
    return invalid_argument("--c2pa-key " + key_pem + ": not a PEM private key (" + openssl_error() + ")");
  }
  SigningCredentials creds;
  creds.key.reset(raw_key, EVP_PKEY_free);
  if (EVP_PKEY_base_id(raw_key) != EVP_PKEY_EC || EVP_PKEY_get_bits(raw_key) != 256) {
    return invalid_argument("--c2pa-key " + key_pem + ": must be an EC P-256 key (frugal signs C2PA manifests ES256)");
  }

  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(
      BIO_new_mem_buf(chain_text->data(), static_cast<int>(chain_text->size())), BIO_free);
  std::vector<X509Ptr> chain;
  while (X509* cert = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)) chain.emplace_back(cert, X509_free);
  ERR_clear_error();  // the end-of-input "no start line"
  if (chain.empty()) return invalid_argument("--c2pa-cert " + chain_pem + ": no PEM certificate in the file");

  X509* signer = chain.front().get();
  if (X509_check_private_key(signer, raw_key) != 1) {
    ERR_clear_error();
    return invalid_argument("--c2pa-key " + key_pem + " does not match the signer certificate in " + chain_pem);
  }
  if (std::string broken = signer_rule_broken(signer); !broken.empty()) {
    return invalid_argument("--c2pa-cert " + chain_pem + ": the signer certificate " + broken);
  }
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    EVP_PKEY* issuer_key = X509_get0_pubkey(chain[i + 1].get());
    if (issuer_key == nullptr || X509_verify(chain[i].get(), issuer_key) != 1) {
      ERR_clear_error();
      return invalid_argument("--c2pa-cert " + chain_pem + ": certificate " + std::to_string(i + 2) +
                              " did not sign certificate " + std::to_string(i + 1) + " (order: signer first)");
    }
    if (X509_cmp_current_time(X509_get0_notAfter(chain[i + 1].get())) <= 0) {
      return invalid_argument("--c2pa-cert " + chain_pem + ": certificate " + std::to_string(i + 2) + " has expired");
    }
  }
  for (const X509Ptr& cert : chain) {
    const int len = i2d_X509(cert.get(), nullptr);
    std::vector<uint8_t> der(static_cast<size_t>(len));
    unsigned char* p = der.data();
    i2d_X509(cert.get(), &p);
    creds.chain_der.push_back(std::move(der));
  }
  creds.signer_subject = subject_of(signer);
  return creds;
}

DevCredentialPaths dev_credential_paths(const std::string& state_dir) {
  const std::string dir = state_dir + "/c2pa/";
  return {dir + "dev-signer.key", dir + "dev-signer-chain.pem", dir + "dev-ca.pem"};
}

}  // namespace frugal::trust

// load_signing_credentials: every broken rule of a key or certificate is a clear start-up error.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "trust/signing_credentials.h"

namespace frugal::trust {
namespace {

namespace fs = std::filesystem;
using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

struct LeafOptions {
  bool ca = false;
  bool ku_critical = true;
  const char* eku = "emailProtection";  // nullptr: none
  long not_after_s = 3600L * 24 * 30;   // relative to now
  bool aki = true;
};

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key` issued by `issuer` (signed with `issuer_key`) breaking the rules asked for.
X509Ptr make_leaf(EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, const LeafOptions& o) {
  X509Ptr cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 7);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600L * 24 * 60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), o.not_after_s);
  X509_set_pubkey(cert.get(), key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("test signer"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer));
  add_ext(cert.get(), issuer, NID_subject_key_identifier, "hash");
  if (o.aki) add_ext(cert.get(), issuer, NID_authority_key_identifier, "keyid:always");
  add_ext(cert.get(), issuer, NID_basic_constraints, o.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add_ext(cert.get(), issuer, NID_key_usage, o.ku_critical ? "critical,digitalSignature" : "digitalSignature");
  if (o.eku != nullptr) add_ext(cert.get(), issuer, NID_ext_key_usage, o.eku);
  X509_sign(cert.get(), issuer_key, EVP_sha256());
  return cert;
}

class SigningCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::path(::testing::TempDir()) / ("frugal_creds_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
    bool created = false;
    ASSERT_TRUE(ensure_dev_credentials(dir_, &created).has_value());
    const DevCredentialPaths paths = dev_credential_paths(dir_);
    FILE* f = std::fopen(paths.ca.c_str(), "r");
    ca_.reset(PEM_read_X509(f, nullptr, nullptr, nullptr));
    std::fclose(f);
    ca_key_.reset(EVP_EC_gen("P-256"));  // a second key standing in as "the CA's" for signatures we make
  }

  // Writes `key` and `certs` (signer first) as PEM; returns load_signing_credentials' error ("" = loaded).
  std::string load(EVP_PKEY* key, std::initializer_list<X509*> certs) {
    const std::string key_path = dir_ + "/k.pem", cert_path = dir_ + "/c.pem";
    FILE* f = std::fopen(key_path.c_str(), "w");
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    f = std::fopen(cert_path.c_str(), "w");
    for (X509* c : certs) PEM_write_X509(f, c);
    std::fclose(f);
    auto creds = load_signing_credentials(key_path, cert_path);
    return creds.has_value() ? "" : creds.error().message();
  }

  // A self-made CA (key ca_key_) to issue test leaves.
  X509Ptr self_ca() {
    X509Ptr ca(X509_new(), X509_free);
    X509_set_version(ca.get(), 2);
    X509_gmtime_adj(X509_getm_notBefore(ca.get()), -3600L * 24 * 60);
    X509_gmtime_adj(X509_getm_notAfter(ca.get()), 3600L * 24 * 365);
    X509_set_pubkey(ca.get(), ca_key_.get());
    X509_NAME_add_entry_by_txt(X509_get_subject_name(ca.get()), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("test CA"), -1, -1, 0);
    X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get()));
    add_ext(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
    add_ext(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE");
    add_ext(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign");
    X509_sign(ca.get(), ca_key_.get(), EVP_sha256());
    return ca;
  }

  std::string dir_;
  X509Ptr ca_{nullptr, X509_free};
  KeyPtr ca_key_{nullptr, EVP_PKEY_free};
};

TEST_F(SigningCredentialsTest, AGoodLeafLoads) {
  X509Ptr ca = self_ca();
  KeyPtr key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  X509Ptr leaf = make_leaf(key.get(), ca.get(), ca_key_.get(), {.eku = "1.3.6.1.5.5.7.3.36"});
  EXPECT_EQ(load(key.get(), {leaf.get(), ca.get()}), "");
}

TEST_F(SigningCredentialsTest, EachBrokenRuleIsNamed) {
  X509Ptr ca = self_ca();
  KeyPtr key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  KeyPtr other(EVP_EC_gen("P-256"), EVP_PKEY_free);
  X509Ptr leaf = make_leaf(key.get(), ca.get(), ca_key_.get(), {});
  EXPECT_NE(load(other.get(), {leaf.get()}).find("does not match"), std::string::npos);
  EXPECT_NE(load(ca_key_.get(), {ca.get()}).find("is a CA"), std::string::npos);
  X509Ptr ca_leaf = make_leaf(key.get(), ca.get(), ca_key_.get(), {.ca = true});
  EXPECT_NE(load(key.get(), {ca_leaf.get()}).find("is a CA"), std::string::npos);
  X509Ptr expired = make_leaf(key.get(), ca.get(), ca_key_.get(), {.not_after_s = -3600});
  EXPECT_NE(load(key.get(), {expired.get()}).find("expired"), std::string::npos);
  X509Ptr soft_ku = make_leaf(key.get(), ca.get(), ca_key_.get(), {.ku_critical = false});
  EXPECT_NE(load(key.get(), {soft_ku.get()}).find("keyUsage extension that is not critical"), std::string::npos);
  X509Ptr no_eku = make_leaf(key.get(), ca.get(), ca_key_.get(), {.eku = nullptr});
  EXPECT_NE(load(key.get(), {no_eku.get()}).find("extendedKeyUsage"), std::string::npos);
  X509Ptr tls_eku = make_leaf(key.get(), ca.get(), ca_key_.get(), {.eku = "serverAuth"});
  EXPECT_NE(load(key.get(), {tls_eku.get()}).find("extendedKeyUsage"), std::string::npos);
  X509Ptr no_aki = make_leaf(key.get(), ca.get(), ca_key_.get(), {.aki = false});
  EXPECT_NE(load(key.get(), {no_aki.get()}).find("AuthorityKeyIdentifier"), std::string::npos);
  // The chain in the wrong order: the CA did not sign... the CA's issuer is itself, the leaf did not sign it.
  EXPECT_NE(load(key.get(), {leaf.get(), ca_.get()}).find("did not sign"), std::string::npos);
}

TEST_F(SigningCredentialsTest, WrongKeyTypeAndUnreadableFiles) {
  X509Ptr ca = self_ca();
  KeyPtr rsa(EVP_RSA_gen(2048), EVP_PKEY_free);
  X509Ptr rsa_leaf = make_leaf(rsa.get(), ca.get(), ca_key_.get(), {});
  EXPECT_NE(load(rsa.get(), {rsa_leaf.get()}).find("EC P-256"), std::string::npos);

  const std::string junk = dir_ + "/junk.pem";
  FILE* f = std::fopen(junk.c_str(), "w");
  std::fputs("not a key\n", f);
  std::fclose(f);
  const DevCredentialPaths paths = dev_credential_paths(dir_);
  auto bad_key = load_signing_credentials(junk, paths.chain);
  ASSERT_FALSE(bad_key.has_value());
  EXPECT_NE(bad_key.error().message().find("not a PEM private key"), std::string::npos);
  auto bad_cert = load_signing_credentials(paths.key, junk);
  ASSERT_FALSE(bad_cert.has_value());
  EXPECT_NE(bad_cert.error().message().find("no PEM certificate"), std::string::npos);
  auto missing = load_signing_credentials(dir_ + "/absent.pem", paths.chain);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  EXPECT_TRUE(load_signing_credentials(paths.key, paths.chain).has_value());
}

}  // namespace
}  // namespace frugal::trust

#include "trust/signing_key.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "trust/sha256.h"

namespace frugal::trust {
namespace {

EVP_PKEY* as_pkey(void* p) { return static_cast<EVP_PKEY*>(p); }

// "ed25519", "p256" or "" for any other key.
std::string algorithm_of(EVP_PKEY* pkey) {
  if (EVP_PKEY_id(pkey) == EVP_PKEY_ED25519) return "ed25519";
  if (EVP_PKEY_id(pkey) == EVP_PKEY_EC && EVP_PKEY_bits(pkey) == 256) return "p256";
  return "";
}

// The digest the algorithm signs with: none for Ed25519 (it hashes internally), SHA-256 for P-256.
const EVP_MD* digest_for(const std::string& algorithm) { return algorithm == "ed25519" ? nullptr : EVP_sha256(); }

std::string public_pem_of(EVP_PKEY* pkey) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, pkey);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  return pem;
}

Expected<std::string> read_text(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return not_found("cannot open key file " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

Status write_private(const std::string& path, const std::string& pem) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return unavailable("cannot create key file " + path + ": " + std::strerror(errno));
  const bool ok = ::write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return unavailable("cannot write key file " + path);
  return Status::ok();
}

}  // namespace

PublicKey::PublicKey(PublicKey&& other) noexcept
    : pkey_(std::exchange(other.pkey_, nullptr)), algorithm_(std::move(other.algorithm_)) {}
PublicKey& PublicKey::operator=(PublicKey&& other) noexcept {
  std::swap(pkey_, other.pkey_);
  std::swap(algorithm_, other.algorithm_);
  return *this;
}
PublicKey::~PublicKey() { EVP_PKEY_free(as_pkey(pkey_)); }

Expected<PublicKey> PublicKey::from_pem(const std::string& pem, const std::string& what) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (pkey == nullptr) return invalid_argument(what + ": not a PEM public key (\"-----BEGIN PUBLIC KEY-----\")");
  PublicKey key;
  key.pkey_ = pkey;
  key.algorithm_ = algorithm_of(pkey);
  if (key.algorithm_.empty()) return invalid_argument(what + ": the key is neither Ed25519 nor ECDSA P-256");
  return key;
}

Expected<PublicKey> PublicKey::load(const std::string& path) {
  auto pem = read_text(path);
  if (!pem) return pem.error();
  return from_pem(*pem, "public key file " + path);
}

bool PublicKey::verify(std::string_view message, const std::string& signature) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, digest_for(algorithm_), nullptr, as_pkey(pkey_)) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                             reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

std::string PublicKey::pem() const { return public_pem_of(as_pkey(pkey_)); }

std::string PublicKey::fingerprint() const {
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(as_pkey(pkey_), &der);
  std::string digest = sha256_hex(std::string_view(reinterpret_cast<const char*>(der), n > 0 ? n : 0));
  OPENSSL_free(der);
  return digest.substr(0, 32);
}

SigningKey::SigningKey(SigningKey&& other) noexcept
    : pkey_(std::exchange(other.pkey_, nullptr)), public_(std::move(other.public_)) {}
SigningKey& SigningKey::operator=(SigningKey&& other) noexcept {
  std::swap(pkey_, other.pkey_);
  std::swap(public_, other.public_);
  return *this;
}
SigningKey::~SigningKey() { EVP_PKEY_free(as_pkey(pkey_)); }

Expected<SigningKey> SigningKey::load(const std::string& path) {
  auto pem = read_text(path);
  if (!pem) return pem.error();
  BIO* bio = BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (pkey == nullptr) {
    return invalid_argument("audit signing key " + path + ": not a PEM private key (\"-----BEGIN PRIVATE KEY-----\")");
  }
  SigningKey key;
  key.pkey_ = pkey;
  const std::string algorithm = algorithm_of(pkey);
  if (algorithm.empty()) return invalid_argument("audit signing key " + path + ": neither Ed25519 nor ECDSA P-256");
  auto pub = PublicKey::from_pem(public_pem_of(pkey), "audit signing key " + path);
  if (!pub) return pub.error();
  key.public_ = std::move(*pub);
  return key;
}

Expected<SigningKey> SigningKey::generate(const std::string& path) {
  EVP_PKEY* pkey = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
  const bool made = ctx != nullptr && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &pkey) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!made) return internal_error("cannot generate an Ed25519 key");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  const std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  const std::string public_pem = public_pem_of(pkey);
  EVP_PKEY_free(pkey);
  if (Status s = write_private(path, pem); !s) return s;
  std::ofstream pub(path + ".pub", std::ios::binary | std::ios::trunc);
  pub << public_pem;
  if (!pub.flush()) return unavailable("cannot write public key " + path + ".pub");
  return load(path);
}

Expected<std::string> SigningKey::sign(std::string_view message) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t n = 0;
  std::string signature;
  bool ok = EVP_DigestSignInit(ctx, nullptr, digest_for(public_.algorithm()), nullptr, as_pkey(pkey_)) == 1 &&
            EVP_DigestSign(ctx, nullptr, &n, reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  if (ok) {
    signature.resize(n);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &n,
                        reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
    signature.resize(n);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) return internal_error("signing failed");
  return signature;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Expected<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return invalid_argument("base64 length is not a multiple of 4");
  std::string out(3 * text.size() / 4 + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return invalid_argument("not base64");
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

}  // namespace frugal::trust

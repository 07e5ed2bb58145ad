#include "trust/cose_sign.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>

#include <memory>
#include <string>

#include "trust/cbor.h"

namespace frugal::trust {

namespace {

constexpr int kCoseAlgEs256 = -7;
constexpr int kCoseHeaderAlg = 1;
constexpr int kCoseHeaderX5Chain = 33;
constexpr uint64_t kCoseSign1Tag = 18;

std::vector<uint8_t> protected_header(std::span<const std::vector<uint8_t>> chain_der) {
  CborWriter w;
  w.map(2).integer(kCoseHeaderAlg).integer(kCoseAlgEs256).integer(kCoseHeaderX5Chain);
  w.array(chain_der.size());
  for (const auto& der : chain_der) w.bytes(der);
  return w.take();
}

std::vector<uint8_t> sig_structure(std::span<const uint8_t> protected_bytes, std::span<const uint8_t> payload) {
  CborWriter w;
  w.array(4).text("Signature1").bytes(protected_bytes).bytes({}).bytes(payload);
  return w.take();
}

bool is_p256(EVP_PKEY* key) {
  if (EVP_PKEY_base_id(key) != EVP_PKEY_EC) return false;
  char curve[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof(curve), &len) != 1) return false;
  const std::string name(curve, len);
  return name == "prime256v1" || name == "P-256";
}

}  // namespace

Expected<std::vector<uint8_t>> cose_sign1_es256(EVP_PKEY* key, std::span<const std::vector<uint8_t>> chain_der,
                                                std::span<const uint8_t> payload) {
  if (key == nullptr || !is_p256(key)) return invalid_argument("C2PA signing key must be an EC P-256 key (ES256)");
  if (chain_der.empty()) return invalid_argument("C2PA signing needs the signer certificate");
  const std::vector<uint8_t> prot = protected_header(chain_der);
  const std::vector<uint8_t> tbs = sig_structure(prot, payload);

  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t der_len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &der_len, tbs.data(), tbs.size()) != 1) {
    return internal_error("COSE ES256: EVP_DigestSign setup failed");
  }
  std::vector<uint8_t> der(der_len);
  if (EVP_DigestSign(ctx.get(), der.data(), &der_len, tbs.data(), tbs.size()) != 1) {
    return internal_error("COSE ES256: signing failed");
  }
  // DER ECDSA-Sig-Value -> fixed-width r || s.
  const uint8_t* p = der.data();
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)),
                                                            ECDSA_SIG_free);
  if (!sig) return internal_error("COSE ES256: cannot parse the ECDSA signature");
  std::vector<uint8_t> rs(64);
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), rs.data(), 32) != 32 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), rs.data() + 32, 32) != 32) {
    return internal_error("COSE ES256: signature component too large");
  }

  CborWriter w;
  w.tag(kCoseSign1Tag).array(4).bytes(prot).map(0).null().bytes(rs);
  return w.take();
}

bool cose_verify_es256(std::span<const uint8_t> cose, EVP_PKEY* public_key, std::span<const uint8_t> payload) {
  // Layout written above: d2 84 <bstr protected> a0 f6 58 40 <64 bytes>.
  if (cose.size() < 4 + 64 || cose[0] != 0xd2 || cose[1] != 0x84) return false;
  size_t pos = 2;
  const uint8_t h = cose[pos++];
  if ((h >> 5) != 2) return false;
  size_t len = h & 0x1f;
  if (len == 24) {
    len = cose[pos++];
  } else if (len == 25) {
    if (pos + 2 > cose.size()) return false;
    len = (static_cast<size_t>(cose[pos]) << 8) | cose[pos + 1];
    pos += 2;
  } else if (len > 23) {
    return false;
  }
  if (pos + len + 4 + 64 != cose.size()) return false;
  const std::span<const uint8_t> prot = cose.subspan(pos, len);
  pos += len;
  if (cose[pos] != 0xa0 || cose[pos + 1] != 0xf6 || cose[pos + 2] != 0x58 || cose[pos + 3] != 0x40) return false;
  const uint8_t* rs = cose.data() + pos + 4;

  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), ECDSA_SIG_free);
  BIGNUM* r = BN_bin2bn(rs, 32, nullptr);
  BIGNUM* s = BN_bin2bn(rs + 32, 32, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return false;
  }
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) return false;
  const std::vector<uint8_t> tbs = sig_structure(prot, payload);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  const bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, public_key) == 1 &&
                  EVP_DigestVerify(ctx.get(), der, static_cast<size_t>(der_len), tbs.data(), tbs.size()) == 1;
  OPENSSL_free(der);
  return ok;
}

}  // namespace frugal::trust

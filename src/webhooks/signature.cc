#include "webhooks/signature.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

namespace frugal::webhooks {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kSecretPrefix = "whsec_";
// The spec's generated secrets are 24 to 64 bytes; shorter keys are refused as too guessable.
constexpr size_t kMinKeyBytes = 16;

int alphabet_index(char c) {
  const size_t at = kAlphabet.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t byte_idx = 0; byte_idx < bytes.size(); byte_idx += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - byte_idx);
    uint32_t group = 0;
    for (size_t k = 0; k < 3; ++k) {
      group = (group << 8) | (k < n ? static_cast<unsigned char>(bytes[byte_idx + k]) : 0u);
    }
    for (size_t k = 0; k < 4; ++k) {
      out += k <= n ? kAlphabet[(group >> (18 - 6 * k)) & 63] : '=';
    }
  }
  return out;
}

Expected<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return invalid_argument("base64: length is not a multiple of 4");
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t char_idx = 0; char_idx < text.size(); char_idx += 4) {
    const bool last = char_idx + 4 == text.size();
    uint32_t group = 0;
    int padding = 0;
    for (size_t k = 0; k < 4; ++k) {
      const char c = text[char_idx + k];
      int value = 0;
      if (c == '=' && last && k >= 2) {
        ++padding;
      } else if (padding > 0 || (value = alphabet_index(c)) < 0) {
        return invalid_argument("base64: unexpected character");
      }
      group = (group << 6) | static_cast<uint32_t>(value);
    }
    for (int k = 0; k < 3 - padding; ++k) out += static_cast<char>((group >> (16 - 8 * k)) & 0xff);
  }
  return out;
}

Expected<std::string> decode_webhook_secret(const std::string& secret) {
  if (secret.rfind(kSecretPrefix, 0) != 0) {
    return invalid_argument("a webhook secret is \"whsec_\" followed by the base64 of its key");
  }
  auto key = base64_decode(std::string_view(secret).substr(kSecretPrefix.size()));
  if (!key) return invalid_argument("the webhook secret after \"whsec_\" is not valid base64");
  if (key->size() < kMinKeyBytes) {
    return invalid_argument("the webhook secret's key is " + std::to_string(key->size()) + " bytes; at least " +
                            std::to_string(kMinKeyBytes) + " are needed");
  }
  return key;
}

std::string sign_webhook(const std::string& key, const std::string& webhook_id, int64_t timestamp,
                         std::string_view body) {
  const std::string signed_text = webhook_id + "." + std::to_string(timestamp) + "." + std::string(body);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_bytes = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(signed_text.data()),
       signed_text.size(), mac.data(), &mac_bytes);
  return "v1," + base64_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac_bytes));
}

}  // namespace frugal::webhooks

#include "trust/watermark_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/state_dir.h"

namespace frugal::trust {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string to_hex(const uint8_t* bytes, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 15];
  }
  return out;
}

}  // namespace

Expected<WatermarkKey> load_watermark_key(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("watermark key " + path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  std::string hex = text.str();
  if (!hex.empty() && hex.back() == '\n') hex.pop_back();
  const std::string bad = "watermark key " + path + ": expected 64 hex digits (a 256-bit key)";
  if (hex.size() != 64) return invalid_argument(bad + ", found " + std::to_string(hex.size()) + " characters");
  WatermarkKey key;
  for (size_t i = 0; i < 32; ++i) {
    const int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return invalid_argument(bad + ", found a non-hex character at " + std::to_string(2 * i + (hi < 0 ? 0 : 1)));
    key.bytes[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return key;
}

Expected<WatermarkKey> load_or_create_watermark_key(const std::string& path, bool* created) {
  if (created != nullptr) *created = false;
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return load_watermark_key(path);
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return unavailable("watermark key " + path + ": cannot create its folder: " + ec.message());
  WatermarkKey key;
  if (RAND_bytes(key.bytes.data(), static_cast<int>(key.bytes.size())) != 1) {
    return internal_error("watermark key: OpenSSL RAND_bytes failed");
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return unavailable("watermark key " + path + ": cannot create the file");
  const std::string text = to_hex(key.bytes.data(), key.bytes.size()) + "\n";
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool closed = ::close(fd) == 0;
  if (!written || !closed) return unavailable("watermark key " + path + ": write failed");
  if (created != nullptr) *created = true;
  return key;
}

std::string default_watermark_key_path() {
  if (const char* env = std::getenv("FRUGAL_WATERMARK_KEY"); env != nullptr && *env != '\0') return env;
  return default_state_dir() + "/watermark.key";
}

std::array<uint8_t, 32> hmac_sha256(const WatermarkKey& key, std::string_view message) {
  std::array<uint8_t, 32> mac{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.bytes.data(), static_cast<int>(key.bytes.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(), &length);
  return mac;
}

uint64_t watermark_payload_for(const WatermarkKey& key, std::string_view job_id) {
  const auto mac = hmac_sha256(key, std::string("frugal-watermark-payload:") + std::string(job_id));
  uint64_t payload = 0;
  for (int i = 0; i < 8; ++i) payload = (payload << 8) | mac[i];
  return payload;
}

std::string payload_hex(uint64_t payload) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(payload));
  return text;
}

}  // namespace frugal::trust

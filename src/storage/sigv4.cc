#include "storage/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <ctime>

namespace frugal::storage::sigv4 {
namespace {

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A header value as SigV4 canonicalizes it: outer whitespace trimmed, inner runs of spaces as one.
std::string canonical_header_value(std::string_view value) {
  std::string out;
  bool in_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      in_space = !out.empty();
      continue;
    }
    if (in_space) out += ' ';
    in_space = false;
    out += c;
  }
  return out;
}

}  // namespace

std::string hex_encode(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return hex_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string uri_encode(std::string_view text, bool keep_slash) {
  static const char* kDigits = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    const bool unreserved = std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 15];
    }
  }
  return out;
}

std::string amz_date(int64_t unix_seconds) {
  const std::time_t time = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

std::string canonical_query(const Params& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name + "=" + value;
  }
  return out;
}

std::string canonical_request(const Request& request, std::string* signed_headers) {
  // Lowercase names, sorted; repeated names join their values with ','.
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : request.headers) headers.emplace_back(lowercase(name), canonical_header_value(value));
  std::stable_sort(headers.begin(), headers.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string header_block;
  std::string names;
  for (size_t i = 0; i < headers.size(); ++i) {
    if (i > 0 && headers[i].first == headers[i - 1].first) {
      header_block.back() = ',';  // replace the previous line's '\n'
      header_block += headers[i].second + "\n";
      continue;
    }
    header_block += headers[i].first + ":" + headers[i].second + "\n";
    if (!names.empty()) names += ';';
    names += headers[i].first;
  }
  if (signed_headers != nullptr) *signed_headers = names;
  const std::string path = request.path.empty() ? "/" : uri_encode(request.path, true);
  return request.method + "\n" + path + "\n" + canonical_query(request.query) + "\n" + header_block + "\n" + names +
         "\n" + request.payload_hash;
}

std::string string_to_sign(const std::string& amz_date, const Scope& scope, const std::string& canonical_request) {
  return std::string(kAlgorithm) + "\n" + amz_date + "\n" + scope.to_string() + "\n" + sha256_hex(canonical_request);
}

std::string signing_key(const std::string& secret_access_key, const Scope& scope) {
  const std::string date_key = hmac_sha256("AWS4" + secret_access_key, scope.date);
  const std::string region_key = hmac_sha256(date_key, scope.region);
  const std::string service_key = hmac_sha256(region_key, scope.service);
  return hmac_sha256(service_key, "aws4_request");
}

std::string signature(const Request& request, const Credentials& credentials, const Scope& scope,
                      const std::string& amz_date) {
  const std::string to_sign = string_to_sign(amz_date, scope, canonical_request(request, nullptr));
  return hex_encode(hmac_sha256(signing_key(credentials.secret_access_key, scope), to_sign));
}

std::string authorization_header(const Request& request, const Credentials& credentials, const Scope& scope,
                                 const std::string& amz_date) {
  std::string signed_headers;
  const std::string canonical = canonical_request(request, &signed_headers);
  const std::string to_sign = string_to_sign(amz_date, scope, canonical);
  const std::string sig = hex_encode(hmac_sha256(signing_key(credentials.secret_access_key, scope), to_sign));
  return std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" + scope.to_string() +
         ",SignedHeaders=" + signed_headers + ",Signature=" + sig;
}

std::string presigned_query(const Request& request, const Credentials& credentials, const Scope& scope,
                            const std::string& amz_date, int64_t expires_seconds) {
  Request presigned = request;
  presigned.payload_hash = kUnsignedPayload;
  std::string signed_headers;
  (void)canonical_request(presigned, &signed_headers);  // only for the header names
  presigned.query.emplace_back("X-Amz-Algorithm", kAlgorithm);
  presigned.query.emplace_back("X-Amz-Credential", credentials.access_key_id + "/" + scope.to_string());
  presigned.query.emplace_back("X-Amz-Date", amz_date);
  presigned.query.emplace_back("X-Amz-Expires", std::to_string(expires_seconds));
  if (!credentials.session_token.empty()) presigned.query.emplace_back("X-Amz-Security-Token", credentials.session_token);
  presigned.query.emplace_back("X-Amz-SignedHeaders", signed_headers);
  const std::string sig = signature(presigned, credentials, scope, amz_date);
  return canonical_query(presigned.query) + "&X-Amz-Signature=" + sig;
}

}  // namespace frugal::storage::sigv4

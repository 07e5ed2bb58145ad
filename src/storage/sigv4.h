// AWS Signature Version 4 (storage layer): the canonical request, the string to sign, the signing
// key and the two forms an S3 request carries it in: the Authorization header and the presigned URL
// (query-string authentication). Our own code on OpenSSL's SHA-256 and HMAC; tests reproduce the
// AWS documentation's published example signatures exactly (tests/storage/sigv4_test.cc).
//
// The central idea: both sides rebuild the same canonical text of a request (method, URI-encoded
// path, sorted encoded query, sorted lowercase headers, payload hash), hash it, and HMAC the hash
// with a key derived from the secret, the date, the region and the service. Nothing secret travels.
//
// S3 rule kept here: the path is URI-encoded once (not twice, as other services do) and '/' stays.
// Pure functions: safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace frugal::storage::sigv4 {

using Params = std::vector<std::pair<std::string, std::string>>;  // (name, value), unencoded

struct Credentials {
  std::string access_key_id;      // "AKIAIOSFODNN7EXAMPLE"
  std::string secret_access_key;  // never logged
  std::string session_token;      // "" unless temporary (STS) credentials: then x-amz-security-token
};

// Where a signature is valid: "<date>/<region>/<service>/aws4_request".
struct Scope {
  std::string date;     // YYYYMMDD, the day of the request's x-amz-date
  std::string region;   // "us-east-1"
  std::string service;  // "s3"
  std::string to_string() const { return date + "/" + region + "/" + service + "/aws4_request"; }
};

struct Request {
  std::string method;    // "GET", "PUT", ...
  std::string path;      // the absolute path, NOT encoded ("/test$file.text"); encoded here
  Params query;          // NOT encoded; order does not matter
  Params headers;        // every header to sign, "host" included; names in any case
  std::string payload_hash;  // lowercase hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

inline constexpr const char* kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr const char* kUnsignedPayload = "UNSIGNED-PAYLOAD";
// SHA-256 of the empty string: the payload hash of a request without a body.
inline constexpr const char* kEmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string hex_encode(std::string_view bytes);
std::string sha256_hex(std::string_view bytes);
// Raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string hmac_sha256(std::string_view key, std::string_view data);

// RFC 3986 percent-encoding as SigV4 defines it: A-Z a-z 0-9 - . _ ~ stay, every other byte is
// %XX (uppercase); '/' stays only when `keep_slash` (paths), never in query names and values.
std::string uri_encode(std::string_view text, bool keep_slash);

// "20130524T000000Z" for a unix time (UTC); its first 8 characters are the scope's date.
std::string amz_date(int64_t unix_seconds);

// The query as SigV4 canonicalizes it: each name and value encoded, sorted by name then value,
// "name=value" joined by '&' (a valueless parameter is "name=").
std::string canonical_query(const Params& query);
// The canonical request (six lines); `signed_headers` receives "host;range;x-amz-date"-style names.
std::string canonical_request(const Request& request, std::string* signed_headers);
std::string string_to_sign(const std::string& amz_date, const Scope& scope, const std::string& canonical_request);
// Raw 32 bytes: HMAC chain "AWS4"+secret → date → region → service → "aws4_request".
std::string signing_key(const std::string& secret_access_key, const Scope& scope);
// Lowercase hex signature of `request` sent at `amz_date` (which must also be a signed header,
// x-amz-date, for the header form).
std::string signature(const Request& request, const Credentials& credentials, const Scope& scope,
                      const std::string& amz_date);

// The Authorization header's value:
// "AWS4-HMAC-SHA256 Credential=<key id>/<scope>,SignedHeaders=<names>,Signature=<hex>".
std::string authorization_header(const Request& request, const Credentials& credentials, const Scope& scope,
                                 const std::string& amz_date);

// The query string (encoded, no leading '?') of a presigned URL for `request` valid for
// `expires_seconds` (1 s .. 7 days) after `amz_date`: the request's own query plus X-Amz-Algorithm,
// X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders (and X-Amz-Security-Token),
// then X-Amz-Signature last. The payload is UNSIGNED-PAYLOAD; `request.headers` usually holds only host.
std::string presigned_query(const Request& request, const Credentials& credentials, const Scope& scope,
                            const std::string& amz_date, int64_t expires_seconds);

}  // namespace frugal::storage::sigv4

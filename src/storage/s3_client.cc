#include "storage/s3_client.h"

#include <curl/curl.h>

#include <cctype>
#include <chrono>
#include <ctime>
#include <mutex>
#include <thread>

#include "storage/s3_xml.h"

namespace frugal::storage {
namespace {

constexpr int kMaxTries = 3;                    // a network blip or a 5xx (SlowDown) is retried twice
constexpr int64_t kRetryBackoffMs[] = {0, 200, 800};
constexpr long kLowSpeedBytesPerSecond = 1;     // a transfer stalled below this ...
constexpr long kLowSpeedSeconds = 30;           // ... for this long is abandoned

size_t append_body(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t append_header(char* data, size_t size, size_t count, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  const std::string line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    headers->clear();  // a new response (after a redirect or an interim 1xx)
    return size * count;
  }
  const size_t colon = line.find(':');
  if (colon == std::string::npos) return size * count;
  std::string name = line.substr(0, colon);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string value = line.substr(colon + 1);
  const size_t begin = value.find_first_not_of(" \t");
  const size_t end = value.find_last_not_of(" \t\r\n");
  (*headers)[name] = begin == std::string::npos ? "" : value.substr(begin, end - begin + 1);
  return size * count;
}

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool has_header(const sigv4::Params& headers, const std::string& lowercase_name) {
  for (const auto& [name, value] : headers) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == lowercase_name) return true;
  }
  return false;
}

}  // namespace

std::string S3Response::header(const std::string& lowercase_name) const {
  const auto it = headers.find(lowercase_name);
  return it == headers.end() ? "" : it->second;
}

S3Client::S3Client(S3Config config) : config_(std::move(config)) { init_curl_once(); }

std::string S3Client::host() const {
  return config_.virtual_hosted ? config_.bucket + "." + config_.endpoint_host : config_.endpoint_host;
}

std::string S3Client::path_of(const std::string& key) const {
  if (config_.virtual_hosted) return "/" + key;
  return "/" + config_.bucket + (key.empty() ? "" : "/" + key);
}

Expected<S3Response> S3Client::send(const S3Call& call) const {
  Expected<S3Response> last = unavailable("S3 " + call.method + " was not tried");
  for (int attempt = 0; attempt < kMaxTries; ++attempt) {
    if (kRetryBackoffMs[attempt] > 0) std::this_thread::sleep_for(std::chrono::milliseconds(kRetryBackoffMs[attempt]));
    last = send_once(call, static_cast<int64_t>(std::time(nullptr)));
    if (last && last->http_status < 500) return last;
  }
  return last;
}

Expected<S3Response> S3Client::send_once(const S3Call& call, int64_t now) const {
  const std::string date = sigv4::amz_date(now);
  const sigv4::Scope scope{date.substr(0, 8), config_.region, "s3"};
  const bool has_body = call.method == "PUT" || call.method == "POST";
  sigv4::Request request;
  request.method = call.method;
  request.path = path_of(call.key);
  request.query = call.query;
  request.payload_hash = sigv4::sha256_hex(call.body);
  request.headers = call.headers;
  request.headers.emplace_back("host", host());
  request.headers.emplace_back("x-amz-date", date);
  request.headers.emplace_back("x-amz-content-sha256", request.payload_hash);
  if (!config_.credentials.session_token.empty()) {
    request.headers.emplace_back("x-amz-security-token", config_.credentials.session_token);
  }
  if (has_body && !has_header(request.headers, "content-type")) {
    request.headers.emplace_back("content-type", "application/octet-stream");  // not curl's form type
  }
  const std::string authorization = sigv4::authorization_header(request, config_.credentials, scope, date);

  std::string url = config_.scheme + "://" + host() + sigv4::uri_encode(request.path, true);
  const std::string query = sigv4::canonical_query(request.query);
  if (!query.empty()) url += "?" + query;

  CURL* curl = curl_easy_init();
  if (curl == nullptr) return unavailable("S3: cannot create a curl handle");
  curl_slist* header_list = nullptr;
  for (const auto& [name, value] : request.headers) header_list = curl_slist_append(header_list, (name + ": " + value).c_str());
  header_list = curl_slist_append(header_list, ("Authorization: " + authorization).c_str());
  header_list = curl_slist_append(header_list, "Expect:");  // no 100-continue round trip
  S3Response response;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, static_cast<long>(config_.connect_timeout_seconds));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, static_cast<long>(config_.timeout_seconds));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, kLowSpeedBytesPerSecond);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, kLowSpeedSeconds);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, append_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  if (call.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (has_body) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, call.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  } else if (call.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  }
  const CURLcode code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.http_status);
  curl_slist_free_all(header_list);
  curl_easy_cleanup(curl);
  if (code != CURLE_OK) {
    return unavailable("S3 " + call.method + " " + config_.scheme + "://" + host() + request.path + ": " +
                       curl_easy_strerror(code));
  }
  return response;
}

std::string S3Client::presigned_get_url(const std::string& key, int64_t ttl_seconds, int64_t now) const {
  const std::string date = sigv4::amz_date(now);
  const sigv4::Scope scope{date.substr(0, 8), config_.region, "s3"};
  sigv4::Request request;
  request.method = "GET";
  request.path = path_of(key);
  request.headers = {{"host", host()}};
  return config_.scheme + "://" + host() + sigv4::uri_encode(request.path, true) + "?" +
         sigv4::presigned_query(request, config_.credentials, scope, date, ttl_seconds);
}

Status s3_error_status(const S3Response& response, const std::string& what) {
  std::string code = s3xml::first_text(response.body, "Code");
  const std::string message = s3xml::first_text(response.body, "Message");
  const std::string detail = "HTTP " + std::to_string(response.http_status) + (code.empty() ? "" : " " + code) +
                             (message.empty() ? "" : ": " + message);
  const long status = response.http_status;
  if (status == 404) return not_found("S3 " + what + ": not found (" + detail + ")");
  if (status == 401 || status == 403) {
    return internal_error("S3 denied permission for " + what + " (" + detail +
                          "); check the credentials and the bucket's policy");
  }
  if (status >= 500 || status == 429) return unavailable("S3 " + what + ": server busy or failing (" + detail + ")");
  return invalid_argument("S3 " + what + ": refused (" + detail + ")");
}

}  // namespace frugal::storage

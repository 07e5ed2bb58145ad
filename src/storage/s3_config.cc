#include "storage/s3_config.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>

#include "storage/object_store.h"

namespace frugal::storage {
namespace {

std::string percent_decode(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// S3's bucket naming rules: 3..63 of [a-z0-9.-], starting and ending with a letter or digit.
bool is_valid_bucket(const std::string& bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  for (char c : bucket) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) return false;
  }
  return std::isalnum(static_cast<unsigned char>(bucket.front())) && std::isalnum(static_cast<unsigned char>(bucket.back()));
}

Expected<int64_t> parse_positive(const std::string& name, const std::string& value, int64_t min, int64_t max) {
  char* end = nullptr;
  const long long parsed = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || parsed < min || parsed > max) {
    return invalid_argument("object store URL: " + name + "=" + value + " must be a whole number in [" +
                            std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return static_cast<int64_t>(parsed);
}

std::string trim(const std::string& text) {
  const size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t\r") - begin + 1);
}

// aws_access_key_id / aws_secret_access_key / aws_session_token of `profile` in an AWS
// shared-credentials file ("[name]" sections of "key = value" lines, '#'/';' comments).
Status read_credentials_file(const std::string& path, const std::string& profile, sigv4::Credentials* credentials) {
  std::ifstream file(path);
  if (!file) return invalid_argument("object store URL: cannot read credentials_file " + path);
  std::string line;
  std::string section;
  bool found_section = false;
  while (std::getline(file, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = trim(line.substr(1, line.size() - 2));
      found_section |= section == profile;
      continue;
    }
    if (section != profile) continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = trim(line.substr(0, eq));
    const std::string value = trim(line.substr(eq + 1));
    if (key == "aws_access_key_id") credentials->access_key_id = value;
    if (key == "aws_secret_access_key") credentials->secret_access_key = value;
    if (key == "aws_session_token") credentials->session_token = value;
  }
  if (!found_section) return invalid_argument("object store URL: credentials_file " + path + " has no [" + profile + "] profile");
  if (credentials->access_key_id.empty() || credentials->secret_access_key.empty()) {
    return invalid_argument("object store URL: credentials_file " + path + " [" + profile +
                            "] needs aws_access_key_id and aws_secret_access_key");
  }
  return Status::ok();
}

Status read_environment_credentials(sigv4::Credentials* credentials) {
  const char* key_id = std::getenv("AWS_ACCESS_KEY_ID");
  const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
  const char* token = std::getenv("AWS_SESSION_TOKEN");
  if (key_id == nullptr || secret == nullptr || *key_id == '\0' || *secret == '\0') {
    return invalid_argument(
        "object store URL: no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give "
        "credentials_file=PATH");
  }
  credentials->access_key_id = key_id;
  credentials->secret_access_key = secret;
  credentials->session_token = token != nullptr ? token : "";
  return Status::ok();
}

Status apply_endpoint(const std::string& endpoint, S3Config* config) {
  const size_t scheme_end = endpoint.find("://");
  if (scheme_end == std::string::npos) {
    return invalid_argument("object store URL: endpoint=" + endpoint + " must be http://HOST[:PORT] or https://HOST[:PORT]");
  }
  config->scheme = endpoint.substr(0, scheme_end);
  if (config->scheme != "http" && config->scheme != "https") {
    return invalid_argument("object store URL: endpoint scheme must be http or https, not \"" + config->scheme + "\"");
  }
  std::string host = endpoint.substr(scheme_end + 3);
  while (!host.empty() && host.back() == '/') host.pop_back();
  if (host.empty() || host.find_first_of("/?#@ ") != std::string::npos) {
    return invalid_argument("object store URL: endpoint=" + endpoint + " must be a bare http(s)://HOST[:PORT], no path");
  }
  config->endpoint_host = host;
  return Status::ok();
}

}  // namespace

bool is_s3_url(const std::string& value) { return value.rfind("s3://", 0) == 0; }

Expected<S3Config> parse_s3_url(const std::string& url) {
  if (!is_s3_url(url)) return invalid_argument("object store URL must start with s3://, got \"" + url + "\"");
  const std::string rest = url.substr(5);
  const size_t question = rest.find('?');
  const std::string location = rest.substr(0, question);
  const std::string query = question == std::string::npos ? "" : rest.substr(question + 1);
  S3Config config;
  const size_t slash = location.find('/');
  config.bucket = location.substr(0, slash);
  if (!is_valid_bucket(config.bucket)) {
    return invalid_argument("object store URL: \"" + config.bucket +
                            "\" is not a valid S3 bucket name (3-63 characters of a-z 0-9 . -)");
  }
  if (slash != std::string::npos) {
    config.prefix = location.substr(slash + 1);
    while (!config.prefix.empty() && config.prefix.back() == '/') config.prefix.pop_back();
    if (!config.prefix.empty() && !is_valid_object_key(config.prefix)) {
      return invalid_argument("object store URL: prefix \"" + config.prefix + "\" must be [A-Za-z0-9._-] segments joined by /");
    }
  }
  std::map<std::string, std::string> options;
  size_t begin = 0;
  while (begin < query.size()) {
    size_t end = query.find('&', begin);
    if (end == std::string::npos) end = query.size();
    const std::string pair = query.substr(begin, end - begin);
    begin = end + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    if (eq == std::string::npos) return invalid_argument("object store URL: option \"" + pair + "\" needs a value (NAME=VALUE)");
    options[percent_decode(pair.substr(0, eq))] = percent_decode(pair.substr(eq + 1));
  }
  std::string addressing;
  std::string credentials_file;
  std::string profile = "default";
  for (const auto& [name, value] : options) {
    if (name == "region") {
      if (value.empty()) return invalid_argument("object store URL: region must not be empty");
      config.region = value;
    } else if (name == "endpoint") {
      if (Status s = apply_endpoint(value, &config); !s) return s;
    } else if (name == "addressing") {
      if (value != "path" && value != "virtual") return invalid_argument("object store URL: addressing must be path or virtual, not \"" + value + "\"");
      addressing = value;
    } else if (name == "part_size_mib") {
      auto mib = parse_positive(name, value, 5, 5120);
      if (!mib) return mib.error();
      config.part_size_bytes = *mib << 20;
    } else if (name == "timeout_s") {
      auto seconds = parse_positive(name, value, 1, 3600);
      if (!seconds) return seconds.error();
      config.timeout_seconds = *seconds;
    } else if (name == "credentials_file") {
      credentials_file = value;
    } else if (name == "profile") {
      profile = value;
    } else {
      return invalid_argument("object store URL: unknown option \"" + name +
                              "\" (known: endpoint, region, addressing, part_size_mib, credentials_file, profile, timeout_s)");
    }
  }
  const bool aws_default = config.endpoint_host.empty();
  if (aws_default) config.endpoint_host = "s3." + config.region + ".amazonaws.com";
  config.virtual_hosted = addressing.empty() ? aws_default : addressing == "virtual";
  if (config.virtual_hosted && config.bucket.find('.') != std::string::npos && config.scheme == "https") {
    return invalid_argument("object store URL: bucket \"" + config.bucket +
                            "\" has dots, which break TLS with virtual-hosted addressing: add addressing=path");
  }
  Status credentials = credentials_file.empty() ? read_environment_credentials(&config.credentials)
                                                : read_credentials_file(credentials_file, profile, &config.credentials);
  if (!credentials) return credentials;
  return config;
}

}  // namespace frugal::storage

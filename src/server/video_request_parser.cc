#include "server/video_request_parser.h"

#include <httplib.h>

#include <charconv>
#include <map>

#include <nlohmann/json.hpp>

namespace frugal {
namespace {

// The fields read, as text: a form's values, or a JSON object's strings and numbers.
using Fields = std::map<std::string, std::string>;

std::variant<Fields, ApiError> multipart_fields(const httplib::Request& req) {
  Fields fields;
  for (const auto& [name, part] : req.files) {
    if (!part.filename.empty()) {
      return invalid_field_error(name, "File uploads ('" + name + "') are not supported: frugal serves text-to-video");
    }
    fields[name] = part.content;
  }
  return fields;
}

std::variant<Fields, ApiError> json_fields(const std::string& body) {
  const nlohmann::json root = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return invalid_field_error("", "The request body is not valid JSON");
  if (!root.is_object()) return invalid_field_error("", "The request body must be a JSON object");
  Fields fields;
  for (const auto& [name, value] : root.items()) {
    if (value.is_string()) {
      fields[name] = value.get<std::string>();
    } else if (value.is_number_integer() || value.is_number_unsigned() || value.is_number_float()) {
      fields[name] = value.dump();
    } else if (value.is_null()) {
      continue;
    } else {
      fields[name] = "\x01";  // an object, array or bool: the field's type check names it
      if (name == "input_reference") fields[name] = "object";
    }
  }
  return fields;
}

std::optional<ApiError> text_field(const Fields& fields, const std::string& name, std::optional<std::string>* out) {
  auto it = fields.find(name);
  if (it == fields.end()) return std::nullopt;
  if (it->second == "\x01") return invalid_field_error(name, "'" + name + "' must be a string");
  *out = it->second;
  return std::nullopt;
}

std::optional<ApiError> seed_field(const Fields& fields, std::optional<uint64_t>* out) {
  auto it = fields.find("seed");
  if (it == fields.end()) return std::nullopt;
  const std::string& text = it->second;
  uint64_t seed = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seed);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return invalid_field_error("seed", "'seed' must be an integer from 0 to 2^64-1");
  }
  *out = seed;
  return std::nullopt;
}

}  // namespace

std::variant<jobs::VideoCreateParams, ApiError> parse_video_create_request(const httplib::Request& req) {
  auto parsed = req.is_multipart_form_data() ? multipart_fields(req) : json_fields(req.body);
  if (auto* error = std::get_if<ApiError>(&parsed)) return *error;
  const Fields& fields = std::get<Fields>(parsed);
  if (fields.count("input_reference") != 0) {
    return invalid_field_error("input_reference", "'input_reference' is not supported: frugal serves text-to-video");
  }
  jobs::VideoCreateParams params;
  const std::pair<const char*, std::optional<std::string>*> texts[] = {
      {"prompt", &params.prompt}, {"model", &params.model},
      {"size", &params.size},     {"tier", &params.tier},
      {"seconds", &params.seconds}, {"negative_prompt", &params.negative_prompt}};
  for (const auto& [name, out] : texts) {
    if (auto error = text_field(fields, name, out)) return *error;
  }
  if (auto error = seed_field(fields, &params.seed)) return *error;
  return params;
}

}  // namespace frugal

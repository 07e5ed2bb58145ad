#include "server/video_request_parser.h"

#include <httplib.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <string_view>

#include <nlohmann/json.hpp>

namespace frugal {
namespace {

// The fields read, as text: a form's values, or a JSON object's strings and numbers.
using Fields = std::map<std::string, std::string>;

// Markers in Fields: "\x01" a value of the wrong kind (object, array, bool, file upload), "\x02" a
// JSON null (the field is absent, as OpenAI reads null).
std::variant<Fields, ApiError> multipart_fields(const httplib::Request& req) {
  Fields fields;
  for (const auto& [name, part] : req.files) {
    // A file upload is no text field: an unknown name is refused by name, a known one must be text.
    fields[name] = part.filename.empty() ? part.content : "\x01";
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
      fields[name] = "\x02";  // absent, as OpenAI reads null; still a name the route must know
    } else {
      fields[name] = "\x01";  // an object, array or bool: the field's type check names it
    }
  }
  return fields;
}

std::optional<ApiError> text_field(const Fields& fields, const std::string& name, std::optional<std::string>* out) {
  auto it = fields.find(name);
  if (it == fields.end() || it->second == "\x02") return std::nullopt;
  if (it->second == "\x01") return invalid_field_error(name, "'" + name + "' must be a string");
  *out = it->second;
  return std::nullopt;
}

std::optional<ApiError> seed_field(const Fields& fields, std::optional<uint64_t>* out) {
  auto it = fields.find("seed");
  if (it == fields.end() || it->second == "\x02") return std::nullopt;
  const std::string& text = it->second;
  uint64_t seed = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seed);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return invalid_field_error("seed", "'seed' must be an integer from 0 to 2^64-1");
  }
  *out = seed;
  return std::nullopt;
}

// The fields each route reads; anything else is refused by name.
constexpr std::array<std::string_view, 7> kCreateFields = {"prompt", "model", "size", "seconds",
                                                           "tier", "seed", "negative_prompt"};
constexpr std::array<std::string_view, 4> kRemixFields = {"prompt", "tier", "seed", "negative_prompt"};

template <size_t N>
bool known(const std::array<std::string_view, N>& names, const std::string& field) {
  return std::find(names.begin(), names.end(), field) != names.end();
}

// The first field (in name order, so the answer is stable) the route does not read, as its 400.
std::optional<ApiError> unknown_field(const Fields& fields, bool remix) {
  for (const auto& [name, value] : fields) {
    if (remix ? known(kRemixFields, name) : known(kCreateFields, name)) continue;
    if (name == "input_reference") {
      return unknown_video_parameter_error(name, "frugal serves text-to-video; image or video references are not supported");
    }
    if (remix && known(kCreateFields, name)) {
      return unknown_video_parameter_error(
          name, "a remix keeps its source video's model, size and seconds; it takes prompt, tier, seed and negative_prompt");
    }
    return unknown_video_parameter_error(
        name, remix ? "remix takes prompt, tier, seed and negative_prompt"
                    : "create takes prompt, model, size, seconds, tier, seed and negative_prompt");
  }
  return std::nullopt;
}

std::variant<jobs::VideoCreateParams, ApiError> parse_video_request(const httplib::Request& req, bool remix) {
  auto parsed = req.is_multipart_form_data() ? multipart_fields(req) : json_fields(req.body);
  if (auto* error = std::get_if<ApiError>(&parsed)) return *error;
  const Fields& fields = std::get<Fields>(parsed);
  if (auto error = unknown_field(fields, remix)) return *error;
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

}  // namespace

ApiError unknown_video_parameter_error(const std::string& field, const std::string& why) {
  ApiError error = invalid_field_error(field, "Unknown parameter: '" + field + "' (" + why + ")");
  error.code = "unknown_parameter";
  return error;
}

std::variant<jobs::VideoCreateParams, ApiError> parse_video_create_request(const httplib::Request& req) {
  return parse_video_request(req, /*remix=*/false);
}

std::variant<jobs::VideoCreateParams, ApiError> parse_video_remix_request(const httplib::Request& req) {
  return parse_video_request(req, /*remix=*/true);
}

}  // namespace frugal

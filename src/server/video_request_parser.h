// Parses the body of POST /v1/videos and /v1/videos/{id}/remix (server layer): multipart/form-data
// (what the official `openai` client always sends for create) or a JSON object. Every field is a
// string in a form; in JSON, `seconds` may also be a number and `seed` must be an integer. Unknown
// fields are ignored, as OpenAI does; `input_reference` (image-to-video) is refused: frugal serves
// text-to-video.
#pragma once

#include <string>
#include <variant>

#include "jobs/job_spec.h"
#include "server/error_mapping.h"

namespace httplib {
struct Request;
}

namespace frugal {

std::variant<jobs::VideoCreateParams, ApiError> parse_video_create_request(const httplib::Request& req);

}  // namespace frugal

// Parses the body of POST /v1/videos and /v1/videos/{id}/remix (server layer): multipart/form-data
// (what the official `openai` client always sends for create) or a JSON object. Every field is a
// string in a form; in JSON, `seconds` may also be a number and `seed` must be an integer.
// Strict, as the LLM routes are (issue #24): a field this route does not read is a 400
// `unknown_parameter` naming it in `param`, never silently ignored — a typo such as `frugal_tier`
// would otherwise make a video of the wrong tier. Create reads prompt, model, size, seconds (OpenAI)
// and tier, seed, negative_prompt (frugal's); `input_reference` (image-to-video) is refused as
// unsupported: frugal serves text-to-video. Remix reads prompt, tier, seed and negative_prompt: the
// remix keeps its source video's model, size and seconds, so asking for others is refused too.
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
std::variant<jobs::VideoCreateParams, ApiError> parse_video_remix_request(const httplib::Request& req);

// The 400 for a field a video route does not take: code unknown_parameter, param the field.
ApiError unknown_video_parameter_error(const std::string& field, const std::string& why);

}  // namespace frugal

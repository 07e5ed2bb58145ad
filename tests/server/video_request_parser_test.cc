// The body parser of POST /v1/videos and /v1/videos/{id}/remix: the fields each route reads, and
// the 400 unknown_parameter (naming the field) for every other one, in JSON and in multipart forms
// (what the official openai client sends for create).
#include "server/video_request_parser.h"

#include <httplib.h>

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace frugal {
namespace {

httplib::Request json_request(const std::string& body) {
  httplib::Request req;
  req.set_header("Content-Type", "application/json");
  req.body = body;
  return req;
}

// A multipart request as httplib hands it to a handler: the parts already split into `files`.
httplib::Request form_request(const std::vector<std::pair<std::string, std::string>>& fields,
                              const std::string& upload = "") {
  httplib::Request req;
  req.set_header("Content-Type", "multipart/form-data; boundary=xyz");
  for (const auto& [name, value] : fields) req.files.emplace(name, httplib::MultipartFormData{name, value, "", ""});
  if (!upload.empty()) req.files.emplace(upload, httplib::MultipartFormData{upload, "\x89PNG", "a.png", "image/png"});
  return req;
}

ApiError error_of(const std::variant<jobs::VideoCreateParams, ApiError>& parsed) {
  EXPECT_TRUE(std::holds_alternative<ApiError>(parsed));
  return std::holds_alternative<ApiError>(parsed) ? std::get<ApiError>(parsed) : ApiError{};
}

void expect_unknown(const std::variant<jobs::VideoCreateParams, ApiError>& parsed, const std::string& field,
                    const std::string& what) {
  const ApiError error = error_of(parsed);
  EXPECT_EQ(error.http_status, 400) << what;
  EXPECT_EQ(error.type, "invalid_request_error") << what;
  EXPECT_EQ(error.code, "unknown_parameter") << what;
  EXPECT_EQ(error.param, field) << what;
  EXPECT_NE(error.message.find("'" + field + "'"), std::string::npos) << what << ": " << error.message;
}

TEST(VideoRequestParser, CreateReadsEveryFieldItKnowsFromJsonAndForms) {
  const auto from_json = parse_video_create_request(json_request(
      R"({"prompt": "a red circle", "model": "wan-shapes", "size": "64x64", "seconds": 1, "tier": "final",
          "seed": 7, "negative_prompt": "blur"})"));
  ASSERT_TRUE(std::holds_alternative<jobs::VideoCreateParams>(from_json));
  const auto& p = std::get<jobs::VideoCreateParams>(from_json);
  EXPECT_EQ(p.prompt, "a red circle");
  EXPECT_EQ(p.model, "wan-shapes");
  EXPECT_EQ(p.size, "64x64");
  EXPECT_EQ(p.seconds, "1");
  EXPECT_EQ(p.tier, "final");
  EXPECT_EQ(p.seed, 7u);
  EXPECT_EQ(p.negative_prompt, "blur");

  const auto from_form = parse_video_create_request(
      form_request({{"prompt", "a blue square"}, {"seconds", "1"}, {"size", "64x64"}, {"tier", "draft"}, {"seed", "3"}}));
  ASSERT_TRUE(std::holds_alternative<jobs::VideoCreateParams>(from_form));
  EXPECT_EQ(std::get<jobs::VideoCreateParams>(from_form).tier, "draft");
  EXPECT_EQ(std::get<jobs::VideoCreateParams>(from_form).seed, 3u);

  // null is "absent", as OpenAI reads it, for a field the route knows.
  const auto nulls = parse_video_create_request(json_request(R"({"prompt": "x", "size": null, "seed": null})"));
  ASSERT_TRUE(std::holds_alternative<jobs::VideoCreateParams>(nulls));
  EXPECT_FALSE(std::get<jobs::VideoCreateParams>(nulls).size.has_value());
  EXPECT_FALSE(std::get<jobs::VideoCreateParams>(nulls).seed.has_value());
}

TEST(VideoRequestParser, CreateRefusesUnknownAndUnsupportedFieldsByName) {
  expect_unknown(parse_video_create_request(json_request(R"({"prompt": "x", "frugal_tier": "draft"})")), "frugal_tier",
                 "JSON typo of tier");
  expect_unknown(parse_video_create_request(json_request(R"({"prompt": "x", "quality": null})")), "quality",
                 "an unknown name even when null");
  expect_unknown(parse_video_create_request(json_request(R"({"prompt": "x", "steps": 50})")), "steps",
                 "a tier setting is not a request field");
  expect_unknown(parse_video_create_request(form_request({{"prompt", "x"}, {"frugal_tier", "draft"}})), "frugal_tier",
                 "multipart typo of tier");
  expect_unknown(parse_video_create_request(form_request({{"prompt", "x"}, {"input_reference", "data"}})),
                 "input_reference", "a reference as a form value");
  expect_unknown(parse_video_create_request(form_request({{"prompt", "x"}}, "input_reference")), "input_reference",
                 "a reference image upload");
  expect_unknown(parse_video_create_request(json_request(R"({"prompt": "x", "input_reference": {"image_url": "u"}})")),
                 "input_reference", "a reference object in JSON");
  expect_unknown(parse_video_create_request(form_request({{"prompt", "x"}}, "poster")), "poster", "an unknown upload");
}

TEST(VideoRequestParser, AKnownFieldOfTheWrongKindIsAnInvalidValueNotAnUnknownOne) {
  for (const std::string& body : {std::string(R"({"prompt": ["x"]})"), std::string(R"({"prompt": "x", "tier": true})")}) {
    const ApiError error = error_of(parse_video_create_request(json_request(body)));
    EXPECT_EQ(error.http_status, 400) << body;
    EXPECT_NE(error.code, "unknown_parameter") << body;
  }
  const ApiError upload = error_of(parse_video_create_request(form_request({}, "prompt")));
  EXPECT_EQ(upload.param, "prompt");
  EXPECT_NE(upload.code, "unknown_parameter");
  EXPECT_EQ(error_of(parse_video_create_request(json_request("[1]"))).http_status, 400);
  EXPECT_EQ(error_of(parse_video_create_request(json_request("not json"))).http_status, 400);
}

TEST(VideoRequestParser, RemixTakesPromptTierSeedAndNegativePromptOnly) {
  const auto ok = parse_video_remix_request(json_request(R"({"prompt": "a blue fox", "tier": "final", "seed": 2})"));
  ASSERT_TRUE(std::holds_alternative<jobs::VideoCreateParams>(ok));
  EXPECT_EQ(std::get<jobs::VideoCreateParams>(ok).prompt, "a blue fox");
  // The official client's remix sends a JSON body {prompt}; a form works as well.
  EXPECT_TRUE(std::holds_alternative<jobs::VideoCreateParams>(parse_video_remix_request(form_request({{"prompt", "y"}}))));
  // The remix keeps the source's model, size and seconds: asking for others is refused, not ignored.
  for (const std::string field : {"model", "size", "seconds"}) {
    expect_unknown(parse_video_remix_request(json_request(R"({"prompt": "y", ")" + field + R"(": "1"})")), field,
                   "remix " + field);
  }
  expect_unknown(parse_video_remix_request(form_request({{"prompt", "y"}, {"frugal_tier", "final"}})), "frugal_tier",
                 "remix typo");
}

}  // namespace
}  // namespace frugal

#include "server/review_routes.h"

#include <httplib.h>

#include <charconv>
#include <cstdio>
#include <regex>
#include <string_view>

#include "jobs/review.h"
#include "server/error_mapping.h"
#include "server/openai_response.h"
#include "trust/audit_sink.h"

namespace frugal {
namespace {

void send_api_error(httplib::Response& res, const ApiError& error) {
  res.status = error.http_status;
  res.set_content(api_error_body(error), "application/json");
}

void send_json(httplib::Response& res, const nlohmann::json& body) {
  res.status = 200;
  res.set_content(dump_json(body), "application/json");
}

nlohmann::json parse_or_null(const std::string& text) {
  nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return value.is_discarded() ? nlohmann::json(nullptr) : value;
}

// A held (or decided) job as the reviewer sees it.
nlohmann::json review_object_json(const jobs::JobRecord& job) {
  const nlohmann::json review = parse_or_null(job.review);
  const std::string base = "/v1/review/videos/" + job.id;
  nlohmann::json frames = nlohmann::json::array();
  for (int64_t index : jobs::review_frames(job.review)) {
    frames.push_back({{"index", index}, {"url", base + "/frames/" + std::to_string(index)}});
  }
  return {{"id", job.id},
          {"object", "video.review"},
          {"status", jobs::job_state_name(job.state)},
          {"model", job.model},
          {"tier", job.tier},
          {"prompt", job.prompt},
          {"negative_prompt", job.negative_prompt},
          {"size", job.size},
          {"seconds", job.seconds},
          {"seed", job.seed},
          {"created_at", job.created_at},
          {"hold_reason", job.hold_reason},
          {"checks", review.is_object() && review.contains("checks") ? review["checks"] : nlohmann::json::array()},
          {"frames", frames},
          {"content_url", base + "/content"},
          {"decision", review.is_object() && review.contains("decision") ? review["decision"] : nlohmann::json(nullptr)},
          {"error", job.state == jobs::JobState::kFailed
                        ? nlohmann::json{{"code", job.error_code}, {"message", job.error_message}}
                        : nlohmann::json(nullptr)}};
}

// The "reason" of an approve/reject body; nullopt after answering an error.
std::optional<std::string> read_reason(const httplib::Request& req, httplib::Response& res, bool required) {
  const nlohmann::json body = req.body.empty() ? nlohmann::json::object() : parse_or_null(req.body);
  if (!body.is_object()) {
    send_api_error(res, invalid_field_error("", "The body must be a JSON object, e.g. {\"reason\": \"...\"}"));
    return std::nullopt;
  }
  if (body.contains("reason") && !body["reason"].is_string()) {
    send_api_error(res, invalid_field_error("reason", "'reason' must be a string"));
    return std::nullopt;
  }
  std::string reason = body.value("reason", "");
  if (required && reason.empty()) {
    send_api_error(res, invalid_field_error("reason", "A rejection needs a non-empty 'reason'"));
    return std::nullopt;
  }
  if (reason.size() > 4096) {
    send_api_error(res, invalid_field_error("reason", "'reason' is longer than 4096 bytes"));
    return std::nullopt;
  }
  return reason;
}

void decide(const httplib::Request& req, httplib::Response& res, jobs::VideoService& service, bool approve) {
  auto reason = read_reason(req, res, !approve);
  if (!reason) return;
  const std::string id = req.matches[1];
  const std::string reviewer = reviewer_id(req.get_header_value("Authorization"));
  if (Status s = service.decide_review(id, approve, *reason, reviewer); !s) {
    return send_api_error(res, api_error_from_status(s));
  }
  auto job = service.get(id);
  if (!job) return send_api_error(res, api_error_from_status(job.error()));
  send_json(res, review_object_json(job->job));
}

}  // namespace

bool is_review_path(const std::string& path) { return path == "/v1/review" || path.rfind("/v1/review/", 0) == 0; }

bool is_review_route_path(const std::string& path) {
  static const std::regex kReviewPath(R"(/v1/review/videos(/[^/]+(/content|/approve|/reject|/frames/[0-9]+)?)?)");
  return std::regex_match(path, kReviewPath);
}

std::string review_route_methods(const std::string& path) {
  if (path.size() > 8 && (path.rfind("/approve") == path.size() - 8 || path.rfind("/reject") == path.size() - 7)) {
    return "POST";
  }
  return "GET, HEAD";
}

std::string reviewer_id(const std::string& authorization_header) {
  constexpr std::string_view kBearer = "Bearer ";
  std::string_view token = authorization_header;
  if (token.substr(0, kBearer.size()) == kBearer) token.remove_prefix(kBearer.size());
  return trust::api_key_id(std::string(token));
}

void install_review_routes(httplib::Server& server, jobs::VideoService& service) {
  server.Get("/v1/review/videos", [&service](const httplib::Request& req, httplib::Response& res) {
    int64_t limit = 100;
    if (req.has_param("limit")) {
      const std::string text = req.get_param_value("limit");
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
      if (ec != std::errc() || end != text.data() + text.size() || limit < 1 || limit > 100) {
        return send_api_error(res, invalid_field_error("limit", "'limit' must be an integer from 1 to 100"));
      }
    }
    auto held = service.review_queue(limit);
    if (!held) return send_api_error(res, api_error_from_status(held.error()));
    nlohmann::json data = nlohmann::json::array();
    for (const jobs::JobRecord& job : *held) data.push_back(review_object_json(job));
    send_json(res, {{"object", "list"}, {"data", data}});
  });
  server.Get(R"(/v1/review/videos/([^/]+))", [&service](const httplib::Request& req, httplib::Response& res) {
    auto view = service.get(req.matches[1]);
    if (!view) return send_api_error(res, api_error_from_status(view.error()));
    send_json(res, review_object_json(view->job));
  });
  server.Get(R"(/v1/review/videos/([^/]+)/frames/([0-9]+))",
             [&service](const httplib::Request& req, httplib::Response& res) {
               int64_t index = 0;
               const std::string text = req.matches[2];
               const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), index);
               if (ec != std::errc()) return send_api_error(res, invalid_field_error("index", "frame index out of range"));
               auto bytes = service.review_frame(req.matches[1], index);
               if (!bytes) return send_api_error(res, api_error_from_status(bytes.error()));
               res.status = 200;
               res.set_header("Cache-Control", "private, no-store");
               res.set_content(std::move(*bytes), "image/png");
             });
  server.Get(R"(/v1/review/videos/([^/]+)/content)", [&service](const httplib::Request& req, httplib::Response& res) {
    const std::string variant = req.has_param("variant") ? req.get_param_value("variant") : "video";
    auto bytes = service.review_content(req.matches[1], variant);
    if (!bytes) return send_api_error(res, api_error_from_status(bytes.error(), variant != "video" ? "variant" : ""));
    res.status = 200;
    res.set_header("Cache-Control", "private, no-store");
    res.set_content(std::move(*bytes), variant == "video" ? "video/mp4" : "image/png");
  });
  server.Post(R"(/v1/review/videos/([^/]+)/approve)", [&service](const httplib::Request& req, httplib::Response& res) {
    decide(req, res, service, true);
  });
  server.Post(R"(/v1/review/videos/([^/]+)/reject)", [&service](const httplib::Request& req, httplib::Response& res) {
    decide(req, res, service, false);
  });
}

}  // namespace frugal

#include "server/video_routes.h"

#include <httplib.h>

#include <charconv>
#include <cmath>
#include <functional>
#include <regex>

#include "core/logging.h"
#include "server/error_mapping.h"
#include "server/moderation_gate.h"
#include "server/openai_response.h"
#include "server/video_json.h"
#include "server/video_page.h"
#include "server/video_request_parser.h"
#include "server/llm_audit.h"
#include "trust/audit_sink.h"

namespace frugal {
namespace {

// Idempotency-Key values longer than this are refused (they are stored per job).
constexpr size_t kMaxIdempotencyKeyBytes = 255;

void send_api_error(httplib::Response& res, const ApiError& error) {
  res.status = error.http_status;
  if (error.retry_after_seconds > 0) res.set_header("Retry-After", std::to_string(error.retry_after_seconds));
  res.set_content(api_error_body(error), "application/json");
}

void send_json(httplib::Response& res, const nlohmann::json& body) {
  res.status = 200;
  res.set_content(dump_json(body), "application/json");
}

// A spec or store failure as the API shows it: an unknown model is OpenAI's model_not_found, a
// full queue says when to come back (about one video of the default tier).
ApiError spec_error(const jobs::SpecError& error, jobs::VideoService& service) {
  if (error.status.code() == StatusCode::kNotFound && error.param == "model") {
    ApiError api = api_error_from_status(error.status, "model");
    api.code = "model_not_found";
    return api;
  }
  ApiError api = api_error_from_status(error.status, error.param);
  if (api.http_status == 429) api.retry_after_seconds = service.retry_after_seconds();
  return api;
}

// Who the caller is, for Idempotency-Key scopes, the per-key job limit and the audit log: the bearer
// token's trust::api_key_id ("" without one: every anonymous caller is one key).
std::string api_key_hash(const httplib::Request& req) {
  return trust::api_key_id(bearer_token(req.get_header_value("Authorization")));
}

void answer_submit(httplib::Response& res, jobs::VideoService& service,
                   const std::variant<jobs::SubmitOutcome, jobs::SpecError>& outcome) {
  if (auto* error = std::get_if<jobs::SpecError>(&outcome)) return send_api_error(res, spec_error(*error, service));
  const auto& submitted = std::get<jobs::SubmitOutcome>(outcome);
  if (submitted.existing) res.set_header("Idempotent-Replayed", "true");
  send_json(res, video_object_json(submitted.view));
}

// The create/remix fields plus the headers that go with them; false after answering an error.
bool read_create_params(const httplib::Request& req, httplib::Response& res, bool remix,
                        jobs::VideoCreateParams* params) {
  auto parsed = remix ? parse_video_remix_request(req) : parse_video_create_request(req);
  if (auto* error = std::get_if<ApiError>(&parsed)) {
    send_api_error(res, *error);
    return false;
  }
  *params = std::get<jobs::VideoCreateParams>(std::move(parsed));
  params->idempotency_key = req.get_header_value("Idempotency-Key");
  if (params->idempotency_key.size() > kMaxIdempotencyKeyBytes) {
    send_api_error(res, invalid_field_error("Idempotency-Key", "The Idempotency-Key header is longer than 255 bytes"));
    return false;
  }
  params->api_key_hash = api_key_hash(req);
  return true;
}

// The prompt's moderation: false after answering a block (or a hold nobody could review); a hold
// marks the job for review.
bool moderate_video(httplib::Response& res, const trust::Moderator* moderator, bool reviewers,
                    jobs::VideoCreateParams* params) {
  if (moderator == nullptr || !params->prompt) return true;
  const trust::ModerationVerdict verdict = moderator->check({*params->prompt}, "video");
  if (verdict.action == trust::ModerationAction::kAllow) return true;
  log_info("moderation: " + std::string(trust::moderation_action_name(verdict.action)) + " video request, category " +
           verdict.category + ", matched " + nlohmann::json(verdict.matched_term).dump() + " (" + verdict.source + ")");
  if (verdict.blocked() || !reviewers) {
    send_api_error(res, content_policy_error(verdict, "prompt", /*held=*/!verdict.blocked()));
    return false;
  }
  params->hold_reason = "moderation: category " + verdict.category + " (" + verdict.source + ")";
  return true;
}

// after / limit / order of GET /v1/videos; nullopt after answering an error.
std::optional<jobs::ListQuery> read_list_query(const httplib::Request& req, httplib::Response& res) {
  jobs::ListQuery query;
  query.after = req.get_param_value("after");
  if (req.has_param("limit")) {
    const std::string text = req.get_param_value("limit");
    int64_t limit = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
    if (ec != std::errc() || end != text.data() + text.size() || limit < 1 || limit > 100) {
      send_api_error(res, invalid_field_error("limit", "'limit' must be an integer from 1 to 100"));
      return std::nullopt;
    }
    query.limit = limit;
  }
  const std::string order = req.has_param("order") ? req.get_param_value("order") : "desc";
  if (order != "asc" && order != "desc") {
    send_api_error(res, invalid_field_error("order", "'order' must be asc or desc"));
    return std::nullopt;
  }
  query.ascending = order == "asc";
  return query;
}

// With an S3 object store, a completed video's object carries frugal_download_url: a presigned GET
// of its MP4, valid an hour (at most until the video expires), so a client can fetch the bytes from
// the bucket directly. /content streams them through this node either way.
constexpr int64_t kDownloadUrlSeconds = 3600;

void add_download_url(nlohmann::json& body, jobs::VideoService& service, const std::string& id) {
  if (body.value("status", "") != "completed") return;
  auto url = service.content_url(id, "video", kDownloadUrlSeconds);
  if (url) body["frugal_download_url"] = *url;  // kUnimplemented (local store): no field
}

void get_content(const httplib::Request& req, httplib::Response& res, jobs::VideoService& service) {
  const std::string variant = req.has_param("variant") ? req.get_param_value("variant") : "video";
  auto bytes = service.content(req.matches[1], variant);
  if (!bytes) {
    return send_api_error(res, api_error_from_status(bytes.error(), variant != "video" ? "variant" : ""));
  }
  res.status = 200;
  res.set_header("Cache-Control", "private, max-age=3600");
  res.set_content(std::move(*bytes), variant == "video" ? "video/mp4" : "image/png");
}

}  // namespace

bool is_video_route_path(const std::string& path) {
  static const std::regex kVideoPath(R"(/v1/videos(/[^/]+(/content|/remix)?)?)");
  return std::regex_match(path, kVideoPath);
}

std::string video_route_methods(const std::string& path) {
  if (path == "/v1/videos") return "GET, HEAD, POST";
  if (path.size() > 8 && path.rfind("/content") == path.size() - 8) return "GET, HEAD";
  if (path.size() > 6 && path.rfind("/remix") == path.size() - 6) return "POST";
  return "GET, HEAD, DELETE";  // /v1/videos/{id}
}

void install_video_routes(httplib::Server& server, jobs::VideoService& service, const trust::Moderator* moderator,
                          bool reviewers) {
  std::vector<std::string> tiers;
  tiers.push_back(service.config().default_tier);  // selected first
  for (const jobs::TierPreset& tier : service.config().tiers) {
    if (tier.name != service.config().default_tier) tiers.push_back(tier.name);
  }
  server.Get("/", [page = video_page_html(tiers)](const httplib::Request&, httplib::Response& res) {
    res.set_content(page, "text/html; charset=utf-8");
  });
  server.Post("/v1/videos", [&service, moderator, reviewers](const httplib::Request& req, httplib::Response& res) {
    jobs::VideoCreateParams params;
    if (!read_create_params(req, res, /*remix=*/false, &params) || !moderate_video(res, moderator, reviewers, &params)) {
      return;
    }
    answer_submit(res, service, service.submit(params));
  });
  server.Get("/v1/videos", [&service](const httplib::Request& req, httplib::Response& res) {
    auto query = read_list_query(req, res);
    if (!query) return;
    auto page = service.list(*query);
    if (!page) return send_api_error(res, api_error_from_status(page.error(), "after"));
    send_json(res, video_list_json(page->first, page->second));
  });
  server.Get(R"(/v1/videos/([^/]+))", [&service](const httplib::Request& req, httplib::Response& res) {
    auto view = service.get(req.matches[1]);
    if (!view) return send_api_error(res, api_error_from_status(view.error()));
    nlohmann::json body = video_object_json(*view);
    add_download_url(body, service, req.matches[1]);
    send_json(res, body);
  });
  server.Get(R"(/v1/videos/([^/]+)/content)", [&service](const httplib::Request& req, httplib::Response& res) {
    get_content(req, res, service);
  });
  server.Delete(R"(/v1/videos/([^/]+))", [&service](const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    if (Status s = service.remove(id); !s) return send_api_error(res, api_error_from_status(s));
    send_json(res, video_deleted_json(id));
  });
  server.Post(R"(/v1/videos/([^/]+)/remix)", [&service, moderator, reviewers](const httplib::Request& req, httplib::Response& res) {
    jobs::VideoCreateParams params;
    if (!read_create_params(req, res, /*remix=*/true, &params) || !moderate_video(res, moderator, reviewers, &params)) {
      return;
    }
    answer_submit(res, service, service.remix(req.matches[1], params));
  });
}

}  // namespace frugal

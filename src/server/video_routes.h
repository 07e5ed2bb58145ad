// The OpenAI Videos API routes (server layer), on the same httplib server as the LLM routes:
//   POST   /v1/videos                     create (multipart/form-data or JSON; Idempotency-Key)
//   GET    /v1/videos                     list (after, limit 1..100, order asc|desc)
//   GET    /v1/videos/{id}                retrieve
//   GET    /v1/videos/{id}/content        download (variant=video|thumbnail|spritesheet)
//   DELETE /v1/videos/{id}                delete (cancels queued or running work)
//   POST   /v1/videos/{id}/remix          a new video from a completed one with a new prompt
//   GET    /                              the page for people (server/video_page.h)
// Every failure is an OpenAI error body from error_mapping; a full queue is 429 with Retry-After.
#pragma once

#include <string>

#include "jobs/video_service.h"
#include "trust/moderator.h"

namespace httplib {
class Server;
}

namespace frugal {

// Installs the routes; `service` and `moderator` (may be null: no moderation) must outlive the server.
// With a moderator, create and remix check the prompt first: block -> 400 content_policy_violation
// (no job is stored), hold -> the job is stored with hold_reason set (server/moderation_gate.h) when
// `reviewers` (the server has reviewer keys), else 400 content_policy_review_required: with nobody to
// review it, a held job would wait forever.
void install_video_routes(httplib::Server& server, jobs::VideoService& service,
                          const trust::Moderator* moderator = nullptr, bool reviewers = false);
// True for paths these routes serve with some method (so another method is a 405, not a 404).
bool is_video_route_path(const std::string& path);
// The methods a video route path answers, for the Allow header of a 405 ("GET, HEAD, POST", ...).
std::string video_route_methods(const std::string& path);

}  // namespace frugal

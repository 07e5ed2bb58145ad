// The human review routes (server layer; docs/design/trust-review.md), for reviewers only: the
// server's pre-routing admits a request under /v1/review/ only with a key of the reviewer key list
// (--reviewer-key-file) — no key or an unknown one is 401, an ordinary API key is 403.
//   GET  /v1/review/videos                         the queue: held videos, oldest first (limit 1..100)
//   GET  /v1/review/videos/{id}                    one video: prompt, settings, checks, frames, decision
//   GET  /v1/review/videos/{id}/frames/{index}     a sampled frame (image/png)
//   GET  /v1/review/videos/{id}/content            its video | thumbnail | spritesheet (variant=)
//   POST /v1/review/videos/{id}/approve            {"reason": optional}: the requester gets the video
//   POST /v1/review/videos/{id}/reject             {"reason": required}: deleted, the job fails
#pragma once

#include <string>

#include "jobs/video_service.h"

namespace httplib {
class Server;
}

namespace frugal {

void install_review_routes(httplib::Server& server, jobs::VideoService& service);
// True for paths under /v1/review/ (the reviewer-key zone), served or not.
bool is_review_path(const std::string& path);
// True for the paths these routes serve with some method; the methods for a 405's Allow header.
bool is_review_route_path(const std::string& path);
std::string review_route_methods(const std::string& path);
// The reviewer's id in the review record and the audit log: trust::api_key_id of the bearer token
// ("key_" + 16 hex digits of its SHA-256), the same non-secret name the audit log gives API keys.
std::string reviewer_id(const std::string& authorization_header);

}  // namespace frugal

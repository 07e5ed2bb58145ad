// The Lua scripts of the Redis Streams job store (jobs layer; docs/design/video-service.md, "Redis
// Streams backend"). Each state change of a job is one script, so Redis runs it atomically: the job
// hash, its indexes and its stream entry change together or not at all, whichever API node or
// worker sends it. Every script takes ARGV[1] = the key prefix ("frugal:") and then the arguments
// its comment lists; it answers an array whose first element says what happened:
//   "ok" | "job" (then HGETALL of the job) | "none" | "not_found" | "conflict" (then the state) |
//   "lost" (another worker took the job over) | "existing" (then the id) | "full" | "per_key" (then n).
// The finishing scripts (complete, fail, hold, release) take the fence the claim gave this worker:
// "" (it claimed no such job) answers "conflict", another run's fence "lost".
// Scripts are repeatable: a command resent after a lost reply (redis_connection.h) finds the change
// made and answers as the first run did.
#pragma once

#include <string>

namespace frugal::jobs::redis_scripts {

// ARGV: id model tier priority idempotency_key api_key_hash spec created_at webhook_state
//       max_queued max_active_per_key
extern const std::string kSubmit;
// ARGV: model now consumer lease_ms max_attempts [tier cap]...
extern const std::string kClaim;
// ARGV: id progress token consumer ("" token: not this worker's job → "not_found")
extern const std::string kProgress;
// ARGV: id token consumer — resets the lease of a job this consumer runs (XCLAIM JUSTID).
extern const std::string kTouch;
// ARGV: id token now expires_at compute_seconds cost_usd stages
extern const std::string kComplete;
// ARGV: id token now code message
extern const std::string kFail;
// ARGV: id token now compute_seconds cost_usd stages reason review
extern const std::string kHold;
// ARGV: id approve(0/1) reason review expires_at now
extern const std::string kDecide;
// ARGV: id token consumer lease_ms — in_progress → queued, its entry idle for takeover at once.
extern const std::string kRelease;
// ARGV: consumer lease_ms max_attempts now — this consumer's pending jobs (a previous process of it died).
extern const std::string kRecover;
// ARGV: id
extern const std::string kRemove;
// ARGV: id webhook_state next_at
extern const std::string kWebhookAttempt;

}  // namespace frugal::jobs::redis_scripts

// A video job: its record and the one state machine (jobs layer). Every state change is made by a
// JobStore in one durable transaction (see job_store.h); this file says which changes exist.
//
//   queued ──claim──► in_progress ──complete──► completed
//     ▲                   │ │└──────fail──────► failed
//     └──── recover ──────┘ └─hold─► held_for_review ─approve─► completed
//   (a restart finds it           (a post-generation     └──reject──► failed
//    in_progress: its worker       check flagged it;
//    died with it)                 docs/design/trust-review.md)
// A deleted job is removed from the store in any state; a running one is cancelled first.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/status.h"

namespace frugal::jobs {

enum class JobState { kQueued, kInProgress, kCompleted, kFailed, kHeld };

// A job's completion/failure webhook (jobs/webhook_dispatcher.h). kWaiting is set at submit when the
// server has a webhook endpoint; the commit that makes the job terminal turns it into kPending in the
// same transaction, so a restart still delivers it; then kDelivered, or kAbandoned after the last retry.
enum class WebhookState { kNone, kWaiting, kPending, kDelivered, kAbandoned };
const char* webhook_state_name(WebhookState state);  // "", "waiting", "pending", "delivered", "abandoned"
WebhookState parse_webhook_state(const std::string& name);  // unknown → kNone

// The stored name: "queued", "in_progress", "completed", "failed", "held_for_review". The API shows
// a held job as "in_progress" (api_state_name): OpenAI's clients know only the first four.
const char* job_state_name(JobState state);
const char* api_state_name(JobState state);
std::optional<JobState> parse_job_state(const std::string& name);
bool is_terminal(JobState state);
// OK when `from` → `to` is an edge of the diagram above; kInternal otherwise (a programmer error
// the store reports instead of writing).
Status check_transition(JobState from, JobState to);

// Wall seconds of each stage of a finished run.
struct StageSeconds {
  double queue = 0;        // created → claimed (last attempt)
  double text_encode = 0;
  double denoise = 0;
  double vae_decode = 0;   // includes streaming the frames into the H.264 encoder
  double mp4_encode = 0;   // finishing the MP4, thumbnail and spritesheet, storing them
  double total = 0;        // claimed → completed
};

struct JobRecord {
  std::string id;                // "video_<hex>"
  std::string tier;              // a tier preset's name
  std::string model;             // the served video model that runs it
  std::string prompt;
  std::string negative_prompt;   // "" → Wan's default
  std::string seconds;           // as requested / answered ("0.5", "4")
  std::string size;              // "WxH"
  int64_t width = 0, height = 0; // pixels, multiples of 16
  int64_t frames = 0;            // 4n+1 at 16 fps
  int steps = 0;
  std::string sampler;           // "unipc" | "dpm++" | "euler"
  double cfg = 0;
  double shift = 0;
  uint64_t seed = 0;
  int priority = 0;              // higher runs first; copied from the tier at submit
  std::string remixed_from;      // "" unless made by /remix
  std::string idempotency_key;   // "" when none was sent
  std::string api_key_hash;      // who submitted it ("" without API keys)
  // Non-empty: prompt moderation said "hold" ("moderation: category self_harm (term)"): the video is
  // generated, then held for human review like a flagged post-check (hold_reason below). Spec JSON.
  std::string moderation_hold;

  JobState state = JobState::kQueued;
  double progress = 0;           // 0..100
  int64_t created_at = 0;        // unix seconds
  int64_t started_at = 0;        // 0 until claimed
  int64_t completed_at = 0;      // 0 until terminal
  int64_t expires_at = 0;        // files' expiry; 0 until completed
  int attempts = 0;              // claims so far (> 1 after a restart interrupted it)
  int completions = 0;           // times it reached completed: 1 at most, asserted by the kill -9 test
  std::string error_code;        // failed only
  std::string error_message;
  double compute_seconds = 0;    // wall × threads of the run that completed it
  double cost_usd = 0;
  double predicted_seconds = 0;  // the estimate given at submit (0: none yet)
  StageSeconds stage_seconds;
  WebhookState webhook_state = WebhookState::kNone;
  int webhook_attempts = 0;      // delivery attempts so far
  int64_t webhook_next_at = 0;   // unix seconds of the next attempt while kPending
  std::string hold_reason;       // why it was held for review ("" when it never was)
  std::string review;            // JSON: the post-generation checks, sampled frames, the decision ("" → none)
};

// The parts of a record the worker fills in when a run succeeds.
struct JobResult {
  double compute_seconds = 0;
  double cost_usd = 0;
  int64_t expires_at = 0;
  StageSeconds stage_seconds;
};

}  // namespace frugal::jobs

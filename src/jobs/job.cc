#include "jobs/job.h"

namespace frugal::jobs {

const char* job_state_name(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return "queued";
    case JobState::kInProgress:
      return "in_progress";
    case JobState::kCompleted:
      return "completed";
    case JobState::kFailed:
      return "failed";
    case JobState::kHeld:
      return "held_for_review";
  }
  return "failed";
}

const char* api_state_name(JobState state) {
  return state == JobState::kHeld ? job_state_name(JobState::kInProgress) : job_state_name(state);
}

std::optional<JobState> parse_job_state(const std::string& name) {
  for (JobState state : {JobState::kQueued, JobState::kInProgress, JobState::kCompleted, JobState::kFailed, JobState::kHeld}) {
    if (name == job_state_name(state)) return state;
  }
  return std::nullopt;
}

bool is_terminal(JobState state) {
  switch (state) {
    case JobState::kCompleted:
    case JobState::kFailed:
      return true;
    case JobState::kQueued:
    case JobState::kInProgress:
    case JobState::kHeld:
      return false;
  }
  return false;
}

const char* webhook_state_name(WebhookState state) {
  switch (state) {
    case WebhookState::kNone:
      return "";
    case WebhookState::kWaiting:
      return "waiting";
    case WebhookState::kPending:
      return "pending";
    case WebhookState::kDelivered:
      return "delivered";
    case WebhookState::kAbandoned:
      return "abandoned";
  }
  return "";
}

WebhookState parse_webhook_state(const std::string& name) {
  for (WebhookState state : {WebhookState::kWaiting, WebhookState::kPending, WebhookState::kDelivered,
                             WebhookState::kAbandoned}) {
    if (name == webhook_state_name(state)) return state;
  }
  return WebhookState::kNone;
}

Status check_transition(JobState from, JobState to) {
  const bool allowed = (from == JobState::kQueued && to == JobState::kInProgress) ||
                       (from == JobState::kInProgress && to == JobState::kCompleted) ||
                       (from == JobState::kInProgress && to == JobState::kFailed) ||
                       (from == JobState::kInProgress && to == JobState::kQueued) ||
                       (from == JobState::kInProgress && to == JobState::kHeld) ||
                       (from == JobState::kHeld && to == JobState::kCompleted) ||
                       (from == JobState::kHeld && to == JobState::kFailed);
  if (allowed) return Status::ok();
  return internal_error(std::string("job state change ") + job_state_name(from) + " -> " + job_state_name(to) +
                        " is not allowed");
}

}  // namespace frugal::jobs

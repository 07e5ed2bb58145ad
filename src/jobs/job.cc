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
  }
  return "failed";
}

std::optional<JobState> parse_job_state(const std::string& name) {
  for (JobState state : {JobState::kQueued, JobState::kInProgress, JobState::kCompleted, JobState::kFailed}) {
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
                       (from == JobState::kInProgress && to == JobState::kQueued);
  if (allowed) return Status::ok();
  return internal_error(std::string("job state change ") + job_state_name(from) + " -> " + job_state_name(to) +
                        " is not allowed");
}

}  // namespace frugal::jobs

#include "jobs/webhook_dispatcher.h"

#include <nlohmann/json.hpp>

#include "core/logging.h"
#include "jobs/video_worker.h"

namespace frugal::jobs {
namespace {

// Due deliveries read per store query; the rest are read by the next one.
constexpr int64_t kDueBatch = 16;

}  // namespace

std::string webhook_event_id(const JobRecord& job) {
  const std::string prefix = "video_";
  return "evt_" + (job.id.rfind(prefix, 0) == 0 ? job.id.substr(prefix.size()) : job.id);
}

std::string webhook_event_body(const JobRecord& job) {
  const nlohmann::json event = {
      {"id", webhook_event_id(job)},
      {"object", "event"},
      {"created_at", job.completed_at},
      {"type", job.state == JobState::kCompleted ? "video.completed" : "video.failed"},
      {"data", {{"id", job.id}}},
  };
  return event.dump();
}

WebhookDispatcher::WebhookDispatcher(JobStore& store, webhooks::WebhookSender sender, WebhookDispatcherOptions options,
                                     const VideoMetrics* metrics)
    : store_(store), sender_(std::move(sender)), options_(std::move(options)), metrics_(metrics) {}

WebhookDispatcher::~WebhookDispatcher() { stop(); }

void WebhookDispatcher::start() { thread_ = std::thread([this] { loop(); }); }

void WebhookDispatcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WebhookDispatcher::notify() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    woken_ = true;
  }
  wake_.notify_all();
}

void WebhookDispatcher::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    woken_ = false;
    lock.unlock();
    auto due = store_.due_webhooks(unix_now(), kDueBatch);
    if (!due) log_error("video webhooks: " + due.error().to_string());
    if (due) {
      for (const JobRecord& job : *due) deliver(job);
    }
    lock.lock();
    if (due && static_cast<int64_t>(due->size()) == kDueBatch) continue;  // more may be due now
    wake_.wait_for(lock, options_.idle_poll, [this] { return woken_ || stopping_; });
  }
}

void WebhookDispatcher::deliver(const JobRecord& job) {
  const std::string body = webhook_event_body(job);
  const std::string event_id = webhook_event_id(job);
  const int64_t now = unix_now();
  auto status = sender_.send(event_id, now, body);
  const bool delivered = status && *status >= 200 && *status < 300;
  const std::string why = !status ? status.error().message() : "HTTP " + std::to_string(*status);
  const size_t attempt = static_cast<size_t>(job.webhook_attempts) + 1;
  WebhookState next = WebhookState::kDelivered;
  int64_t next_at = 0;
  const char* outcome = "delivered";
  if (!delivered && attempt <= options_.retry_delays.size()) {
    next = WebhookState::kPending;
    next_at = now + options_.retry_delays[attempt - 1].count();
    outcome = "retried";
    log_warn("video webhook " + event_id + " for " + job.id + ": " + why + "; attempt " + std::to_string(attempt + 1) +
             " in " + std::to_string(next_at - now) + " s");
  } else if (!delivered) {
    next = WebhookState::kAbandoned;
    outcome = "abandoned";
    log_warn("video webhook " + event_id + " for " + job.id + ": " + why + "; abandoned after " +
             std::to_string(attempt) + " attempts");
  } else {
    log_info("video webhook " + event_id + " (" + job.id + ") delivered");
  }
  if (Status s = store_.record_webhook_attempt(job.id, next, next_at); !s && s.code() != StatusCode::kNotFound) {
    log_error("video webhook " + event_id + ": cannot record the attempt: " + s.to_string());
  }
  if (metrics_ != nullptr) metrics_->webhooks->with({outcome}).inc();
}

}  // namespace frugal::jobs

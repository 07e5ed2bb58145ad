// WebhookDispatcher: delivers the video.completed / video.failed events of finished jobs to the
// server's webhook endpoint, signed the Standard Webhooks way (jobs layer; webhooks/ signs and POSTs).
//
// NOTE (durability and exactly one event per job): the delivery state lives in the job's row
// (job.h WebhookState). complete()/fail() make it due in the same commit that ends the job, so a job
// that finished before a crash is delivered after the restart. A delivery is marked delivered only
// after a 2xx; a crash between the 2xx and that commit sends it again with the same webhook-id — the
// receiver deduplicates on it, as the spec asks. Failed attempts (no answer, or not 2xx) are retried
// after retry_delays, then abandoned: the number of attempts is bounded.
// The workers never wait for it: they only commit; this thread reads what is due from the store.
// Threading contract: start() and stop() from one thread; notify() from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "jobs/job_store.h"
#include "jobs/video_metrics.h"
#include "webhooks/webhook_sender.h"

namespace frugal::jobs {

struct WebhookDispatcherOptions {
  // The wait after each failed attempt; one more attempt than delays in all (9 over about 8 hours).
  std::vector<std::chrono::seconds> retry_delays = {std::chrono::seconds(5),   std::chrono::seconds(30),
                                                    std::chrono::minutes(2),   std::chrono::minutes(10),
                                                    std::chrono::minutes(30),  std::chrono::hours(1),
                                                    std::chrono::hours(2),     std::chrono::hours(4)};
  std::chrono::milliseconds idle_poll{500};  // how often the store is asked when nothing woke it
};

// OpenAI's webhook event object: {"id": "evt_…", "object": "event", "created_at", "type":
// "video.completed" | "video.failed", "data": {"id": the video's id}}.
std::string webhook_event_body(const JobRecord& job);
// "evt_" + the video id's hex part: the same on every retry and after a restart.
std::string webhook_event_id(const JobRecord& job);

class WebhookDispatcher {
 public:
  // `store` and `metrics` (may be null) outlive the dispatcher.
  WebhookDispatcher(JobStore& store, webhooks::WebhookSender sender, WebhookDispatcherOptions options,
                    const VideoMetrics* metrics);
  ~WebhookDispatcher();
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  void start();
  // Waits for an attempt in flight (at most the sender's timeout) and stops; what is still pending
  // stays in the store for the next start.
  void stop();
  // A job just finished: look at the store now.
  void notify();

 private:
  void loop();
  void deliver(const JobRecord& job);

  JobStore& store_;
  webhooks::WebhookSender sender_;
  WebhookDispatcherOptions options_;
  const VideoMetrics* metrics_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool woken_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace frugal::jobs

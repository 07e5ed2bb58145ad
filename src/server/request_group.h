// The engine requests behind one HTTP request (server layer): submits them, merges their event
// streams, observes the HTTP-side serving metrics (TTFT, inter-token latency, e2e, outcomes) and
// cancels whatever is unfinished when it is destroyed (client gone, timeout, error).
// Threading contract: owned and used by one HTTP handler thread at a time.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "engine/llm_engine.h"
#include "metrics/serving_metrics.h"

namespace frugal {

using SteadyClock = std::chrono::steady_clock;

struct ChoiceEvent {
  int32_t choice_idx = 0;
  GenerationEvent event;
};

class RequestGroup {
 public:
  // Submits every request; on a failure the ones already submitted are cancelled and the failure
  // is returned (the failing request counts as "rejected"). `metrics` may be null.
  static Expected<std::unique_ptr<RequestGroup>> submit(LlmEngine& engine, std::vector<EngineRequest> requests,
                                                        const ServingMetrics* metrics, SteadyClock::time_point arrival);
  ~RequestGroup();
  RequestGroup(const RequestGroup&) = delete;
  RequestGroup& operator=(const RequestGroup&) = delete;

  // The next event of any unfinished choice, waiting up to `wait`; nullopt if none arrived.
  // A kFinished or kError event ends its choice.
  std::optional<ChoiceEvent> next(std::chrono::milliseconds wait);
  bool all_finished() const { return unfinished_ == 0; }
  size_t size() const { return choices_.size(); }
  // Cancels every unfinished choice (counted as "cancelled").
  void cancel_all();
  // A thread-safe action that cancels every choice's engine request (the engine frees their KV
  // blocks at its next step); run it from anywhere, e.g. the HTTP gate when the client hangs up.
  // The choices still count as cancelled when cancel_all() or the destructor sees them unfinished.
  std::function<void()> canceller() const;

 private:
  struct Choice {
    std::shared_ptr<RequestStream> stream;
    bool finished = false;
    bool got_token = false;
    SteadyClock::time_point last_token_time;
  };
  RequestGroup(const ServingMetrics* metrics, SteadyClock::time_point arrival) : metrics_(metrics), arrival_(arrival) {}
  void observe(Choice& choice, const GenerationEvent& event);
  void count_outcome(const char* outcome);

  const ServingMetrics* metrics_;
  SteadyClock::time_point arrival_;
  std::vector<Choice> choices_;
  size_t unfinished_ = 0;
  size_t next_poll_idx_ = 0;  // round-robin start, so one busy choice cannot starve the others
};

}  // namespace frugal

// A deterministic stand-in for LlmEngine used by the server tests: every request generates the
// tokens 0, 1, 2, ... whose text is "w0 ", "w1 ", ... one per `token_delay`, until max_tokens
// (finish "length") or, when `eos_after` > 0, that many tokens (finish "stop"). Requests can be held
// (no progress until release()), the queue is bounded (kResourceExhausted), shutdown drains and then
// fails the rest with kUnavailable, and cancellations are recorded.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/llm_engine.h"

namespace frugal::testing {

struct FakeEngineOptions {
  int32_t capacity = 8;  // requests in the engine at once (running + waiting); beyond -> 429
  int64_t max_context = 256;
  std::chrono::milliseconds token_delay{1};
  int64_t eos_after = 0;  // > 0: finish with "stop" after this many tokens
  int64_t cached_tokens = 0;
};

class FakeEngine final : public LlmEngine {
 public:
  explicit FakeEngine(FakeEngineOptions options) : options_(options), worker_([this] { loop(); }) {}
  ~FakeEngine() override { stop_worker(); }

  Expected<std::shared_ptr<RequestStream>> submit(EngineRequest request) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shutting_down_) return unavailable("the engine is shutting down");
    if (request.prompt.empty()) return invalid_argument("empty prompt");
    if (static_cast<int64_t>(request.prompt.size()) + 1 > options_.max_context) {
      return invalid_argument("prompt longer than the context");
    }
    if (static_cast<int32_t>(active_.size()) >= options_.capacity) return resource_exhausted("queue full");
    auto stream = std::make_shared<RequestStream>(next_id_++);
    submitted_.push_back(request);
    active_.push_back(Active{stream, std::move(request), 0});
    return stream;
  }

  EngineSnapshot snapshot() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    EngineSnapshot snap;
    snap.running = static_cast<int32_t>(active_.size());
    snap.kv_blocks_used = static_cast<int32_t>(active_.size());
    snap.kv_blocks_total = 100;
    snap.block_size_tokens = 16;
    snap.max_context = options_.max_context;
    snap.shutting_down = shutting_down_;
    return snap;
  }

  void shutdown(std::chrono::milliseconds drain) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      shutting_down_ = true;
    }
    const auto deadline = std::chrono::steady_clock::now() + drain;
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (active_.empty()) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (Active& a : active_) {
        GenerationEvent event;
        event.kind = GenerationEvent::Kind::kError;
        event.error = unavailable("the server is shutting down");
        a.stream->push(std::move(event));
      }
      active_.clear();
    }
    stop_worker();
  }

  // Held requests make no progress (to fill the queue or keep a request in flight).
  void hold() { held_.store(true); }
  void release() { held_.store(false); }

  std::vector<EngineRequest> submitted() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return submitted_;
  }
  int64_t cancelled_count() const { return cancelled_.load(); }
  int32_t active_count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<int32_t>(active_.size());
  }

 private:
  struct Active {
    std::shared_ptr<RequestStream> stream;
    EngineRequest request;
    int64_t generated = 0;
  };

  static GenerationEvent token_event(const Active& a) {
    GenerationEvent event;
    const int32_t token = static_cast<int32_t>(a.generated);
    event.text = "w" + std::to_string(token) + " ";
    event.token_ids = {token};
    if (a.request.top_logprobs >= 0) {
      TokenLogprobs lp;
      lp.token = token;
      lp.logprob = -0.5f;
      for (int32_t alt_idx = 0; alt_idx < a.request.top_logprobs; ++alt_idx) {
        lp.top.push_back({token + alt_idx, -0.5f - static_cast<float>(alt_idx)});
      }
      event.logprobs.push_back(lp);
    }
    return event;
  }

  // Advances one request by one token; true when it finished.
  bool step(Active& a) {
    a.stream->push(token_event(a));
    ++a.generated;
    const bool eos = options_.eos_after > 0 && a.generated >= options_.eos_after;
    const int64_t limit = a.request.max_tokens < 0 ? options_.max_context - static_cast<int64_t>(a.request.prompt.size())
                                                   : a.request.max_tokens;
    if (!eos && a.generated < limit) return false;
    GenerationEvent done;
    done.kind = GenerationEvent::Kind::kFinished;
    done.finish = eos ? FinishReason::kStop : FinishReason::kLength;
    done.usage.prompt_tokens = static_cast<int64_t>(a.request.prompt.size());
    done.usage.completion_tokens = a.generated;
    done.usage.cached_tokens = options_.cached_tokens;
    a.stream->push(std::move(done));
    return true;
  }

  void loop() {
    while (!stop_.load()) {
      if (!held_.load()) {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto it = active_.begin(); it != active_.end();) {
          if (it->stream->cancelled()) {
            cancelled_.fetch_add(1);
            it = active_.erase(it);
          } else if (step(*it)) {
            it = active_.erase(it);
          } else {
            ++it;
          }
        }
      }
      std::this_thread::sleep_for(options_.token_delay);
    }
  }

  void stop_worker() {
    stop_.store(true);
    if (worker_.joinable()) worker_.join();
  }

  FakeEngineOptions options_;
  mutable std::mutex mutex_;
  std::vector<Active> active_;
  std::vector<EngineRequest> submitted_;
  RequestId next_id_ = 1;
  bool shutting_down_ = false;
  std::atomic<bool> held_{false};
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> cancelled_{0};
  std::thread worker_;
};

}  // namespace frugal::testing

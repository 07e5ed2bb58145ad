// ClientLink: what a request handler knows about its client's connection (server layer): whether the
// client has hung up, and hooks run the moment it does (cancel the engine requests, so their KV blocks
// are freed at the next engine step, streaming or not).
// Threading contract: mark_gone() from the gate's event loop, or from the worker whose write found the
// peer gone; on_hangup()/clear_hooks()/gone() from the worker serving the request. Hooks run on the thread that calls mark_gone() (or on_hangup(), when
// the client is already gone) and must be quick and thread-safe (RequestStream::cancel is).
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

namespace frugal {

class ClientLink {
 public:
  bool gone() const { return gone_.load(std::memory_order_acquire); }

  // The client hung up: runs (and drops) every hook once. True for the one call that marked it (so
  // that a hang-up seen by both the event loop and a failed write is counted once).
  bool mark_gone() {
    std::vector<std::function<void()>> hooks;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (gone_.exchange(true, std::memory_order_acq_rel)) return false;
      hooks.swap(hooks_);
    }
    for (auto& hook : hooks) hook();
    return true;
  }

  // Runs `hook` when the client hangs up (at once if it already has).
  void on_hangup(std::function<void()> hook) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!gone_.load(std::memory_order_acquire)) {
        hooks_.push_back(std::move(hook));
        return;
      }
    }
    hook();
  }

  // The request is over: its hooks are dropped (the next request on the connection starts clean).
  void clear_hooks() {
    std::lock_guard<std::mutex> lock(mutex_);
    hooks_.clear();
  }

 private:
  std::mutex mutex_;
  std::atomic<bool> gone_{false};
  std::vector<std::function<void()>> hooks_;
};

}  // namespace frugal

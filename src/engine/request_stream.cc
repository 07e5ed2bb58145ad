#include "engine/request.h"

namespace frugal {

void RequestStream::push(GenerationEvent event) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (event.kind != GenerationEvent::Kind::kText) finished_.store(true);
    events_.push_back(std::move(event));
  }
  ready_.notify_one();
}

std::optional<GenerationEvent> RequestStream::pop(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!ready_.wait_for(lock, timeout, [&] { return !events_.empty(); })) return std::nullopt;
  GenerationEvent event = std::move(events_.front());
  events_.pop_front();
  return event;
}

}  // namespace frugal

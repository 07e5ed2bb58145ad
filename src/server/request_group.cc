#include "server/request_group.h"

#include <algorithm>

namespace frugal {
namespace {

double seconds_between(SteadyClock::time_point from, SteadyClock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

const char* outcome_of(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop:
      return kOutcomeStop;
    case FinishReason::kLength:
    case FinishReason::kContextFull:
      return kOutcomeLength;
  }
  return kOutcomeLength;
}

}  // namespace

Expected<std::unique_ptr<RequestGroup>> RequestGroup::submit(LlmEngine& engine, std::vector<EngineRequest> requests,
                                                             const ServingMetrics* metrics,
                                                             SteadyClock::time_point arrival) {
  std::unique_ptr<RequestGroup> group(new RequestGroup(metrics, arrival));
  for (EngineRequest& request : requests) {
    auto stream = engine.submit(std::move(request));
    if (!stream) {
      group->count_outcome(kOutcomeRejected);
      return stream.error();  // the destructor cancels the ones already submitted
    }
    group->choices_.push_back(Choice{std::move(*stream), false, false, {}});
    ++group->unfinished_;
  }
  return group;
}

RequestGroup::~RequestGroup() { cancel_all(); }

void RequestGroup::cancel_all() {
  for (Choice& choice : choices_) {
    if (choice.finished) continue;
    choice.stream->cancel();
    choice.finished = true;
    --unfinished_;
    count_outcome(kOutcomeCancelled);
  }
}

std::function<void()> RequestGroup::canceller() const {
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (const Choice& choice : choices_) streams.push_back(choice.stream);
  return [streams = std::move(streams)] {
    for (const auto& stream : streams) stream->cancel();
  };
}

void RequestGroup::count_outcome(const char* outcome) {
  if (metrics_ != nullptr) metrics_->requests->with({outcome}).inc();
}

void RequestGroup::observe(Choice& choice, const GenerationEvent& event) {
  const auto now = SteadyClock::now();
  if (event.kind == GenerationEvent::Kind::kText && !event.token_ids.empty()) {
    if (metrics_ != nullptr) {
      if (!choice.got_token) {
        metrics_->ttft->with().observe(seconds_between(arrival_, now));
      } else {
        // Tokens that arrive together in one event share the gap evenly.
        const double gap = seconds_between(choice.last_token_time, now) / static_cast<double>(event.token_ids.size());
        for (size_t token_idx = 0; token_idx < event.token_ids.size(); ++token_idx) metrics_->itl->with().observe(gap);
      }
    }
    choice.got_token = true;
    choice.last_token_time = now;
    return;
  }
  if (event.kind == GenerationEvent::Kind::kText) return;
  choice.finished = true;
  --unfinished_;
  if (metrics_ == nullptr) return;
  metrics_->e2e->with().observe(seconds_between(arrival_, now));
  count_outcome(event.kind == GenerationEvent::Kind::kError ? kOutcomeError : outcome_of(event.finish));
}

std::optional<ChoiceEvent> RequestGroup::next(std::chrono::milliseconds wait) {
  if (unfinished_ == 0) return std::nullopt;
  // One choice: block on it. Several: short polls in turn until the wait is used up.
  const auto deadline = SteadyClock::now() + wait;
  const auto slice = unfinished_ == 1 ? wait : std::chrono::milliseconds(2);
  do {
    for (size_t step = 0; step < choices_.size(); ++step) {
      const size_t choice_idx = (next_poll_idx_ + step) % choices_.size();
      Choice& choice = choices_[choice_idx];
      if (choice.finished) continue;
      std::optional<GenerationEvent> event = choice.stream->pop(unfinished_ == 1 ? slice : std::chrono::milliseconds(0));
      if (!event) continue;
      next_poll_idx_ = (choice_idx + 1) % choices_.size();
      observe(choice, *event);
      return ChoiceEvent{static_cast<int32_t>(choice_idx), std::move(*event)};
    }
    if (unfinished_ > 1) {
      // Nothing ready anywhere: wait briefly on the first unfinished choice before polling again.
      auto it = std::find_if(choices_.begin(), choices_.end(), [](const Choice& c) { return !c.finished; });
      std::optional<GenerationEvent> event = it->stream->pop(slice);
      if (event) {
        const size_t choice_idx = static_cast<size_t>(it - choices_.begin());
        observe(*it, *event);
        return ChoiceEvent{static_cast<int32_t>(choice_idx), std::move(*event)};
      }
    }
  } while (SteadyClock::now() < deadline);
  return std::nullopt;
}

}  // namespace frugal

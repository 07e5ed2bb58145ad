#include "server/stream_session.h"

#include "server/error_mapping.h"
#include "server/sse_stream.h"

namespace frugal {

using json = nlohmann::json;

StreamSession::StreamSession(std::unique_ptr<RequestGroup> group, ResponseHeader header, const Tokenizer& tokenizer,
                             StreamOptions options)
    : group_(std::move(group)),
      header_(std::move(header)),
      tokenizer_(&tokenizer),
      options_(options),
      usage_(options.num_prompts, options.n),
      text_offsets_(group_->size(), 0),
      holding_(group_->size(), options_.tools ? 1 : 0),
      held_text_(group_->size()),
      held_logprobs_(group_->size()),
      last_write_(SteadyClock::now()) {}

bool StreamSession::write_text(SseSink& sink, int32_t index, const std::string& text,
                               std::vector<TokenLogprobs>& logprobs) {
  const bool has_logprobs = options_.logprobs && !logprobs.empty();
  if (text.empty() && !has_logprobs) return true;
  json logprobs_json = nullptr;
  if (has_logprobs) {
    const size_t idx = static_cast<size_t>(index);
    logprobs_json = header_.endpoint == ApiEndpoint::kCompletions
                        ? completion_logprobs_json(*tokenizer_, logprobs, text_offsets_[idx])
                        : chat_logprobs_json(*tokenizer_, logprobs);
  }
  text_offsets_[static_cast<size_t>(index)] += static_cast<int64_t>(text.size());
  return write_json(sink, stream_chunk_json(header_, index, text, logprobs_json, nullptr, options_.include_usage));
}

// Holds the text while it may still become a tool call; releases it as content once it cannot.
bool StreamSession::on_tool_text(SseSink& sink, int32_t index, GenerationEvent& event) {
  const size_t idx = static_cast<size_t>(index);
  held_text_[idx] += event.text;
  for (TokenLogprobs& lp : event.logprobs) held_logprobs_[idx].push_back(std::move(lp));
  if (options_.tools->hold_all || may_become_tool_call(options_.tools->syntax, held_text_[idx])) return true;
  holding_[idx] = 0;
  const std::string text = std::move(held_text_[idx]);
  held_text_[idx].clear();
  return write_text(sink, index, text, held_logprobs_[idx]);
}

bool StreamSession::on_tool_finish(SseSink& sink, int32_t index, FinishReason reason) {
  const size_t idx = static_cast<size_t>(index);
  holding_[idx] = 0;
  std::optional<ParsedToolCalls> parsed =
      parse_tool_calls(options_.tools->syntax, held_text_[idx], options_.tools->tools);
  if (!parsed) {
    if (!write_text(sink, index, held_text_[idx], held_logprobs_[idx])) return false;
    return write_json(sink, stream_chunk_json(header_, index, "", nullptr, finish_reason_string(reason),
                                              options_.include_usage));
  }
  if (parsed->content) {
    std::vector<TokenLogprobs> none;
    if (!write_text(sink, index, *parsed->content, none)) return false;
  }
  for (const json& chunk : tool_call_chunks_json(header_, index, parsed->calls, options_.include_usage)) {
    if (!write_json(sink, chunk)) return false;
  }
  return write_json(sink, stream_chunk_json(header_, index, "", nullptr, "tool_calls", options_.include_usage));
}

bool StreamSession::write_json(SseSink& sink, const json& chunk) {
  last_write_ = SteadyClock::now();
  return sink.write(sse_data_event(dump_json(chunk)));
}

// Chat streams open each choice with a delta carrying the role, as OpenAI does.
bool StreamSession::start(SseSink& sink) {
  started_ = true;
  if (header_.endpoint != ApiEndpoint::kChatCompletions) return true;
  for (size_t choice_idx = 0; choice_idx < group_->size(); ++choice_idx) {
    const json chunk = stream_chunk_json(header_, static_cast<int32_t>(choice_idx), "", nullptr, nullptr,
                                         options_.include_usage, /*role_delta=*/true);
    if (!write_json(sink, chunk)) return false;
  }
  return true;
}

bool StreamSession::on_event(SseSink& sink, ChoiceEvent& choice_event) {
  GenerationEvent& event = choice_event.event;
  const int32_t index = choice_event.choice_idx;
  switch (event.kind) {
    case GenerationEvent::Kind::kText:
      if (holding_[static_cast<size_t>(index)]) return on_tool_text(sink, index, event);
      return write_text(sink, index, event.text, event.logprobs);
    case GenerationEvent::Kind::kFinished:
      usage_.add(index, event.usage);
      if (holding_[static_cast<size_t>(index)]) return on_tool_finish(sink, index, event.finish);
      return write_json(sink, stream_chunk_json(header_, index, "", nullptr, finish_reason_string(event.finish),
                                                options_.include_usage));
    case GenerationEvent::Kind::kError:
      return fail(sink, api_error_json(api_error_from_status(event.error)));
  }
  return true;
}

bool StreamSession::finish(SseSink& sink) {
  if (options_.on_finished && !finish_reported_) options_.on_finished(usage_.total());
  finish_reported_ = true;
  if (options_.include_usage && !write_json(sink, usage_chunk_json(header_, usage_.total()))) return false;
  if (!sink.write(kSseDone)) return false;
  ended_ = true;
  sink.done();
  return true;
}

// An error ends the whole response: OpenAI clients raise on an event carrying "error".
bool StreamSession::fail(SseSink& sink, const json& error_body) {
  group_->cancel_all();
  const bool written = write_json(sink, error_body);
  ended_ = true;
  sink.done();
  return written;
}

bool StreamSession::pump(SseSink& sink) {
  if (ended_) return true;
  if (!started_ && !start(sink)) return false;
  if (group_->all_finished()) return finish(sink);
  if (SteadyClock::now() >= options_.deadline) {
    const double seconds = std::chrono::duration<double>(options_.timeout).count();
    return fail(sink, api_error_json(request_timeout_error(seconds)));
  }
  std::optional<ChoiceEvent> event = group_->next(options_.poll);
  if (event) {
    if (!on_event(sink, *event)) return false;
    if (!ended_ && group_->all_finished()) return finish(sink);
    return true;
  }
  // Nothing to send for a while (queued, or a long prefill): probe the connection so a client that
  // went away is noticed and its requests cancelled.
  if (SteadyClock::now() - last_write_ >= options_.keepalive) {
    last_write_ = SteadyClock::now();
    return sink.write(sse_comment("keep-alive"));
  }
  return true;
}

}  // namespace frugal

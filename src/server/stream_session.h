// One streaming (SSE) response (server layer): turns the engine events of a RequestGroup into
// OpenAI stream chunks, ends with an optional usage chunk and `data: [DONE]`, reports errors and
// time-outs as an error event, and notices a vanished client through failed writes (the group
// then cancels its engine requests, freeing their KV blocks).
// Threading contract: pumped by one HTTP thread at a time.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "server/openai_response.h"
#include "server/request_group.h"

namespace frugal {

// Where the SSE bytes go (httplib's DataSink in the server, a string in tests).
class SseSink {
 public:
  virtual ~SseSink() = default;
  virtual bool write(std::string_view bytes) = 0;  // false: the client is gone
  virtual void done() = 0;                          // the response is complete
};

// Chat with tools: text that may become a tool call is held back until it is known; a call is sent
// as delta.tool_calls chunks and finishes with "tool_calls".
struct ToolStreamOptions {
  ToolSyntax syntax = ToolSyntax::kHermes;
  std::vector<ToolFunction> tools;
  bool hold_all = false;  // tool_choice required / a function: the message is always a call
};

struct StreamOptions {
  bool include_usage = false;
  bool logprobs = false;
  int32_t n = 1;
  size_t num_prompts = 1;
  SteadyClock::time_point deadline = SteadyClock::time_point::max();
  std::chrono::milliseconds timeout{0};                  // for the time-out message
  std::chrono::milliseconds poll{100};                   // longest wait for engine events per pump
  std::chrono::milliseconds keepalive{2000};             // idle time before a probing comment line
  // Called once when every choice has finished, with the total usage (before the last writes, so
  // a client gone at the very end still has its cost accounted). May be empty.
  std::function<void(const Usage&)> on_finished;
  std::optional<ToolStreamOptions> tools;
};

class StreamSession {
 public:
  StreamSession(std::unique_ptr<RequestGroup> group, ResponseHeader header, const Tokenizer& tokenizer,
                StreamOptions options);
  // Writes whatever is ready, waiting up to options.poll for it. Returns false when a write failed
  // (client gone: the engine requests are cancelled); calls sink.done() once the stream is complete.
  bool pump(SseSink& sink);
  bool ended() const { return ended_; }
  // Cancels unfinished engine requests now (the response is abandoned).
  void abandon() { group_->cancel_all(); }

 private:
  bool write_json(SseSink& sink, const nlohmann::json& chunk);
  bool start(SseSink& sink);
  bool on_event(SseSink& sink, ChoiceEvent& event);
  bool finish(SseSink& sink);
  bool fail(SseSink& sink, const nlohmann::json& error_body);
  bool write_text(SseSink& sink, int32_t index, const std::string& text, std::vector<TokenLogprobs>& logprobs);
  bool on_tool_text(SseSink& sink, int32_t index, GenerationEvent& event);
  bool on_tool_finish(SseSink& sink, int32_t index, FinishReason reason);

  std::unique_ptr<RequestGroup> group_;
  ResponseHeader header_;
  const Tokenizer* tokenizer_;
  StreamOptions options_;
  UsageTotals usage_;
  std::vector<int64_t> text_offsets_;  // per choice, bytes sent so far (completions logprobs)
  std::vector<uint8_t> holding_;       // per choice: text held back while it may become a tool call
  std::vector<std::string> held_text_;
  std::vector<std::vector<TokenLogprobs>> held_logprobs_;
  bool started_ = false;
  bool ended_ = false;
  bool finish_reported_ = false;
  SteadyClock::time_point last_write_;
};

}  // namespace frugal

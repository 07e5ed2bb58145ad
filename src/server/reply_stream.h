// ReplyStream: the body of a streaming (SSE) HTTP response, pumped by the HTTP layer until it
// ends (server layer). Implemented by local engine streams (StreamSession) and by the overflow
// route's passthrough of an upstream stream (overflow_client.h).
// Threading contract: pumped by one HTTP thread at a time; abandon() from that thread.
#pragma once

#include <functional>
#include <memory>

#include "server/stream_session.h"

namespace frugal {

class ReplyStream {
 public:
  virtual ~ReplyStream() = default;
  // Writes whatever is ready; false when a write failed (client gone). Calls sink.done() at the end.
  virtual bool pump(SseSink& sink) = 0;
  // The client is gone: stop producing (cancel engine requests, close the upstream connection).
  virtual void abandon() = 0;
};

// A local StreamSession as a ReplyStream.
class SessionReplyStream final : public ReplyStream {
 public:
  explicit SessionReplyStream(std::shared_ptr<StreamSession> session) : session_(std::move(session)) {}
  bool pump(SseSink& sink) override { return session_->pump(sink); }
  void abandon() override { session_->abandon(); }

 private:
  std::shared_ptr<StreamSession> session_;
};

}  // namespace frugal

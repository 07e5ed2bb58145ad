// SSE framing and the streaming session's chunk sequence (against the fake engine).
#include "server/sse_stream.h"

#include <gtest/gtest.h>

#include "server/fake_engine.h"
#include "server/server_test_util.h"
#include "server/stream_session.h"

namespace frugal {
namespace {

using json = nlohmann::json;
using testing::FakeEngine;
using testing::FakeEngineOptions;

TEST(SseFraming, DataEventsAndDone) {
  EXPECT_EQ(sse_data_event(R"({"a":1})"), "data: {\"a\":1}\n\n");
  EXPECT_EQ(std::string(kSseDone), "data: [DONE]\n\n");
  EXPECT_EQ(sse_comment("ping"), ": ping\n\n");
}

class StringSink final : public SseSink {
 public:
  bool write(std::string_view bytes) override {
    if (fail_after_writes >= 0 && writes >= fail_after_writes) return false;
    ++writes;
    body.append(bytes);
    return true;
  }
  void done() override { ++done_calls; }
  std::string body;
  int writes = 0;
  int done_calls = 0;
  int fail_after_writes = -1;
};

std::unique_ptr<RequestGroup> submit_group(FakeEngine& engine, int n, int64_t max_tokens, int32_t top_logprobs = -1) {
  std::vector<EngineRequest> requests(static_cast<size_t>(n));
  for (EngineRequest& r : requests) {
    r.prompt = {1, 2, 3};
    r.max_tokens = max_tokens;
    r.top_logprobs = top_logprobs;
  }
  auto group = RequestGroup::submit(engine, std::move(requests), nullptr, SteadyClock::now());
  EXPECT_TRUE(group.has_value());
  return std::move(*group);
}

// Pumps until the session ends (bounded).
void pump_to_end(StreamSession& session, StringSink& sink) {
  for (int pump_idx = 0; pump_idx < 2000 && !session.ended(); ++pump_idx) {
    if (!session.pump(sink)) break;
  }
  ASSERT_TRUE(session.ended());
}

TEST(StreamSession, ChatChunksFollowOpenAIShapes) {
  FakeEngine engine(FakeEngineOptions{});
  StreamOptions options;
  options.n = 2;
  options.include_usage = true;
  StreamSession session(submit_group(engine, 2, 3), make_response_header(ApiEndpoint::kChatCompletions, "m"),
                        testing::test_tokenizer(), options);
  StringSink sink;
  pump_to_end(session, sink);
  EXPECT_EQ(sink.done_calls, 1);
  const std::vector<std::string> payloads = testing::sse_payloads(sink.body);
  ASSERT_GE(payloads.size(), 3u);
  EXPECT_EQ(payloads.back(), "[DONE]");
  std::string content[2];
  std::string finish[2];
  bool saw_role[2] = {false, false};
  std::string id;
  for (size_t payload_idx = 0; payload_idx + 2 < payloads.size(); ++payload_idx) {
    const json chunk = json::parse(payloads[payload_idx]);
    EXPECT_EQ(chunk["object"], "chat.completion.chunk");
    EXPECT_EQ(chunk["model"], "m");
    if (id.empty()) id = chunk["id"];
    EXPECT_EQ(chunk["id"], id) << "one id for the whole stream";
    EXPECT_TRUE(chunk.contains("usage") && chunk["usage"].is_null()) << "include_usage: usage null until the end";
    ASSERT_EQ(chunk["choices"].size(), 1u);
    const json& choice = chunk["choices"][0];
    const int index = choice["index"];
    ASSERT_TRUE(index == 0 || index == 1);
    EXPECT_TRUE(finish[index].empty()) << "nothing after a choice's finish chunk";
    if (choice["delta"].contains("role")) {
      EXPECT_EQ(choice["delta"]["role"], "assistant");
      saw_role[index] = true;
    }
    if (choice["delta"].contains("content")) content[index] += choice["delta"]["content"].get<std::string>();
    if (!choice["finish_reason"].is_null()) finish[index] = choice["finish_reason"];
  }
  for (int choice_idx = 0; choice_idx < 2; ++choice_idx) {
    EXPECT_TRUE(saw_role[choice_idx]);
    EXPECT_EQ(content[choice_idx], "w0 w1 w2 ");
    EXPECT_EQ(finish[choice_idx], "length");
  }
  const json usage_chunk = json::parse(payloads[payloads.size() - 2]);
  EXPECT_TRUE(usage_chunk["choices"].empty());
  EXPECT_EQ(usage_chunk["usage"]["prompt_tokens"], 3) << "counted once for n = 2";
  EXPECT_EQ(usage_chunk["usage"]["completion_tokens"], 6);
  EXPECT_EQ(usage_chunk["usage"]["total_tokens"], 9);
  EXPECT_EQ(usage_chunk["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
}

TEST(StreamSession, CompletionChunksCarryTextAndLogprobs) {
  FakeEngine engine(FakeEngineOptions{});
  StreamOptions options;
  options.logprobs = true;
  StreamSession session(submit_group(engine, 1, 2, 1), make_response_header(ApiEndpoint::kCompletions, "m"),
                        testing::test_tokenizer(), options);
  StringSink sink;
  pump_to_end(session, sink);
  const auto payloads = testing::sse_payloads(sink.body);
  ASSERT_EQ(payloads.size(), 4u);  // w0, w1, finish, [DONE]
  const json first = json::parse(payloads[0]);
  EXPECT_EQ(first["object"], "text_completion");
  EXPECT_EQ(first["choices"][0]["text"], "w0 ");
  EXPECT_FALSE(first.contains("usage"));
  const json& lp = first["choices"][0]["logprobs"];
  ASSERT_EQ(lp["tokens"].size(), 1u);
  EXPECT_EQ(lp["tokens"][0], testing::test_tokenizer().token_to_piece(0));
  EXPECT_FLOAT_EQ(lp["token_logprobs"][0].get<float>(), -0.5f);
  EXPECT_EQ(lp["top_logprobs"][0].size(), 1u);
  EXPECT_EQ(lp["text_offset"][0], 0);
  const json second = json::parse(payloads[1]);
  EXPECT_EQ(second["choices"][0]["logprobs"]["text_offset"][0], 3) << "after the 3 bytes of \"w0 \"";
  EXPECT_EQ(json::parse(payloads[2])["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(payloads[3], "[DONE]");
}

TEST(StreamSession, FailedWriteCancelsTheEngineRequest) {
  FakeEngineOptions engine_options;
  engine_options.token_delay = std::chrono::milliseconds(5);
  FakeEngine engine(engine_options);
  StreamOptions options;
  auto session = std::make_unique<StreamSession>(submit_group(engine, 1, 100000),
                                                 make_response_header(ApiEndpoint::kCompletions, "m"),
                                                 testing::test_tokenizer(), options);
  StringSink sink;
  sink.fail_after_writes = 2;
  bool alive = true;
  for (int pump_idx = 0; pump_idx < 1000 && alive; ++pump_idx) alive = session->pump(sink);
  EXPECT_FALSE(alive);
  session.reset();  // the HTTP layer drops the session when the client is gone
  for (int wait_idx = 0; wait_idx < 400 && engine.cancelled_count() == 0; ++wait_idx) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(engine.cancelled_count(), 1);
}

TEST(StreamSession, EngineErrorEndsTheStreamWithAnErrorEvent) {
  FakeEngine engine(FakeEngineOptions{});
  engine.hold();
  StreamOptions options;
  StreamSession session(submit_group(engine, 1, 5), make_response_header(ApiEndpoint::kCompletions, "m"),
                        testing::test_tokenizer(), options);
  engine.shutdown(std::chrono::milliseconds(0));
  StringSink sink;
  pump_to_end(session, sink);
  const auto payloads = testing::sse_payloads(sink.body);
  ASSERT_EQ(payloads.size(), 1u);
  const json error = json::parse(payloads[0]);
  EXPECT_EQ(error["error"]["type"], "server_error");
  EXPECT_EQ(sink.done_calls, 1);
}

TEST(StreamSession, DeadlineEndsTheStreamWithATimeoutError) {
  FakeEngine engine(FakeEngineOptions{});
  engine.hold();
  StreamOptions options;
  options.deadline = SteadyClock::now() + std::chrono::milliseconds(50);
  options.timeout = std::chrono::milliseconds(50);
  options.poll = std::chrono::milliseconds(10);
  StreamSession session(submit_group(engine, 1, 5), make_response_header(ApiEndpoint::kCompletions, "m"),
                        testing::test_tokenizer(), options);
  StringSink sink;
  pump_to_end(session, sink);
  const auto payloads = testing::sse_payloads(sink.body);
  ASSERT_EQ(payloads.size(), 1u);
  EXPECT_EQ(json::parse(payloads[0])["error"]["code"], "request_timeout");
  engine.release();
  for (int wait_idx = 0; wait_idx < 400 && engine.cancelled_count() == 0; ++wait_idx) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(engine.cancelled_count(), 1) << "a timed-out request is cancelled in the engine";
}

}  // namespace
}  // namespace frugal

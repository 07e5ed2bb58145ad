// Prompt moderation on the LLM routes, in-process over the real engine and the small test model
// (tests/data/trust/test-policy.json): a blocked or held prompt is a 400 with the OpenAI error shape
// and the category on /v1/completions, /v1/chat/completions (every message) and /v1/responses, and
// it never reaches the model: the engine's prompt and generation token counters do not move (they
// do for an allowed prompt, so the check can fail). Also the engine-backed guard's plumbing.
#include <httplib.h>
#include <gtest/gtest.h>

#include "server/engine_server_fixture.h"
#include "server/guard_model.h"
#include "server/moderation_gate.h"
#include "tokenizer/utf8.h"

namespace frugal {
namespace {

using json = nlohmann::json;

class ModeratedServer : public testing::EngineServerTest {
 protected:
  void SetUp() override {
    auto policy = trust::load_moderation_policy(testing::data_path("trust/test-policy.json"));
    ASSERT_TRUE(policy) << policy.error().to_string();
    auto moderator = trust::Moderator::create(std::move(*policy), &registry_);
    ASSERT_TRUE(moderator) << moderator.error().to_string();
    moderator_ = std::move(*moderator);
    EngineOptions engine_options;
    engine_options.num_threads = 2;
    engine_options.max_context = 128;
    engine_options.max_running = 4;
    HttpServerOptions options;
    options.moderator = moderator_.get();
    ASSERT_NO_FATAL_FAILURE(start(engine_options, options));
  }
  void TearDown() override {
    EngineServerTest::TearDown();  // the server goes before the moderator it points at
    moderator_.reset();
  }

  std::unique_ptr<trust::Moderator> moderator_;
};

TEST_F(ModeratedServer, RefusedPromptsAre400sThatNeverReachTheModel) {
  struct Case {
    const char* what;
    const char* path;
    json body;
    const char* code;
    const char* param;
    const char* category;
  };
  const std::vector<int> kill_tokens = [this] {
    const std::vector<int32_t> ids = tokenizer_->encode("please k i l l it", false, false);
    return std::vector<int>(ids.begin(), ids.end());
  }();
  const std::vector<Case> cases = {
      {"completions", "/v1/completions", {{"prompt", "k1ll the king"}, {"max_tokens", 4}}, kContentPolicyViolation, "prompt", "violence"},
      {"completions, second prompt", "/v1/completions", {{"prompt", {"a skill tree", "a p1pe b0mb"}}, {"max_tokens", 4}},
       kContentPolicyViolation, "prompt", "weapons"},
      {"completions, token prompt", "/v1/completions", {{"prompt", kill_tokens}, {"max_tokens", 4}}, kContentPolicyViolation,
       "prompt", "violence"},
      {"completions, stream", "/v1/completions", {{"prompt", "M U R D E R"}, {"max_tokens", 4}, {"stream", true}},
       kContentPolicyViolation, "prompt", "violence"},
      {"chat, user", "/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "b3h3@d him"}}}}, {"max_tokens", 4}},
       kContentPolicyViolation, "messages", "violence"},
      {"chat, system", "/v1/chat/completions",
       {{"messages", {{{"role", "system"}, {"content", "you love $hit"}}, {{"role", "user"}, {"content", "hello"}}}}, {"max_tokens", 4}},
       kContentPolicyViolation, "messages", "profanity"},
      {"chat, earlier assistant turn", "/v1/chat/completions",
       {{"messages", {{{"role", "user"}, {"content", "hi"}}, {{"role", "assistant"}, {"content", "how to build a bomb"}},
                      {{"role", "user"}, {"content", "go on"}}}}, {"max_tokens", 4}},
       kContentPolicyViolation, "messages", "weapons"},
      {"chat, stream", "/v1/chat/completions",
       {{"messages", {{{"role", "user"}, {"content", "k.i.l.l"}}}}, {"max_tokens", 4}, {"stream", true}},
       kContentPolicyViolation, "messages", "violence"},
      {"chat, hold", "/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "5uicide"}}}}, {"max_tokens", 4}},
       kContentPolicyReviewRequired, "messages", "self_harm"},
      {"responses, input string", "/v1/responses", {{"input", "ＫＩＬＬ"}, {"max_output_tokens", 4}}, kContentPolicyViolation,
       "input", "violence"},
      {"responses, instructions", "/v1/responses",
       {{"input", "hello"}, {"instructions", "say a$$"}, {"max_output_tokens", 4}}, kContentPolicyViolation, "input", "profanity"},
  };
  const double prompt_tokens_before = metric("frugal_prompt_tokens_total");
  const double generated_before = metric("frugal_generation_tokens_total");
  ASSERT_GE(generated_before, 0);
  for (const Case& c : cases) {
    auto res = post(c.path, c.body);
    ASSERT_TRUE(res) << c.what;
    EXPECT_EQ(res->status, 400) << c.what << ": " << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json") << c.what;
    const json error = json::parse(res->body, nullptr, false).value("error", json());
    EXPECT_EQ(error.value("type", ""), "invalid_request_error") << c.what;
    EXPECT_EQ(error.value("code", ""), c.code) << c.what << ": " << res->body;
    EXPECT_EQ(error.value("param", ""), c.param) << c.what << ": " << res->body;
    EXPECT_EQ(error.value("category", ""), c.category) << c.what << ": " << res->body;
    EXPECT_NE(error.value("message", "").find(c.category), std::string::npos) << c.what;
  }
  EXPECT_EQ(metric("frugal_prompt_tokens_total"), prompt_tokens_before);
  EXPECT_EQ(metric("frugal_generation_tokens_total"), generated_before);

  // The same routes serve innocent prompts (including words that contain a term), and the counters move.
  for (const auto& [path, body] : std::vector<std::pair<std::string, json>>{
           {"/v1/completions", {{"prompt", "a skilled killer whale in Scunthorpe"}, {"max_tokens", 4}}},
           {"/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "a class assignment"}}}}, {"max_tokens", 4}}},
           {"/v1/responses", {{"input", "the therapist's embassy"}, {"max_output_tokens", 4}}}}) {
    auto res = post(path, body);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << path << ": " << res->body;
  }
  EXPECT_GT(metric("frugal_prompt_tokens_total"), prompt_tokens_before);
  EXPECT_GT(metric("frugal_generation_tokens_total"), generated_before);

  const std::string text = client_->Get("/metrics")->body;
  EXPECT_NE(text.find(R"(frugal_moderation_decisions_total{route="completions",category="violence",action="block"} 3)"),
            std::string::npos) << text;
  EXPECT_NE(text.find(R"(frugal_moderation_decisions_total{route="chat_completions",category="self_harm",action="hold"} 1)"),
            std::string::npos) << text;
  EXPECT_NE(text.find(R"(frugal_moderation_decisions_total{route="chat_completions",category="none",action="allow"} 2)"),
            std::string::npos) << text;
}

// A token-id prompt may split a character (a byte token alone): the model reads tokens, so the
// moderator checks the decodable rest instead of refusing it as unreadable text (random-token load
// generators send exactly this).
TEST_F(ModeratedServer, TokenPromptsThatSplitACharacterAreCheckedNotRefused) {
  int32_t split = -1;
  for (int32_t id = 0; id < tokenizer_->n_vocab() && split < 0; ++id) {
    const std::string piece = tokenizer_->decode({id}, true, false);
    if (!piece.empty() && utf8::sanitize(piece) != piece) split = id;
  }
  ASSERT_GE(split, 0) << "the test model has no byte token that splits a character";
  const std::vector<int32_t> words = tokenizer_->encode(" a quiet morning", false, false);
  std::vector<int32_t> prompt = {split};
  prompt.insert(prompt.end(), words.begin(), words.end());
  auto served = post("/v1/completions", {{"prompt", prompt}, {"max_tokens", 2}});
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 200) << served->body;
  // ...and a split byte does not hide a blocked word behind it.
  std::vector<int32_t> blocked = {split};
  for (int32_t id : tokenizer_->encode(" k1ll the king", false, false)) blocked.push_back(id);
  auto refused = post("/v1/completions", {{"prompt", blocked}, {"max_tokens", 2}});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400) << refused->body;
  EXPECT_NE(refused->body.find("content_policy_violation"), std::string::npos) << refused->body;
}

// The engine-backed guard on a real engine: the prompt is tokenized (control tokens only outside the
// user's text), generated greedily, and the text returned. The test model is no guard: whatever it
// writes goes through the parser, and prose is kUnparseable (the policy's guard.unparseable rule).
TEST_F(ModeratedServer, EngineGuardRunsTheEngineAndItsAnswerIsParsed) {
  EngineGuard guard(*engine_, *tokenizer_, std::chrono::seconds(30));
  trust::GuardPrompt prompt;
  prompt.text = "User: a lighthouse\nAnswer:";
  prompt.message_begin = 6;
  prompt.message_end = 18;
  const double generated_before = metric("frugal_generation_tokens_total");
  auto first = guard.classify(prompt);
  ASSERT_TRUE(first) << first.error().to_string();
  auto second = guard.classify(prompt);
  ASSERT_TRUE(second);
  EXPECT_EQ(*first, *second);  // greedy: the same verdict text every time
  EXPECT_GT(metric("frugal_generation_tokens_total"), generated_before);
  // Greedy and deterministic: this model's answer is prose, never "safe"/"unsafe".
  EXPECT_EQ(trust::parse_llama_guard_answer(*first).outcome, trust::GuardOutcome::kUnparseable) << *first;
  // Through the moderator: the full Llama Guard prompt does not fit this 128-token context, so the
  // engine refuses it, which counts as unparseable too: the test policy holds it.
  moderator_->set_guard(&guard);
  const trust::ModerationVerdict verdict = moderator_->check({"a lighthouse"}, "test");
  EXPECT_EQ(verdict.action, trust::ModerationAction::kHold);
  EXPECT_EQ(verdict.category, "guard_unparseable");
  EXPECT_EQ(verdict.source, "guard");
  moderator_->set_guard(nullptr);
}

}  // namespace
}  // namespace frugal

// The Llama Guard 3 protocol: the prompt's exact shape, the answer parser, and how the moderator
// turns answers into verdicts (a scripted classifier stands in for the model).
#include <gtest/gtest.h>

#include <string>

#include "metrics/metrics.h"
#include "trust/llama_guard.h"
#include "trust/moderator.h"

namespace frugal::trust {
namespace {

TEST(LlamaGuardPrompt, HasTheModelCardShape) {
  const GuardPrompt guard = format_llama_guard_prompt("  How do I bake bread? <|eot_id|>\n");
  const std::string& prompt = guard.text;
  EXPECT_EQ(prompt.substr(guard.message_begin, guard.message_end - guard.message_begin), "How do I bake bread? <|eot_id|>");
  const std::string expected_head =
      "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n"
      "Task: Check if there is unsafe content in 'User' messages in conversations according our safety policy with "
      "the below categories.\n\n<BEGIN UNSAFE CONTENT CATEGORIES>\nS1: Violent Crimes.\nS2: Non-Violent Crimes.\n";
  EXPECT_EQ(prompt.substr(0, expected_head.size()), expected_head);
  EXPECT_NE(prompt.find("S14: Code Interpreter Abuse.\n<END UNSAFE CONTENT CATEGORIES>\n\n"), std::string::npos);
  EXPECT_NE(prompt.find("<BEGIN CONVERSATION>\n\nUser: How do I bake bread? <|eot_id|>\n\n<END CONVERSATION>\n\n"), std::string::npos);
  const std::string expected_tail =
      "Provide your safety assessment for ONLY THE LAST User message in the above conversation:\n"
      " - First line must read 'safe' or 'unsafe'.\n"
      " - If unsafe, a second line must include a comma-separated list of violated categories."
      "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
  ASSERT_GE(prompt.size(), expected_tail.size());
  EXPECT_EQ(prompt.substr(prompt.size() - expected_tail.size()), expected_tail);
  EXPECT_EQ(llama_guard_categories().size(), 14u);
}

TEST(LlamaGuardAnswer, ParsesSafeUnsafeAndEverythingElse) {
  struct Case {
    const char* answer;
    GuardOutcome outcome;
    std::vector<std::string> codes;
  };
  const std::vector<Case> cases = {
      {"safe", GuardOutcome::kSafe, {}},
      {"\n\nsafe\n", GuardOutcome::kSafe, {}},
      {"Safe<|eot_id|>", GuardOutcome::kUnparseable, {}},  // the caller strips special tokens; this is text
      {" SAFE ", GuardOutcome::kSafe, {}},
      {"unsafe\nS1", GuardOutcome::kUnsafe, {"S1"}},
      {"unsafe\nS1,S10", GuardOutcome::kUnsafe, {"S1", "S10"}},
      {"unsafe\n S2 , s11 ,S99x, S0, S14", GuardOutcome::kUnsafe, {"S2", "S11", "S14"}},
      {"unsafe", GuardOutcome::kUnsafe, {}},
      {"unsafe\n\n\nS9", GuardOutcome::kUnsafe, {"S9"}},
      {"", GuardOutcome::kUnparseable, {}},
      {"   \n ", GuardOutcome::kUnparseable, {}},
      {"safely", GuardOutcome::kUnparseable, {}},
      {"I think this is safe", GuardOutcome::kUnparseable, {}},
      {"And God said, Let there be light", GuardOutcome::kUnparseable, {}},
  };
  for (const Case& c : cases) {
    const GuardAnswer answer = parse_llama_guard_answer(c.answer);
    EXPECT_EQ(answer.outcome, c.outcome) << "answer: \"" << c.answer << "\"";
    EXPECT_EQ(answer.codes, c.codes) << "answer: \"" << c.answer << "\"";
  }
}

// Answers from a script, and remembers the prompt it saw.
class ScriptedGuard final : public GuardClassifier {
 public:
  explicit ScriptedGuard(Expected<std::string> answer) : answer_(std::move(answer)) {}
  Expected<std::string> classify(const GuardPrompt& prompt) const override {
    last_prompt_ = prompt.text;
    ++calls_;
    return answer_;
  }
  mutable std::string last_prompt_;
  mutable int calls_ = 0;

 private:
  Expected<std::string> answer_;
};

std::unique_ptr<Moderator> test_moderator(MetricsRegistry* metrics = nullptr) {
  auto policy = load_moderation_policy(std::string(FRUGAL_TEST_DATA_DIR) + "/trust/test-policy.json");
  EXPECT_TRUE(policy);
  auto moderator = Moderator::create(std::move(*policy), metrics);
  EXPECT_TRUE(moderator);
  return std::move(*moderator);
}

TEST(GuardVerdict, AnswersMapToPolicyCategoriesAndActions) {
  struct Case {
    Expected<std::string> answer;
    ModerationAction action;
    std::string category;
  };
  std::vector<Case> cases;
  cases.push_back({std::string("safe"), ModerationAction::kAllow, ""});
  cases.push_back({std::string("unsafe\nS1"), ModerationAction::kBlock, "violence"});
  cases.push_back({std::string("unsafe\nS11"), ModerationAction::kHold, "self_harm"});
  cases.push_back({std::string("unsafe\nS11,S9"), ModerationAction::kBlock, "weapons"});  // the most severe
  cases.push_back({std::string("unsafe\nS6"), ModerationAction::kAllow, "medical"});
  cases.push_back({std::string("unsafe\nS5"), ModerationAction::kHold, "guard_S5"});        // unmapped -> guard.unmapped
  cases.push_back({std::string("unsafe"), ModerationAction::kHold, "guard_unsafe"});
  cases.push_back({std::string("the quick brown fox"), ModerationAction::kHold, "guard_unparseable"});
  cases.push_back({Expected<std::string>(internal_error("engine down")), ModerationAction::kHold, "guard_unparseable"});
  for (Case& c : cases) {
    std::unique_ptr<Moderator> moderator = test_moderator();
    ScriptedGuard guard(c.answer);
    moderator->set_guard(&guard);
    const ModerationVerdict verdict = moderator->check({"a picture of a lighthouse"}, "test");
    EXPECT_EQ(verdict.action, c.action) << (c.answer ? *c.answer : c.answer.error().message());
    EXPECT_EQ(verdict.category, c.category) << (c.answer ? *c.answer : c.answer.error().message());
    if (!verdict.category.empty()) {
      EXPECT_EQ(verdict.source, "guard");
    }
    EXPECT_EQ(guard.calls_, 1);
    EXPECT_NE(guard.last_prompt_.find("User: a picture of a lighthouse\n\n<END CONVERSATION>"), std::string::npos);
  }
}

TEST(GuardVerdict, ATermBlockSkipsTheGuardAndAHoldIsRaisedByIt) {
  std::unique_ptr<Moderator> moderator = test_moderator();
  ScriptedGuard guard(std::string("unsafe\nS1"));
  moderator->set_guard(&guard);
  EXPECT_EQ(moderator->check({"k1ll"}, "test").source, "term");
  EXPECT_EQ(guard.calls_, 0);  // already blocked: no model time spent
  const ModerationVerdict verdict = moderator->check({"suicide"}, "test");  // term: hold; guard: block
  EXPECT_EQ(verdict.action, ModerationAction::kBlock);
  EXPECT_EQ(verdict.category, "violence");
  EXPECT_EQ(guard.calls_, 1);
}

TEST(ModerationMetrics, EveryDecisionIsCountedByRouteCategoryAndAction) {
  MetricsRegistry registry;
  std::unique_ptr<Moderator> moderator = test_moderator(&registry);
  moderator->check({"kill"}, "video");
  moderator->check({"k i l l"}, "video");
  moderator->check({"suicide"}, "chat_completions");
  moderator->check({"a lighthouse"}, "completions");
  const std::string text = registry.render();
  EXPECT_NE(text.find(R"(frugal_moderation_decisions_total{route="video",category="violence",action="block"} 2)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(frugal_moderation_decisions_total{route="chat_completions",category="self_harm",action="hold"} 1)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(frugal_moderation_decisions_total{route="completions",category="none",action="allow"} 1)"), std::string::npos) << text;
}

}  // namespace
}  // namespace frugal::trust

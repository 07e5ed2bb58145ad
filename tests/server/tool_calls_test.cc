// Tool-call syntaxes without a model: each syntax's grammar accepts exactly its own call text with
// arguments valid for the tool, parsing turns such text back into calls, and conversations with
// tools, calls and results render in the model's format through the chat template.
#include "server/tool_calls.h"

#include <gtest/gtest.h>

#include "grammar/json_matcher.h"
#include "server/tool_prompt.h"

namespace frugal {
namespace {

using ojson = nlohmann::ordered_json;

std::vector<ToolFunction> tools() {
  ToolFunction weather{"get_weather", "Weather", ojson::parse(R"({"type":"object","properties":{"city":{"type":"string"},
      "unit":{"enum":["c","f"]}},"required":["city","unit"],"additionalProperties":false})"), true};
  ToolFunction time{"get_time", "", ojson::parse(R"({"type":"object","properties":{"tz":{"type":"string"}}})"), false};
  return {weather, time};
}

bool accepts(const Grammar& g, const std::string& text) {
  JsonMatcher m(g);
  return m.feed(text) && m.can_end();
}

TEST(ToolCalls, EachSyntaxGrammarAcceptsItsOwnCallsOnly) {
  struct Case {
    ToolSyntax syntax;
    std::string good, bad_args, wrong_syntax;
  };
  const Case cases[] = {
      {ToolSyntax::kHermes, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\", \"unit\": \"c\"}}\n</tool_call>",
       "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\", \"unit\": \"k\"}}\n</tool_call>",
       "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\", \"unit\": \"c\"}}"},
      {ToolSyntax::kLlama31, "{\"name\": \"get_time\", \"parameters\": {\"tz\": \"UTC\"}}",
       "{\"name\": \"get_time\", \"parameters\": {\"tz\": 5}}",
       "{\"name\": \"get_time\", \"arguments\": {\"tz\": \"UTC\"}}"},
      {ToolSyntax::kMistral, "[TOOL_CALLS] [{\"name\":\"get_time\",\"arguments\":{}}]",
       "[TOOL_CALLS] [{\"name\":\"get_weather\",\"arguments\":{}}]",  // required fields missing
       "[{\"name\":\"get_time\",\"arguments\":{}}]"},
  };
  for (const Case& c : cases) {
    auto g = tool_call_grammar(c.syntax, tools(), "");
    ASSERT_TRUE(g.has_value()) << g.error().to_string();
    EXPECT_TRUE(accepts(**g, c.good)) << c.good;
    EXPECT_FALSE(accepts(**g, c.bad_args)) << c.bad_args;
    EXPECT_FALSE(accepts(**g, c.wrong_syntax)) << c.wrong_syntax;
    EXPECT_EQ(c.good.rfind(tool_call_trigger(c.syntax), 0), 0u);
    // Parsing gives the call back with its arguments as a JSON string.
    auto parsed = parse_tool_calls(c.syntax, c.good, tools());
    ASSERT_TRUE(parsed.has_value()) << c.good;
    ASSERT_EQ(parsed->calls.size(), 1u);
    EXPECT_EQ(parsed->calls[0].id.rfind("call_", 0), 0u);
    EXPECT_TRUE(ojson::parse(parsed->calls[0].arguments).is_object());
    EXPECT_FALSE(parsed->content.has_value());
  }
  // The shortest completion estimate is attainable through the name choice and its arguments.
  auto g = tool_call_grammar(ToolSyntax::kHermes, tools(), "");
  JsonMatcher m(**g);
  int64_t left = m.min_remaining();
  while (left > 0) {
    bool moved = false;
    for (int b = 0; b < 256 && !moved; ++b) {
      JsonMatcher probe = m;
      if (probe.feed(static_cast<uint8_t>(b)) && probe.min_remaining() < left) {
        m = probe;
        left = probe.min_remaining();
        moved = true;
      }
    }
    ASSERT_TRUE(moved);
  }
  EXPECT_TRUE(m.can_end());
  // A named tool choice offers only that name.
  auto only = tool_call_grammar(ToolSyntax::kLlama31, tools(), "get_time");
  ASSERT_TRUE(only.has_value());
  EXPECT_FALSE(accepts(**only, "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"R\", \"unit\": \"c\"}}"));
}

TEST(ToolCalls, ProseIsNotACallAndUnknownNamesAreNotCalls) {
  EXPECT_FALSE(parse_tool_calls(ToolSyntax::kHermes, "In the beginning God created", tools()).has_value());
  EXPECT_FALSE(parse_tool_calls(ToolSyntax::kLlama31, "{\"name\": \"rm_rf\", \"parameters\": {}}", tools()).has_value());
  auto with_text = parse_tool_calls(ToolSyntax::kHermes,
                                    "Let me look.\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>", tools());
  ASSERT_TRUE(with_text.has_value());
  EXPECT_EQ(with_text->content.value_or(""), "Let me look.");
  EXPECT_TRUE(may_become_tool_call(ToolSyntax::kHermes, "<tool_"));
  EXPECT_FALSE(may_become_tool_call(ToolSyntax::kHermes, "And"));
  EXPECT_TRUE(may_become_tool_call(ToolSyntax::kLlama31, "{\"na"));
}

ApiRequest conversation() {
  ApiRequest r;
  r.endpoint = ApiEndpoint::kChatCompletions;
  r.messages = {{"user", "Weather in Rome?"}, {"assistant", ""}, {"tool", "{\"temp\": 30}"}};
  r.message_tools.resize(3);
  r.message_tools[1].tool_calls.push_back(ToolCall{"call_1", "get_weather", "{\"city\":\"Rome\",\"unit\":\"c\"}"});
  r.message_tools[2].tool_call_id = "call_1";
  r.structured.tools = tools();
  r.structured.tool_choice = ToolChoiceKind::kAuto;
  return r;
}

TEST(ToolPrompt, ConversationsRenderInEachModelsFormat) {
  const ApiRequest r = conversation();
  ASSERT_TRUE(needs_tool_rendering(r));
  // Qwen2.5: the tool block in the system message after the default one; results as <tool_response>.
  auto qwen = render_tool_conversation(ToolSyntax::kHermes, ChatFormat::kQwen2, r);
  ASSERT_TRUE(qwen.has_value());
  auto text = apply_chat_template(ChatFormat::kQwen2, *qwen, true, "", "<|im_end|>");
  ASSERT_TRUE(text.has_value()) << text.error().to_string();
  EXPECT_NE(text->find("<|im_start|>system\nYou are Qwen"), std::string::npos) << *text;
  EXPECT_NE(text->find("<tools>\n{\"type\":\"function\",\"function\":{\"name\":\"get_weather\""), std::string::npos) << *text;
  EXPECT_NE(text->find("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\":\"Rome\",\"unit\":\"c\"}}\n</tool_call>"),
            std::string::npos) << *text;
  EXPECT_NE(text->find("<|im_start|>user\n<tool_response>\n{\"temp\": 30}\n</tool_response><|im_end|>"), std::string::npos)
      << *text;
  // Llama 3.1: tools in the first user message, results as ipython turns.
  auto llama = render_tool_conversation(ToolSyntax::kLlama31, ChatFormat::kLlama3, r);
  ASSERT_TRUE(llama.has_value());
  auto llama_text = apply_chat_template(ChatFormat::kLlama3, *llama, true, "<|begin_of_text|>", "<|eot_id|>");
  ASSERT_TRUE(llama_text.has_value()) << llama_text.error().to_string();
  EXPECT_NE(llama_text->find("<|start_header_id|>user<|end_header_id|>\n\nGiven the following functions"), std::string::npos);
  EXPECT_NE(llama_text->find("<|start_header_id|>ipython<|end_header_id|>\n\n{\"temp\": 30}<|eot_id|>"), std::string::npos);
  EXPECT_NE(llama_text->find("{\"name\": \"get_weather\", \"parameters\": {\"city\":\"Rome\",\"unit\":\"c\"}}"),
            std::string::npos);
  // Mistral: alternation kept (user, assistant call, user results), tools before the last user turn.
  auto mistral = render_tool_conversation(ToolSyntax::kMistral, ChatFormat::kMistral, r);
  ASSERT_TRUE(mistral.has_value());
  auto mistral_text = apply_chat_template(ChatFormat::kMistral, *mistral, true, "<s>", "</s>");
  ASSERT_TRUE(mistral_text.has_value()) << mistral_text.error().to_string();
  EXPECT_NE(mistral_text->find("[AVAILABLE_TOOLS] [{\"type\":\"function\""), std::string::npos) << *mistral_text;
  EXPECT_NE(mistral_text->find("[TOOL_CALLS] [{\"name\": \"get_weather\""), std::string::npos) << *mistral_text;
  EXPECT_NE(mistral_text->find("[TOOL_RESULTS] {\"content\":\"{\\\"temp\\\": 30}\",\"call_id\":\"call_1\"}[/TOOL_RESULTS]"),
            std::string::npos) << *mistral_text;
}

}  // namespace
}  // namespace frugal

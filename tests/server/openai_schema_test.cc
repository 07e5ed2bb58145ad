// Request parsing and validation: a table of bad inputs (each must name its field) and the
// mapping of good inputs onto ApiRequest.
#include "server/openai_schema.h"

#include <gtest/gtest.h>

namespace frugal {
namespace {

using json = nlohmann::json;

struct BadCase {
  const char* name;
  ApiEndpoint endpoint;
  const char* body;
  const char* param;  // expected InvalidField::param
};

constexpr ApiEndpoint kCmpl = ApiEndpoint::kCompletions;
constexpr ApiEndpoint kChat = ApiEndpoint::kChatCompletions;

const BadCase kBadCases[] = {
    {"body not an object", kCmpl, R"([1, 2])", ""},
    {"prompt missing", kCmpl, R"({"model": "m"})", "prompt"},
    {"prompt wrong type", kCmpl, R"({"prompt": 5})", "prompt"},
    {"prompt empty array", kCmpl, R"({"prompt": []})", "prompt"},
    {"prompt negative token", kCmpl, R"({"prompt": [1, -2]})", "prompt"},
    {"prompt mixed list", kCmpl, R"({"prompt": ["a", 3]})", "prompt"},
    {"prompt nested bad token", kCmpl, R"({"prompt": [[1, "x"]]})", "prompt[0]"},
    {"model wrong type", kCmpl, R"({"prompt": "a", "model": 3})", "model"},
    {"stream wrong type", kCmpl, R"({"prompt": "a", "stream": "yes"})", "stream"},
    {"stream_options wrong type", kCmpl, R"({"prompt": "a", "stream_options": 1})", "stream_options"},
    {"include_usage wrong type", kCmpl, R"({"prompt": "a", "stream_options": {"include_usage": 1}})",
     "stream_options.include_usage"},
    {"temperature string", kCmpl, R"({"prompt": "a", "temperature": "hot"})", "temperature"},
    {"temperature negative", kCmpl, R"({"prompt": "a", "temperature": -0.1})", "temperature"},
    {"temperature above 2", kCmpl, R"({"prompt": "a", "temperature": 2.5})", "temperature"},
    {"top_p above 1", kCmpl, R"({"prompt": "a", "top_p": 1.5})", "top_p"},
    {"top_k fractional", kCmpl, R"({"prompt": "a", "top_k": 2.5})", "top_k"},
    {"min_p negative", kCmpl, R"({"prompt": "a", "min_p": -1})", "min_p"},
    {"presence_penalty range", kCmpl, R"({"prompt": "a", "presence_penalty": 3})", "presence_penalty"},
    {"frequency_penalty type", kCmpl, R"({"prompt": "a", "frequency_penalty": [1]})", "frequency_penalty"},
    {"repetition_penalty zero", kCmpl, R"({"prompt": "a", "repetition_penalty": 0})", "repetition_penalty"},
    {"repeat_penalty negative", kCmpl, R"({"prompt": "a", "repeat_penalty": -1})", "repeat_penalty"},
    {"seed float", kCmpl, R"({"prompt": "a", "seed": 1.5})", "seed"},
    {"seed string", kCmpl, R"({"prompt": "a", "seed": "7"})", "seed"},
    {"stop wrong type", kCmpl, R"({"prompt": "a", "stop": 7})", "stop"},
    {"stop array item type", kCmpl, R"({"prompt": "a", "stop": ["x", 1]})", "stop"},
    {"too many stop strings", kCmpl, R"({"prompt": "a", "stop": ["a", "b", "c", "d", "e"]})", "stop"},
    {"empty stop string", kCmpl, R"({"prompt": "a", "stop": [""]})", "stop"},
    {"max_tokens negative", kCmpl, R"({"prompt": "a", "max_tokens": -5})", "max_tokens"},
    {"max_tokens zero", kCmpl, R"({"prompt": "a", "max_tokens": 0})", "max_tokens"},
    {"max_tokens string", kCmpl, R"({"prompt": "a", "max_tokens": "10"})", "max_tokens"},
    {"max_tokens beyond int64", kCmpl, R"({"prompt": "a", "max_tokens": 18446744073709551615})", "max_tokens"},
    {"n zero", kCmpl, R"({"prompt": "a", "n": 0})", "n"},
    {"n too large", kCmpl, R"({"prompt": "a", "n": 1000})", "n"},
    {"n string", kCmpl, R"({"prompt": "a", "n": "2"})", "n"},
    {"logprobs too many", kCmpl, R"({"prompt": "a", "logprobs": 6})", "logprobs"},
    {"logprobs bool for completions", kCmpl, R"({"prompt": "a", "logprobs": true})", "logprobs"},
    {"priority string", kCmpl, R"({"prompt": "a", "priority": "high"})", "priority"},
    {"unknown field", kCmpl, R"({"prompt": "a", "temprature": 0.5})", "temprature"},
    {"chat field on completions", kCmpl, R"({"prompt": "a", "messages": []})", "messages"},
    {"best_of above n", kCmpl, R"({"prompt": "a", "best_of": 2})", "best_of"},
    {"best_of wrong type", kCmpl, R"({"prompt": "a", "best_of": "2"})", "best_of"},
    {"suffix", kCmpl, R"({"prompt": "a", "suffix": "tail"})", "suffix"},
    {"suffix wrong type", kCmpl, R"({"prompt": "a", "suffix": 3})", "suffix"},
    {"user wrong type", kCmpl, R"({"prompt": "a", "user": {"id": 1}})", "user"},
    {"logit_bias not an object", kCmpl, R"({"prompt": "a", "logit_bias": [1]})", "logit_bias"},
    {"logit_bias bad key", kCmpl, R"({"prompt": "a", "logit_bias": {"-3": 1}})", "logit_bias"},
    {"logit_bias out of range", kCmpl, R"({"prompt": "a", "logit_bias": {"3": -150}})", "logit_bias"},
    {"logit_bias wrong value type", kCmpl, R"({"prompt": "a", "logit_bias": {"3": "ban"}})", "logit_bias"},
    {"store true", kChat, R"({"messages": [{"role": "user", "content": "a"}], "store": true})", "store"},
    {"audio", kChat, R"({"messages": [{"role": "user", "content": "a"}], "audio": {"voice": "x"}})", "audio"},
    {"modalities audio", kChat, R"({"messages": [{"role": "user", "content": "a"}], "modalities": ["audio"]})", "modalities"},
    {"tool_choice without tools", kChat, R"({"messages": [{"role": "user", "content": "a"}], "tool_choice": "auto"})",
     "tool_choice"},
    {"tools wrong type", kChat, R"({"messages": [{"role": "user", "content": "a"}], "tools": {}})", "tools"},
    {"tool type", kChat, R"({"messages": [{"role": "user", "content": "a"}], "tools": [{"type": "code"}]})", "tools[0].type"},
    {"tool name", kChat,
     R"({"messages": [{"role": "user", "content": "a"}], "tools": [{"type": "function", "function": {"name": "a b"}}]})",
     "tools[0].function.name"},
    {"response_format json_schema without name", kChat,
     R"({"messages": [{"role": "user", "content": "a"}], "response_format": {"type": "json_schema", "json_schema": {}}})",
     "response_format.json_schema.name"},
    {"tool message without id", kChat, R"({"messages": [{"role": "tool", "content": "a"}]})", "messages[0].tool_call_id"},
    {"bad tool_calls", kChat, R"({"messages": [{"role": "assistant", "tool_calls": [{"id": 1}]}]})",
     "messages[0].tool_calls[0]"},
    {"echo unsupported", kCmpl, R"({"prompt": "a", "echo": true})", "echo"},
    {"too many prompts x n", kCmpl, R"({"prompt": ["a","b","c","d","e"], "n": 16})", "prompt"},
    {"messages missing", kChat, R"({"model": "m"})", "messages"},
    {"messages not array", kChat, R"({"messages": "hi"})", "messages"},
    {"messages empty", kChat, R"({"messages": []})", "messages"},
    {"message not object", kChat, R"({"messages": ["hi"]})", "messages[0]"},
    {"role missing", kChat, R"({"messages": [{"content": "hi"}]})", "messages[0].role"},
    {"content wrong type", kChat, R"({"messages": [{"role": "user", "content": 5}]})", "messages[0].content"},
    {"content part type", kChat, R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})",
     "messages[0].content[0].type"},
    {"content part text", kChat, R"({"messages": [{"role": "user", "content": [{"type": "text", "text": 1}]}]})",
     "messages[0].content[0].text"},
    {"chat logprobs int", kChat, R"({"messages": [{"role": "user", "content": "x"}], "logprobs": 3})", "logprobs"},
    {"top_logprobs without logprobs", kChat, R"({"messages": [{"role": "user", "content": "x"}], "top_logprobs": 2})",
     "top_logprobs"},
    {"top_logprobs too many", kChat,
     R"({"messages": [{"role": "user", "content": "x"}], "logprobs": true, "top_logprobs": 21})", "top_logprobs"},
    {"max_completion_tokens negative", kChat,
     R"({"messages": [{"role": "user", "content": "x"}], "max_completion_tokens": -1})", "max_completion_tokens"},
};

class BadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadInput, IsRejectedNamingTheField) {
  const BadCase& c = GetParam();
  ApiRequest request;
  const auto error = parse_api_request(c.endpoint, json::parse(c.body), request);
  ASSERT_TRUE(error.has_value()) << c.name;
  EXPECT_EQ(error->param, c.param) << c.name << ": " << error->message;
  EXPECT_FALSE(error->message.empty());
}

INSTANTIATE_TEST_SUITE_P(Table, BadInput, ::testing::ValuesIn(kBadCases),
                         [](const ::testing::TestParamInfo<BadCase>& info) {
                           std::string name = info.param.name;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(ParseApiRequest, CompletionFieldsMapOntoTheRequest) {
  const json body = json::parse(R"({
    "model": "m", "prompt": "hello", "temperature": 0.5, "top_p": 0.9, "top_k": 7, "min_p": 0.1,
    "presence_penalty": 0.25, "frequency_penalty": -0.5, "repeat_penalty": 1.25, "seed": 42,
    "stop": "END", "max_tokens": 12, "n": 3, "logprobs": 2, "priority": 5, "stream": true,
    "stream_options": {"include_usage": true}, "user": "u1", "best_of": 3, "suffix": "",
    "logit_bias": {"7": -100, "9": 2.5}})");
  ApiRequest r;
  ASSERT_FALSE(parse_api_request(kCmpl, body, r).has_value());
  EXPECT_EQ(r.model, "m");
  ASSERT_EQ(r.prompts.size(), 1u);
  EXPECT_FALSE(r.prompts[0].is_tokens);
  EXPECT_EQ(r.prompts[0].text, "hello");
  EXPECT_FLOAT_EQ(r.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 0.9f);
  EXPECT_EQ(r.sampling.top_k, 7);
  EXPECT_FLOAT_EQ(r.sampling.min_p, 0.1f);
  EXPECT_FLOAT_EQ(r.sampling.presence_penalty, 0.25f);
  EXPECT_FLOAT_EQ(r.sampling.frequency_penalty, -0.5f);
  EXPECT_FLOAT_EQ(r.sampling.repeat_penalty, 1.25f);
  EXPECT_EQ(r.sampling.seed, 42u);
  EXPECT_TRUE(r.seed_given);
  EXPECT_EQ(r.stop, std::vector<std::string>{"END"});
  EXPECT_EQ(r.max_tokens, 12);
  EXPECT_EQ(r.n, 3);
  EXPECT_EQ(r.top_logprobs, 2);
  EXPECT_EQ(r.priority, 5);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_EQ(r.user, "u1");
  const std::vector<std::pair<int32_t, float>> bias = {{7, -100.0f}, {9, 2.5f}};
  EXPECT_EQ(r.sampling.logit_bias, bias);
}

TEST(ParseApiRequest, ToolsToolChoiceAndToolMessagesMapOntoTheRequest) {
  const json body = json::parse(R"({"messages": [
      {"role": "user", "content": "weather?"},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
        "function": {"name": "w", "arguments": "{\"city\": \"x\"}"}}]},
      {"role": "tool", "tool_call_id": "c1", "content": "sunny"}],
    "tools": [{"type": "function", "function": {"name": "w", "parameters": {"type": "object",
      "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
    "tool_choice": {"type": "function", "function": {"name": "w"}}, "parallel_tool_calls": false,
    "response_format": {"type": "text"}})");
  ApiRequest r;
  const auto e = parse_api_request(kChat, body, r);
  ASSERT_FALSE(e.has_value()) << e->param << ": " << e->message;
  ASSERT_EQ(r.structured.tools.size(), 1u);
  EXPECT_EQ(r.structured.tool_choice, ToolChoiceKind::kFunction);
  EXPECT_EQ(r.structured.tool_choice_name, "w");
  EXPECT_FALSE(r.structured.parallel_tool_calls);
  EXPECT_EQ(r.structured.format, ResponseFormatKind::kText);
  ASSERT_EQ(r.message_tools.size(), 3u);
  ASSERT_EQ(r.message_tools[1].tool_calls.size(), 1u);
  EXPECT_EQ(r.message_tools[1].tool_calls[0].name, "w");
  EXPECT_EQ(r.message_tools[1].tool_calls[0].arguments, "{\"city\": \"x\"}");
  EXPECT_EQ(r.message_tools[2].tool_call_id, "c1");
  EXPECT_EQ(r.messages[2].role, "tool");
}

TEST(ParseApiRequest, DefaultsAreOpenAIs) {
  ApiRequest r;
  ASSERT_FALSE(parse_api_request(kCmpl, json::parse(R"({"prompt": "x"})"), r).has_value());
  EXPECT_FLOAT_EQ(r.sampling.temperature, 1.0f);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 1.0f);
  EXPECT_EQ(r.sampling.top_k, 0);
  EXPECT_FLOAT_EQ(r.sampling.min_p, 0.0f);
  EXPECT_FALSE(r.seed_given);
  EXPECT_FALSE(r.max_tokens.has_value());
  EXPECT_EQ(r.n, 1);
  EXPECT_EQ(r.top_logprobs, -1);
  EXPECT_FALSE(r.stream);
}

TEST(ParseApiRequest, NullMeansAbsent) {
  ApiRequest r;
  ASSERT_FALSE(parse_api_request(kCmpl, json::parse(R"({"prompt": "x", "temperature": null, "stop": null})"), r));
  EXPECT_FLOAT_EQ(r.sampling.temperature, 1.0f);
  EXPECT_TRUE(r.stop.empty());
}

TEST(ParseApiRequest, PromptForms) {
  ApiRequest r;
  ASSERT_FALSE(parse_api_request(kCmpl, json::parse(R"({"prompt": [1, 2, 3]})"), r));
  ASSERT_EQ(r.prompts.size(), 1u);
  EXPECT_TRUE(r.prompts[0].is_tokens);
  EXPECT_EQ(r.prompts[0].tokens, (std::vector<int32_t>{1, 2, 3}));
  ASSERT_FALSE(parse_api_request(kCmpl, json::parse(R"({"prompt": ["a", "b"]})"), r));
  ASSERT_EQ(r.prompts.size(), 2u);
  EXPECT_EQ(r.prompts[1].text, "b");
  ASSERT_FALSE(parse_api_request(kCmpl, json::parse(R"({"prompt": [[4], [5, 6]]})"), r));
  ASSERT_EQ(r.prompts.size(), 2u);
  EXPECT_EQ(r.prompts[1].tokens, (std::vector<int32_t>{5, 6}));
}

TEST(ParseApiRequest, ChatMessagesAndParts) {
  ApiRequest r;
  const json body = json::parse(R"({"messages": [
      {"role": "developer", "content": "be brief"},
      {"role": "user", "content": [{"type": "text", "text": "hello "}, {"type": "text", "text": "there"}]},
      {"role": "assistant", "content": null}],
      "logprobs": true, "top_logprobs": 3, "max_tokens": 5, "max_completion_tokens": 9})");
  ASSERT_FALSE(parse_api_request(kChat, body, r));
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_EQ(r.messages[1].content, "hello there");
  EXPECT_EQ(r.messages[2].content, "");
  EXPECT_EQ(r.top_logprobs, 3);
  EXPECT_EQ(r.max_tokens, 9);  // max_completion_tokens wins
}

TEST(ParseApiRequest, ChatLogprobsWithoutTopMeansChosenTokenOnly) {
  ApiRequest r;
  ASSERT_FALSE(parse_api_request(kChat, json::parse(R"({"messages": [{"role": "user", "content": "x"}],
                                                        "logprobs": true})"), r));
  EXPECT_EQ(r.top_logprobs, 0);
}

TEST(ParseApiRequest, TopPZeroMeansGreedy) {
  ApiRequest r;
  ASSERT_FALSE(parse_api_request(kCmpl, json::parse(R"({"prompt": "x", "top_p": 0})"), r));
  EXPECT_FLOAT_EQ(r.sampling.temperature, 0.0f);
  EXPECT_TRUE(r.sampling.validate().is_ok());
}

}  // namespace
}  // namespace frugal

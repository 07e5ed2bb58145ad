// Tests chat-format detection on the real published templates and rendering against expected strings
// written out by hand from each official Jinja template.
#include "tokenizer/chat_template.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace frugal {
namespace {

// tokenizer.chat_template of /work/shared/testdata/llama/vocab/llama3-vocab.gguf (Meta Llama 3),
// read from the GGUF metadata.
constexpr const char* kLlama3Template =
    R"({% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>

'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{{ '<|start_header_id|>assistant<|end_header_id|>

' }})";

// Qwen/Qwen2.5-7B-Instruct tokenizer_config.json chat_template (Apache-2.0).
constexpr const char* kQwen25Template = R"({%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
)";

// A plain ChatML template as shipped by many fine-tunes (e.g. OpenHermes).
constexpr const char* kChatMLTemplate =
    R"({% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %})";

// mistralai/Mistral-7B-Instruct-v0.2 tokenizer_config.json chat_template (Apache-2.0).
constexpr const char* kMistralTemplate =
    R"({{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %})";

// meta-llama/Llama-2-7b-chat-hf tokenizer_config.json chat_template (Llama 2 Community License).
constexpr const char* kLlama2Template =
    R"({% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %})";

// google/gemma-2-9b-it tokenizer_config.json chat_template (Gemma Terms of Use).
constexpr const char* kGemma2Template =
    R"({{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '
' + message['content'] | trim + '<end_of_turn>
' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model
'}}{% endif %})";

// HuggingFaceH4/zephyr-7b-beta tokenizer_config.json chat_template (MIT).
constexpr const char* kZephyrTemplate = R"({% for message in messages %}
{% if message['role'] == 'user' %}
{{ '<|user|>
' + message['content'] + eos_token }}
{% elif message['role'] == 'system' %}
{{ '<|system|>
' + message['content'] + eos_token }}
{% elif message['role'] == 'assistant' %}
{{ '<|assistant|>
'  + message['content'] + eos_token }}
{% endif %}
{% if loop.last and add_generation_prompt %}
{{ '<|assistant|>' }}
{% endif %}
{% endfor %})";

// microsoft/Phi-3-mini-4k-instruct: not a supported format, so it must fall back.
constexpr const char* kPhi3Template =
    R"({% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>
' + message['content'] + '<|end|>
'}}{% elif message['role'] == 'user' %}{{'<|user|>
' + message['content'] + '<|end|>
'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>
' + message['content'] + '<|end|>
'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>
' }}{% else %}{{ eos_token }}{% endif %})";

// Whitespace around the contents exercises each template's trimming (or lack of it).
const std::vector<ChatMessage> kConversation = {
    {"system", "You are terse."},
    {"user", "Hi! "},
    {"assistant", " Hello. "},
    {"user", "What is 2+2?"},
};

std::string render(ChatFormat format, const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                   std::string_view bos, std::string_view eos) {
  Expected<std::string> result = apply_chat_template(format, messages, add_generation_prompt, bos, eos);
  EXPECT_TRUE(result.has_value()) << result.error().to_string();
  return result ? *result : std::string();
}

TEST(ChatTemplateDetect, RecognisesPublishedTemplates) {
  const std::vector<std::pair<const char*, ChatFormat>> cases = {
      {kLlama3Template, ChatFormat::kLlama3}, {kQwen25Template, ChatFormat::kQwen2},
      {kChatMLTemplate, ChatFormat::kChatML}, {kMistralTemplate, ChatFormat::kMistral},
      {kLlama2Template, ChatFormat::kLlama2}, {kGemma2Template, ChatFormat::kGemma},
      {kZephyrTemplate, ChatFormat::kZephyr},
  };
  for (const auto& [jinja, expected] : cases) {
    bool fell_back = true;
    EXPECT_EQ(detect_chat_format(jinja, &fell_back), expected) << chat_format_name(expected);
    EXPECT_FALSE(fell_back);
  }
}

TEST(ChatTemplateDetect, UnknownOrEmptyFallsBackToChatMLWithWarning) {
  for (const char* jinja : {kPhi3Template, "", "{{ messages }}"}) {
    bool fell_back = false;
    testing::internal::CaptureStderr();
    EXPECT_EQ(detect_chat_format(jinja, &fell_back), ChatFormat::kChatML);
    const std::string log = testing::internal::GetCapturedStderr();
    EXPECT_TRUE(fell_back);
    EXPECT_NE(log.find("ChatML"), std::string::npos) << log;
  }
  testing::internal::CaptureStderr();
  EXPECT_EQ(detect_chat_format(kPhi3Template), ChatFormat::kChatML);  // out-param is optional
  EXPECT_FALSE(testing::internal::GetCapturedStderr().empty());
}

TEST(ChatTemplateRender, Llama3) {
  EXPECT_EQ(render(ChatFormat::kLlama3, kConversation, true, "<|begin_of_text|>", "<|eot_id|>"),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  EXPECT_EQ(render(ChatFormat::kLlama3, {{"user", "x"}}, false, "<|begin_of_text|>", ""),
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nx<|eot_id|>");
  EXPECT_TRUE(template_adds_bos(ChatFormat::kLlama3));
}

TEST(ChatTemplateRender, ChatML) {
  EXPECT_EQ(render(ChatFormat::kChatML, kConversation, true, "", ""),
            "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi! <|im_end|>\n"
            "<|im_start|>assistant\n Hello. <|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
            "<|im_start|>assistant\n");
  EXPECT_EQ(render(ChatFormat::kChatML, {{"user", "x"}}, false, "", ""), "<|im_start|>user\nx<|im_end|>\n");
  EXPECT_FALSE(template_adds_bos(ChatFormat::kChatML));
}

TEST(ChatTemplateRender, Qwen2AddsDefaultSystemOnlyWhenMissing) {
  EXPECT_EQ(render(ChatFormat::kQwen2, kConversation, true, "", ""),
            render(ChatFormat::kChatML, kConversation, true, "", ""));
  EXPECT_EQ(render(ChatFormat::kQwen2, {{"user", "Hi! "}}, true, "", ""),
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\nHi! <|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatTemplateRender, Mistral) {
  const std::string expected = "<s>[INST] You are terse.\n\nHi!  [/INST] Hello. </s>[INST] What is 2+2? [/INST]";
  EXPECT_EQ(render(ChatFormat::kMistral, kConversation, true, "<s>", "</s>"), expected);
  // The prompt already ends in [/INST]: no separate generation prompt.
  EXPECT_EQ(render(ChatFormat::kMistral, kConversation, false, "<s>", "</s>"), expected);
  EXPECT_EQ(render(ChatFormat::kMistral, {{"user", "a"}, {"assistant", "b"}}, false, "<s>", "</s>"),
            "<s>[INST] a [/INST]b</s>");
}

TEST(ChatTemplateRender, Llama2) {
  EXPECT_EQ(render(ChatFormat::kLlama2, kConversation, true, "<s>", "</s>"),
            "<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi! [/INST] Hello. </s><s>[INST] What is 2+2? [/INST]");
  EXPECT_EQ(render(ChatFormat::kLlama2, {{"user", " q "}}, true, "<s>", "</s>"), "<s>[INST] q [/INST]");
}

TEST(ChatTemplateRender, Gemma) {
  EXPECT_EQ(render(ChatFormat::kGemma, kConversation, true, "<bos>", "<eos>"),
            "<bos><start_of_turn>user\nYou are terse.\n\nHi!<end_of_turn>\n"
            "<start_of_turn>model\nHello.<end_of_turn>\n"
            "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n"
            "<start_of_turn>model\n");
  EXPECT_EQ(render(ChatFormat::kGemma, {{"user", "x"}}, false, "<bos>", "<eos>"),
            "<bos><start_of_turn>user\nx<end_of_turn>\n");
}

TEST(ChatTemplateRender, Zephyr) {
  EXPECT_EQ(render(ChatFormat::kZephyr, kConversation, true, "<s>", "</s>"),
            "<|system|>\nYou are terse.</s>\n<|user|>\nHi! </s>\n<|assistant|>\n Hello. </s>\n"
            "<|user|>\nWhat is 2+2?</s>\n<|assistant|>\n");
}

TEST(ChatTemplateRender, ThreeMessageConversationPerFormat) {
  const std::vector<ChatMessage> messages = {{"system", "S"}, {"user", "U"}, {"assistant", "A"}};
  EXPECT_EQ(render(ChatFormat::kLlama3, messages, false, "<|begin_of_text|>", ""),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nA<|eot_id|>");
  EXPECT_EQ(render(ChatFormat::kMistral, messages, false, "<s>", "</s>"), "<s>[INST] S\n\nU [/INST]A</s>");
  EXPECT_EQ(render(ChatFormat::kLlama2, messages, false, "<s>", "</s>"),
            "<s>[INST] <<SYS>>\nS\n<</SYS>>\n\nU [/INST] A </s>");
  EXPECT_EQ(render(ChatFormat::kGemma, messages, false, "<bos>", ""),
            "<bos><start_of_turn>user\nS\n\nU<end_of_turn>\n<start_of_turn>model\nA<end_of_turn>\n");
}

TEST(ChatTemplateRender, WithoutSystemMatchesTemplatesThatRejectSystem) {
  const std::vector<ChatMessage> messages(kConversation.begin() + 1, kConversation.end());
  EXPECT_EQ(render(ChatFormat::kMistral, messages, true, "<s>", "</s>"),
            "<s>[INST] Hi!  [/INST] Hello. </s>[INST] What is 2+2? [/INST]");
  EXPECT_EQ(render(ChatFormat::kGemma, messages, true, "<bos>", "<eos>"),
            "<bos><start_of_turn>user\nHi!<end_of_turn>\n<start_of_turn>model\nHello.<end_of_turn>\n"
            "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n");
  EXPECT_EQ(render(ChatFormat::kLlama2, messages, true, "<s>", "</s>"),
            "<s>[INST] Hi! [/INST] Hello. </s><s>[INST] What is 2+2? [/INST]");
}

void expect_invalid(ChatFormat format, const std::vector<ChatMessage>& messages, const std::string& needle,
                    std::string_view bos = "<s>", std::string_view eos = "</s>") {
  Expected<std::string> result = apply_chat_template(format, messages, true, bos, eos);
  ASSERT_FALSE(result.has_value()) << chat_format_name(format);
  EXPECT_EQ(result.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.error().message().find(needle), std::string::npos) << result.error().message();
}

TEST(ChatTemplateRender, RejectsInvalidInput) {
  expect_invalid(ChatFormat::kChatML, {}, "empty");
  expect_invalid(ChatFormat::kLlama3, {{"tool", "x"}}, "unknown role 'tool'");
  expect_invalid(ChatFormat::kGemma, {{"user", "a"}, {"user", "b"}}, "alternate");
  expect_invalid(ChatFormat::kMistral, {{"assistant", "a"}}, "alternate");
  expect_invalid(ChatFormat::kLlama2, {{"user", "a"}, {"assistant", "b"}, {"system", "c"}}, "alternate");
  expect_invalid(ChatFormat::kLlama2, {{"system", "only"}}, "at least one user message");
  expect_invalid(ChatFormat::kLlama3, {{"user", "a"}}, "BOS", "", "");
  expect_invalid(ChatFormat::kZephyr, {{"user", "a"}}, "EOS", "", "");
}

TEST(ChatTemplateNames, AreDistinct) {
  EXPECT_EQ(chat_format_name(ChatFormat::kLlama3), "llama3");
  EXPECT_EQ(chat_format_name(ChatFormat::kGemma), "gemma");
  EXPECT_EQ(chat_format_name(ChatFormat::kZephyr), "zephyr");
}

}  // namespace
}  // namespace frugal

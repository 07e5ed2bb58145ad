// Chat templates: detects a model's chat format from its GGUF Jinja template and renders
// conversations into prompt text exactly as that official template does (tokenizer layer).
// Works on strings only; the result is tokenized with parse_special = true, its message content as
// plain text (render_chat_template's content_spans; see Tokenizer::encode).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"
#include "tokenizer/text_span.h"

namespace frugal {

struct ChatMessage {
  std::string role;  // "system" | "user" | "assistant" (| "ipython": Llama 3 tool results)
  std::string content;
};

enum class ChatFormat {
  kLlama3,   // <|start_header_id|>role<|end_header_id|>\n\n ... <|eot_id|>   (Llama 3 / 3.1 Instruct)
  kChatML,   // <|im_start|>role\n ... <|im_end|>\n                          (generic ChatML)
  kQwen2,    // ChatML plus Qwen2.5's default system message when none is given
  kMistral,  // <s>[INST] user [/INST]assistant</s>                        (Mistral-7B-Instruct v0.1/v0.2)
  kLlama2,   // <s>[INST] <<SYS>>\nsystem\n<</SYS>>\n\nuser [/INST] assistant </s>   (Llama-2-chat)
  kGemma,    // <start_of_turn>user\n ... <end_of_turn>\n, assistant role "model"  (Gemma / Gemma 2)
  kZephyr,   // <|user|>\n ... </s>\n                                      (Zephyr-7B-beta)
};

// "llama3", "chatml", "qwen2", "mistral", "llama2", "gemma", "zephyr".
std::string_view chat_format_name(ChatFormat format);

// Detects the format from a GGUF tokenizer.chat_template string by its distinctive markers.
// Unrecognised or empty -> kChatML with a log_warn saying so; *fell_back (optional) tells whether
// that happened.
ChatFormat detect_chat_format(std::string_view jinja_template, bool* fell_back = nullptr);

// True when the rendered text already starts with the BOS token text: the caller must then tokenize
// it WITHOUT adding another BOS (e.g. Llama 3 renders "<|begin_of_text|>" itself).
bool template_adds_bos(ChatFormat format);

// Renders `messages`. add_generation_prompt appends the assistant header (formats whose prompt
// already ends in "[/INST]" have none). bos_text/eos_text are the model's BOS/EOS token texts
// (e.g. "<|begin_of_text|>", "</s>"), required non-empty where the format uses them.
// Errors (kInvalidArgument): empty message list, an unknown role, roles that do not alternate
// user/assistant (after an optional leading system message) in formats that require it, a missing
// BOS/EOS text.
// Where the official template rejects a system message (Mistral, Gemma) it is merged into the first
// user message as "system\n\nuser" instead, as llama.cpp does.
Expected<std::string> apply_chat_template(ChatFormat format, const std::vector<ChatMessage>& messages,
                                          bool add_generation_prompt, std::string_view bos_text,
                                          std::string_view eos_text);

// The rendered prompt and where the messages' content lies in it: everything outside content_spans
// was written by the template (its markers are the only text that may become control tokens).
struct RenderedChat {
  std::string text;
  std::vector<TextSpan> content_spans;  // ascending, non-overlapping byte ranges of `text`
};

// apply_chat_template with the content spans (same text, same errors).
Expected<RenderedChat> render_chat_template(ChatFormat format, const std::vector<ChatMessage>& messages,
                                            bool add_generation_prompt, std::string_view bos_text,
                                            std::string_view eos_text);

}  // namespace frugal

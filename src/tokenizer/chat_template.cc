#include "tokenizer/chat_template.h"

#include <algorithm>
#include <string>

#include "core/logging.h"

namespace frugal {
namespace {

// Qwen2.5-Instruct's template inserts this system message when the conversation has none.
constexpr std::string_view kQwen2DefaultSystem = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

bool contains(std::string_view text, std::string_view needle) { return text.find(needle) != std::string_view::npos; }

// Jinja's `trim` filter / Python's str.strip() on the ASCII whitespace set.
std::string trim(std::string_view text) {
  constexpr std::string_view kWhitespace = " \t\n\r\f\v";
  const size_t begin = text.find_first_not_of(kWhitespace);
  if (begin == std::string_view::npos) return {};
  const size_t end = text.find_last_not_of(kWhitespace);
  return std::string(text.substr(begin, end - begin + 1));
}

bool is_known_role(const std::string& role) { return role == "system" || role == "user" || role == "assistant"; }

// The [INST]-style and Gemma templates take an optional leading system message, then strictly
// alternating user/assistant turns starting with a user turn.
struct AlternatingTurns {
  const std::string* system = nullptr;  // the leading system message's content, if any
  std::vector<const ChatMessage*> turns;
};

Expected<AlternatingTurns> split_alternating(ChatFormat format, const std::vector<ChatMessage>& messages) {
  AlternatingTurns result;
  size_t first_turn = 0;
  if (messages.front().role == "system") {
    result.system = &messages.front().content;
    first_turn = 1;
  }
  for (size_t message_idx = first_turn; message_idx < messages.size(); ++message_idx) {
    const std::string_view expected_role = (message_idx - first_turn) % 2 == 0 ? "user" : "assistant";
    if (messages[message_idx].role != expected_role) {
      return invalid_argument(std::string(chat_format_name(format)) + " chat format: message " +
                              std::to_string(message_idx) + " has role '" + messages[message_idx].role +
                              "' but roles must alternate user/assistant/... after an optional leading system message");
    }
    result.turns.push_back(&messages[message_idx]);
  }
  if (result.turns.empty()) {
    return invalid_argument(std::string(chat_format_name(format)) + " chat format: needs at least one user message");
  }
  return result;
}

// Appends template text and message content, remembering where each piece of content went.
class ChatWriter {
 public:
  explicit ChatWriter(std::string_view text = {}) { out_.text.append(text); }
  ChatWriter& text(std::string_view markup) {
    out_.text.append(markup);
    return *this;
  }
  ChatWriter& content(std::string_view content) {
    const size_t begin = out_.text.size();
    out_.text.append(content);
    if (!content.empty()) out_.content_spans.push_back({begin, out_.text.size()});
    return *this;
  }
  // `text` whose byte ranges `content` (relative to it, ascending) are message content.
  ChatWriter& mixed(std::string_view text, const std::vector<TextSpan>& content) {
    const size_t base = out_.text.size();
    out_.text.append(text);
    for (const TextSpan& span : content) {
      if (span.begin < span.end) out_.content_spans.push_back({base + span.begin, base + span.end});
    }
    return *this;
  }
  RenderedChat take() { return std::move(out_); }

 private:
  RenderedChat out_;
};

RenderedChat render_llama3(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                           std::string_view bos_text) {
  ChatWriter out(bos_text);
  for (const ChatMessage& message : messages) {
    out.text("<|start_header_id|>").text(message.role).text("<|end_header_id|>\n\n");
    out.content(trim(message.content)).text("<|eot_id|>");
  }
  if (add_generation_prompt) out.text("<|start_header_id|>assistant<|end_header_id|>\n\n");
  return out.take();
}

RenderedChat render_chatml(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                           std::string_view default_system) {
  ChatWriter out;
  if (!default_system.empty() && messages.front().role != "system") {
    out.text("<|im_start|>system\n").text(default_system).text("<|im_end|>\n");
  }
  for (const ChatMessage& message : messages) {
    out.text("<|im_start|>").text(message.role).text("\n").content(message.content).text("<|im_end|>\n");
  }
  if (add_generation_prompt) out.text("<|im_start|>assistant\n");
  return out.take();
}

// Mistral-7B-Instruct v0.2: "{bos}[INST] {user} [/INST]{assistant}{eos}[INST] ..." (no stripping).
RenderedChat render_mistral(const AlternatingTurns& chat, std::string_view bos_text, std::string_view eos_text) {
  ChatWriter out(bos_text);
  for (size_t turn_idx = 0; turn_idx < chat.turns.size(); ++turn_idx) {
    const std::string& content = chat.turns[turn_idx]->content;
    if (turn_idx % 2 == 1) {
      out.content(content).text(eos_text);
    } else if (turn_idx == 0 && chat.system != nullptr) {
      out.text("[INST] ").content(*chat.system).text("\n\n").content(content).text(" [/INST]");
    } else {
      out.text("[INST] ").content(content).text(" [/INST]");
    }
  }
  return out.take();
}

// Llama-2-chat: every user turn "{bos}[INST] {strip(c)} [/INST]", assistant " {strip(c)} {eos}", the
// system block inside the first user turn (stripped as one text with it, as the template does).
RenderedChat render_llama2(const AlternatingTurns& chat, std::string_view bos_text, std::string_view eos_text) {
  ChatWriter out;
  for (size_t turn_idx = 0; turn_idx < chat.turns.size(); ++turn_idx) {
    const std::string content = trim(chat.turns[turn_idx]->content);
    if (turn_idx % 2 == 1) {
      out.text(" ").content(content).text(" ").text(eos_text);
    } else if (turn_idx == 0 && chat.system != nullptr) {
      // The template strips "<<SYS>>\n{system}\n<</SYS>>\n\n{content}" as one text: only its end moves.
      constexpr std::string_view kOpen = "<<SYS>>\n";
      constexpr std::string_view kClose = "\n<</SYS>>\n\n";
      const std::string& system = *chat.system;
      const std::string block =
          trim(std::string(kOpen) + system + std::string(kClose) + chat.turns[turn_idx]->content);
      const size_t system_begin = kOpen.size();
      const size_t content_begin = system_begin + system.size() + kClose.size();
      out.text(bos_text).text("[INST] ");
      out.mixed(block, {{system_begin, std::min(block.size(), system_begin + system.size())},
                        {std::min(block.size(), content_begin), block.size()}});
      out.text(" [/INST]");
    } else {
      out.text(bos_text).text("[INST] ").content(content).text(" [/INST]");
    }
  }
  return out.take();
}

// Gemma / Gemma 2: "{bos}<start_of_turn>{user|model}\n{trim(c)}<end_of_turn>\n".
RenderedChat render_gemma(const AlternatingTurns& chat, bool add_generation_prompt, std::string_view bos_text) {
  ChatWriter out(bos_text);
  for (size_t turn_idx = 0; turn_idx < chat.turns.size(); ++turn_idx) {
    out.text("<start_of_turn>").text(turn_idx % 2 == 0 ? "user" : "model").text("\n");
    if (turn_idx == 0 && chat.system != nullptr) out.content(trim(*chat.system)).text("\n\n");
    out.content(trim(chat.turns[turn_idx]->content)).text("<end_of_turn>\n");
  }
  if (add_generation_prompt) out.text("<start_of_turn>model\n");
  return out.take();
}

// Zephyr: "<|{role}|>\n{content}{eos}\n" per message; the prompt is "<|assistant|>\n".
RenderedChat render_zephyr(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                           std::string_view eos_text) {
  ChatWriter out;
  for (const ChatMessage& message : messages) {
    out.text("<|").text(message.role).text("|>\n").content(message.content).text(eos_text).text("\n");
  }
  if (add_generation_prompt) out.text("<|assistant|>\n");
  return out.take();
}

bool format_uses_eos(ChatFormat format) {
  return format == ChatFormat::kMistral || format == ChatFormat::kLlama2 || format == ChatFormat::kZephyr;
}

Status check_inputs(ChatFormat format, const std::vector<ChatMessage>& messages, std::string_view bos_text,
                    std::string_view eos_text) {
  if (messages.empty()) return invalid_argument("chat template: the message list is empty");
  for (size_t message_idx = 0; message_idx < messages.size(); ++message_idx) {
    // Llama 3.1 renders tool results as "ipython" turns.
    const bool llama_tool_result = format == ChatFormat::kLlama3 && messages[message_idx].role == "ipython";
    if (!is_known_role(messages[message_idx].role) && !llama_tool_result) {
      return invalid_argument("chat template: message " + std::to_string(message_idx) + " has unknown role '" +
                              messages[message_idx].role + "' (expected system, user or assistant)");
    }
  }
  if (template_adds_bos(format) && bos_text.empty()) {
    return invalid_argument(std::string(chat_format_name(format)) + " chat format needs the BOS token text");
  }
  if (format_uses_eos(format) && eos_text.empty()) {
    return invalid_argument(std::string(chat_format_name(format)) + " chat format needs the EOS token text");
  }
  return Status::ok();
}

}  // namespace

std::string_view chat_format_name(ChatFormat format) {
  switch (format) {
    case ChatFormat::kLlama3: return "llama3";
    case ChatFormat::kChatML: return "chatml";
    case ChatFormat::kQwen2: return "qwen2";
    case ChatFormat::kMistral: return "mistral";
    case ChatFormat::kLlama2: return "llama2";
    case ChatFormat::kGemma: return "gemma";
    case ChatFormat::kZephyr: return "zephyr";
  }
  return "unknown";
}

ChatFormat detect_chat_format(std::string_view jinja_template, bool* fell_back) {
  if (fell_back != nullptr) *fell_back = false;
  const std::string_view t = jinja_template;
  // Most specific markers first: Llama 2's template also contains "[INST]".
  if (contains(t, "<|start_header_id|>") && contains(t, "<|eot_id|>")) return ChatFormat::kLlama3;
  if (contains(t, "<|im_start|>")) {
    return contains(t, "You are Qwen, created by Alibaba Cloud") ? ChatFormat::kQwen2 : ChatFormat::kChatML;
  }
  if (contains(t, "<start_of_turn>")) return ChatFormat::kGemma;
  if (contains(t, "<<SYS>>") && contains(t, "[INST]")) return ChatFormat::kLlama2;
  if (contains(t, "[INST]")) return ChatFormat::kMistral;
  // Phi-3 also uses <|user|> but ends turns with <|end|> rather than the EOS token.
  if (contains(t, "<|user|>") && contains(t, "<|assistant|>") && contains(t, "eos_token") && !contains(t, "<|end|>")) {
    return ChatFormat::kZephyr;
  }
  log_warn(t.empty() ? "model has no chat template; falling back to ChatML"
                     : "unrecognised chat template; falling back to ChatML");
  if (fell_back != nullptr) *fell_back = true;
  return ChatFormat::kChatML;
}

bool template_adds_bos(ChatFormat format) {
  switch (format) {
    case ChatFormat::kLlama3:
    case ChatFormat::kMistral:
    case ChatFormat::kLlama2:
    case ChatFormat::kGemma:
      return true;
    case ChatFormat::kChatML:
    case ChatFormat::kQwen2:
    case ChatFormat::kZephyr:
      return false;
  }
  return false;
}

Expected<std::string> apply_chat_template(ChatFormat format, const std::vector<ChatMessage>& messages,
                                          bool add_generation_prompt, std::string_view bos_text,
                                          std::string_view eos_text) {
  auto rendered = render_chat_template(format, messages, add_generation_prompt, bos_text, eos_text);
  if (!rendered) return rendered.error();
  return std::move(rendered->text);
}

Expected<RenderedChat> render_chat_template(ChatFormat format, const std::vector<ChatMessage>& messages,
                                            bool add_generation_prompt, std::string_view bos_text,
                                            std::string_view eos_text) {
  if (Status status = check_inputs(format, messages, bos_text, eos_text); !status.is_ok()) return status;
  switch (format) {
    case ChatFormat::kLlama3: return render_llama3(messages, add_generation_prompt, bos_text);
    case ChatFormat::kChatML: return render_chatml(messages, add_generation_prompt, {});
    case ChatFormat::kQwen2: return render_chatml(messages, add_generation_prompt, kQwen2DefaultSystem);
    case ChatFormat::kZephyr: return render_zephyr(messages, add_generation_prompt, eos_text);
    case ChatFormat::kMistral:
    case ChatFormat::kLlama2:
    case ChatFormat::kGemma: break;
  }
  Expected<AlternatingTurns> chat = split_alternating(format, messages);
  if (!chat) return chat.error();
  if (format == ChatFormat::kMistral) return render_mistral(*chat, bos_text, eos_text);
  if (format == ChatFormat::kLlama2) return render_llama2(*chat, bos_text, eos_text);
  return render_gemma(*chat, add_generation_prompt, bos_text);
}

}  // namespace frugal

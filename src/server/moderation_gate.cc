#include "server/moderation_gate.h"

#include "core/logging.h"
#include "tokenizer/utf8.h"

namespace frugal {

std::vector<std::string> moderation_texts(const ApiRequest& request, const Tokenizer* tokenizer) {
  std::vector<std::string> texts;
  if (request.endpoint == ApiEndpoint::kCompletions) {
    for (const PromptInput& prompt : request.prompts) {
      if (!prompt.is_tokens) {
        texts.push_back(prompt.text);
      } else if (tokenizer != nullptr) {
        // Token ids may split a character (byte tokens): the model reads tokens, not text, so such a
        // prompt is not "unreadable" — its broken sequences become U+FFFD and the rest is checked.
        texts.push_back(utf8::sanitize(tokenizer->decode(prompt.tokens, /*remove_special=*/true, /*unparse_special=*/false)));
      }
    }
    return texts;
  }
  for (size_t message_idx = 0; message_idx < request.messages.size(); ++message_idx) {
    texts.push_back(request.messages[message_idx].content);
    if (message_idx < request.message_tools.size()) {
      for (const ToolCall& call : request.message_tools[message_idx].tool_calls) texts.push_back(call.arguments);
    }
  }
  return texts;
}

ApiError content_policy_error(const trust::ModerationVerdict& verdict, std::string param, bool held) {
  ApiError error;
  error.http_status = 400;
  error.type = "invalid_request_error";
  error.param = std::move(param);
  error.category = verdict.category;
  if (held) {
    error.code = kContentPolicyReviewRequired;
    error.message = "This request needs human review under the server's content policy (category '" +
                    verdict.category + "'), and it cannot be held for a reviewer here; it was not processed.";
  } else {
    error.code = kContentPolicyViolation;
    error.message = "This request was rejected by the server's content policy (category '" + verdict.category +
                    "'); it was not processed.";
  }
  return error;
}

std::optional<ApiError> moderate_llm_request(const trust::Moderator& moderator, const ApiRequest& request,
                                             const Tokenizer* tokenizer, std::string_view route) {
  const std::vector<std::string> texts = moderation_texts(request, tokenizer);
  const std::vector<std::string_view> views(texts.begin(), texts.end());
  const trust::ModerationVerdict verdict = moderator.check(views, route);
  if (verdict.action == trust::ModerationAction::kAllow) return std::nullopt;
  log_info("moderation: " + std::string(trust::moderation_action_name(verdict.action)) + " " + std::string(route) +
           " request, category " + verdict.category + ", matched " + nlohmann::json(verdict.matched_term).dump() +
           " (" + verdict.source + ")");
  const std::string param = request.endpoint == ApiEndpoint::kCompletions ? "prompt" : "messages";
  return content_policy_error(verdict, param, verdict.held());
}

}  // namespace frugal

#include "server/request_builder.h"

#include <unordered_set>

#include "server/tool_prompt.h"

namespace frugal {
namespace {

std::optional<InvalidField> check_prompt(const std::vector<int32_t>& tokens, const PromptModel& model,
                                         const std::string& param) {
  if (tokens.empty()) return InvalidField{param, "the prompt is empty"};
  const int32_t n_vocab = model.tokenizer->n_vocab();
  for (const int32_t token : tokens) {
    if (token < 0 || token >= n_vocab) {
      return InvalidField{param, "token id " + std::to_string(token) + " is outside the vocabulary [0, " +
                                     std::to_string(n_vocab) + ")"};
    }
  }
  // The engine needs room for at least one generated token.
  if (model.max_context > 0 && static_cast<int64_t>(tokens.size()) + 1 > model.max_context) {
    return InvalidField{param, "the prompt has " + std::to_string(tokens.size()) +
                                   " tokens, but this model's context holds " + std::to_string(model.max_context) +
                                   " tokens (prompt plus at least one generated token)"};
  }
  return std::nullopt;
}

std::optional<InvalidField> render_chat(const ApiRequest& request, const PromptModel& model,
                                        std::vector<int32_t>& tokens) {
  const Tokenizer& tok = *model.tokenizer;
  const std::string bos = tok.bos_id() >= 0 ? tok.token_text(tok.bos_id()) : "";
  const std::string eos = tok.eos_id() >= 0 ? tok.token_text(tok.eos_id()) : "";
  std::vector<ChatMessage> with_tools;
  if (needs_tool_rendering(request)) {
    auto messages = render_tool_conversation(tool_syntax_for(model.chat_format), model.chat_format, request);
    if (!messages) return InvalidField{"messages", messages.error().message()};
    with_tools = std::move(*messages);
  }
  auto rendered = render_chat_template(model.chat_format, with_tools.empty() ? request.messages : with_tools,
                                       /*add_generation_prompt=*/true, bos, eos);
  if (!rendered) return InvalidField{"messages", rendered.error().message()};
  // Formats that write the BOS text themselves must not get a second BOS from the tokenizer. Only
  // the template's text may hold control tokens: content is plain text unless the operator allows it.
  const std::vector<TextSpan> no_spans;
  tokens = tok.encode(rendered->text, /*add_special=*/!template_adds_bos(model.chat_format), /*parse_special=*/true,
                      model.allow_special_in_content ? no_spans : rendered->content_spans);
  return check_prompt(tokens, model, "messages");
}

std::optional<InvalidField> check_logit_bias(const SamplingParams& sampling, int32_t n_vocab) {
  std::unordered_set<int32_t> banned;
  for (const auto& [token, bias] : sampling.logit_bias) {
    if (token >= n_vocab) {
      return InvalidField{"logit_bias", "logit_bias token id " + std::to_string(token) +
                                            " is outside the vocabulary [0, " + std::to_string(n_vocab) + ")"};
    }
    if (bias <= -kMaxLogitBias) banned.insert(token);
  }
  if (static_cast<int32_t>(banned.size()) >= n_vocab) {
    return InvalidField{"logit_bias", "logit_bias bans every token of the vocabulary: nothing could be generated"};
  }
  return std::nullopt;
}

// The structured-output grammar of the request: a tool call (tool_choice required / a function:
// from the first token; auto: once the output starts a call), else response_format's.
std::optional<InvalidField> choose_grammar(const ApiRequest& request, const PromptModel& model,
                                           std::shared_ptr<const Grammar>& grammar, std::string& trigger) {
  const StructuredRequest& s = request.structured;
  if (s.uses_tools()) {
    const ToolSyntax syntax = tool_syntax_for(model.chat_format);
    auto built = tool_call_grammar(syntax, s.tools, s.tool_choice == ToolChoiceKind::kFunction ? s.tool_choice_name : "");
    if (!built) return InvalidField{"tools", built.error().message()};
    grammar = *built;
    trigger = s.tool_choice == ToolChoiceKind::kAuto ? tool_call_trigger(syntax) : "";
    return std::nullopt;
  }
  if (s.format != ResponseFormatKind::kText) grammar = s.format_grammar;
  return std::nullopt;
}

}  // namespace

std::optional<InvalidField> tokenize_prompts(const ApiRequest& request, const PromptModel& model,
                                             std::vector<std::vector<int32_t>>& prompts) {
  prompts.clear();
  if (request.endpoint == ApiEndpoint::kChatCompletions) {
    prompts.emplace_back();
    return render_chat(request, model, prompts.back());
  }
  for (size_t prompt_idx = 0; prompt_idx < request.prompts.size(); ++prompt_idx) {
    const PromptInput& input = request.prompts[prompt_idx];
    // User text is plain text: special-token texts in it are not parsed (no prompt injection of
    // control tokens); token-id prompts are taken as given.
    prompts.push_back(input.is_tokens ? input.tokens
                                      : model.tokenizer->encode(input.text, /*add_special=*/true, /*parse_special=*/false));
    const std::string param = request.prompts.size() == 1 ? "prompt" : "prompt[" + std::to_string(prompt_idx) + "]";
    if (auto e = check_prompt(prompts.back(), model, param)) return e;
  }
  return std::nullopt;
}

std::optional<InvalidField> build_engine_requests(const ApiRequest& request, const PromptModel& model,
                                                  const std::vector<std::vector<int32_t>>& prompts,
                                                  std::vector<EngineRequest>& out) {
  const bool chat = request.endpoint == ApiEndpoint::kChatCompletions;
  const int64_t max_tokens = request.max_tokens.value_or(chat ? -1 : kDefaultCompletionMaxTokens);
  if (model.max_context > 0 && max_tokens > model.max_context) {
    return InvalidField{"max_tokens", "'max_tokens' is " + std::to_string(max_tokens) +
                                          ", beyond this model's context of " + std::to_string(model.max_context) +
                                          " tokens"};
  }
  const Status sampling_status = request.sampling.validate();
  if (!sampling_status.is_ok()) return InvalidField{"", sampling_status.message()};
  if (auto e = check_logit_bias(request.sampling, model.tokenizer->n_vocab())) return e;
  std::shared_ptr<const Grammar> grammar;
  std::string trigger;
  if (auto e = choose_grammar(request, model, grammar, trigger)) return e;
  out.clear();
  for (const std::vector<int32_t>& prompt : prompts) {
    for (int32_t choice_idx = 0; choice_idx < request.n; ++choice_idx) {
      EngineRequest engine_request;
      engine_request.prompt = prompt;
      engine_request.sampling = request.sampling;
      if (request.seed_given && choice_idx > 0) {
        engine_request.sampling.seed = request.sampling.seed + static_cast<uint64_t>(choice_idx);
        if (engine_request.sampling.seed == kRandomSeed) engine_request.sampling.seed = 0;
      }
      engine_request.max_tokens = max_tokens;
      engine_request.stop = request.stop;
      engine_request.ignore_eos = request.ignore_eos;
      engine_request.priority = request.priority;
      engine_request.allow_speculation = request.speculation;
      engine_request.top_logprobs = request.top_logprobs;
      engine_request.grammar = grammar;
      engine_request.grammar_trigger = trigger;
      out.push_back(std::move(engine_request));
    }
  }
  return std::nullopt;
}

}  // namespace frugal

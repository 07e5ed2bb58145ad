#include "server/openai_routes.h"

#include <string_view>

#include "server/error_mapping.h"
#include "server/request_builder.h"
#include "tokenizer/utf8.h"

namespace frugal {
namespace {

using json = nlohmann::json;

// How long one wait for engine events may block before the deadline is checked again.
constexpr std::chrono::milliseconds kCollectPoll{100};

bool is_valid_utf8(std::string_view text) {
  while (!text.empty()) {
    const utf8::SeqScan scan = utf8::scan(text);
    if (scan.kind != utf8::SeqKind::kValid) return false;
    text.remove_prefix(scan.length);
  }
  return true;
}

ApiReply invalid_field_reply(const InvalidField& field) {
  return error_reply(invalid_field_error(field.param, field.message));
}

// Waits for every choice and builds the full response (or the first error).
ApiReply collect_response(const ApiContext& context, RequestGroup& group, const ApiRequest& request,
                          SteadyClock::time_point deadline) {
  std::vector<ChoiceResult> choices(group.size());
  UsageTotals usage(request.endpoint == ApiEndpoint::kCompletions ? request.prompts.size() : 1, request.n);
  while (!group.all_finished()) {
    if (SteadyClock::now() >= deadline) {
      group.cancel_all();
      return error_reply(request_timeout_error(std::chrono::duration<double>(context.request_timeout).count()));
    }
    std::optional<ChoiceEvent> event = group.next(kCollectPoll);
    if (!event) continue;
    ChoiceResult& choice = choices[static_cast<size_t>(event->choice_idx)];
    GenerationEvent& e = event->event;
    if (e.kind == GenerationEvent::Kind::kText) {
      choice.text += e.text;
      for (TokenLogprobs& lp : e.logprobs) choice.logprobs.push_back(std::move(lp));
    } else if (e.kind == GenerationEvent::Kind::kFinished) {
      choice.finish = e.finish;
      usage.add(event->choice_idx, e.usage);
    } else {
      group.cancel_all();
      return error_reply(api_error_from_status(e.error));
    }
  }
  const ResponseHeader header = make_response_header(request.endpoint, context.model_name);
  ApiReply reply;
  reply.body = dump_json(full_response_json(header, *context.tokenizer, choices, request.top_logprobs >= 0,
                                            usage.total()));
  return reply;
}

// Parses and checks the body into engine requests; an error reply when anything is wrong.
std::optional<ApiReply> prepare(const ApiContext& context, ApiEndpoint endpoint, const std::string& body,
                                ApiRequest& request, std::vector<EngineRequest>& engine_requests) {
  if (!is_valid_utf8(body)) return invalid_field_reply({"", "the request body is not valid UTF-8"});
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return invalid_field_reply({"", "the request body is not valid JSON"});
  if (auto e = parse_api_request(endpoint, parsed, request)) return invalid_field_reply(*e);
  if (!request.model.empty() && request.model != context.model_name) {
    return error_reply(unknown_model_error(request.model));
  }
  PromptModel model{context.tokenizer, context.chat_format, context.engine->snapshot().max_context};
  std::vector<std::vector<int32_t>> prompts;
  if (auto e = tokenize_prompts(request, model, prompts)) return invalid_field_reply(*e);
  if (auto e = build_engine_requests(request, model, prompts, engine_requests)) return invalid_field_reply(*e);
  return std::nullopt;
}

}  // namespace

ApiReply error_reply(const ApiError& error) {
  ApiReply reply;
  reply.http_status = error.http_status;
  reply.body = api_error_body(error);
  reply.retry_after_seconds = error.retry_after_seconds;
  return reply;
}

ApiReply handle_api_request(const ApiContext& context, ApiEndpoint endpoint, const std::string& body,
                            SteadyClock::time_point arrival) {
  ApiRequest request;
  std::vector<EngineRequest> engine_requests;
  if (std::optional<ApiReply> rejected = prepare(context, endpoint, body, request, engine_requests)) {
    if (context.metrics != nullptr) context.metrics->requests->with({kOutcomeRejected}).inc();
    return *rejected;
  }
  auto group = RequestGroup::submit(*context.engine, std::move(engine_requests), context.metrics, arrival);
  if (!group) return error_reply(api_error_from_status(group.error()));
  const SteadyClock::time_point deadline =
      context.request_timeout.count() > 0 ? arrival + context.request_timeout : SteadyClock::time_point::max();
  if (!request.stream) return collect_response(context, **group, request, deadline);

  StreamOptions options;
  options.include_usage = request.include_usage;
  options.logprobs = request.top_logprobs >= 0;
  options.n = request.n;
  options.num_prompts = endpoint == ApiEndpoint::kCompletions ? request.prompts.size() : 1;
  options.deadline = deadline;
  options.timeout = context.request_timeout;
  ApiReply reply;
  reply.stream = std::make_shared<StreamSession>(std::move(*group), make_response_header(endpoint, context.model_name),
                                                 *context.tokenizer, options);
  return reply;
}

std::string model_json(const std::string& model_name, int64_t created) {
  return dump_json(json{{"id", model_name}, {"object", "model"}, {"created", created}, {"owned_by", "frugal"}});
}

std::string models_list_json(const std::string& model_name, int64_t created) {
  return dump_json(json{{"object", "list"},
                        {"data", json::array({json::parse(model_json(model_name, created))})}});
}

}  // namespace frugal

#include "server/openai_routes.h"

#include <algorithm>
#include <string_view>

#include "core/logging.h"
#include "server/error_mapping.h"
#include "server/model_defaults.h"
#include "server/moderation_gate.h"
#include "server/openai_response.h"
#include "server/request_builder.h"
#include "server/route_request.h"
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

double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

ApiReply invalid_field_reply(const InvalidField& field) {
  return error_reply(invalid_field_error(field.param, field.message));
}

// A parsed, validated request and where it goes.
struct Prepared {
  json body;
  ApiRequest request;
  RouteTarget target;
};

// Waits for every choice and builds the full response (or the first error).
ApiReply collect_response(const ApiContext& context, RequestGroup& group, const Prepared& prepared,
                          SteadyClock::time_point arrival, SteadyClock::time_point deadline,
                          const ClientLink* client) {
  const ApiRequest& request = prepared.request;
  std::vector<ChoiceResult> choices(group.size());
  UsageTotals usage(request.endpoint == ApiEndpoint::kCompletions ? request.prompts.size() : 1, request.n);
  while (!group.all_finished()) {
    if (client != nullptr && client->gone()) {
      // The engine requests were cancelled when the client hung up (run_local's hook); nobody reads this.
      group.cancel_all();
      return error_reply(api_error_from_status(Status(StatusCode::kCancelled, "the client closed the connection")));
    }
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
  if (request.structured.uses_tools()) {
    const ToolSyntax syntax = tool_syntax_for(prepared.target.model->chat_format);
    for (ChoiceResult& choice : choices) choice.tool_calls = parse_tool_calls(syntax, choice.text, request.structured.tools);
  }
  const Usage total = usage.total();
  context.router->record_finished(prepared.target, total, seconds_since(arrival));
  const ResponseHeader header = make_response_header(request.endpoint, prepared.target.model->name);
  ApiReply reply;
  json body = full_response_json(header, *prepared.target.model->tokenizer, choices, request.top_logprobs >= 0, total);
  if (!context.router->price_source().empty()) body["usage"]["price_source"] = context.router->price_source();
  reply.body = dump_json(body);
  reply.cost_usd = total.cost_usd;
  return reply;
}

// A routing failure: an unknown model or route (404), or a cost cap no tier meets (400).
ApiReply route_error_reply(const Status& status, const std::string& model, const ModelRouter& router) {
  if (status.code() == StatusCode::kNotFound) {
    ApiError error = unknown_model_error(model);
    if (router.models().empty()) error.message = status.message();  // says that only video is served
    return error_reply(error);
  }
  ApiError error = invalid_field_error("max_usd_per_million_tokens", status.message());
  error.code = "route_cost_cap_unmet";
  return error_reply(error);
}

// Parses and checks the body, and resolves its model or route; an error reply when anything is wrong.
std::optional<ApiReply> prepare(const ApiContext& context, ApiEndpoint endpoint, const std::string& body,
                                Prepared& out) {
  if (!is_valid_utf8(body)) return invalid_field_reply({"", "the request body is not valid UTF-8"});
  out.body = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (out.body.is_discarded()) return invalid_field_reply({"", "the request body is not valid JSON"});
  // Schemas keep the client's property order: they are read from an order-preserving parse.
  nlohmann::ordered_json ordered;
  if (out.body.is_object() && (out.body.contains("response_format") || out.body.contains("tools"))) {
    ordered = nlohmann::ordered_json::parse(body, nullptr, /*allow_exceptions=*/false);
  }
  if (auto e = parse_api_request(endpoint, out.body, out.request, ordered.is_object() ? &ordered : nullptr)) {
    return invalid_field_reply(*e);
  }
  if (!out.request.user.empty()) log_info("request from user " + nlohmann::json(out.request.user).dump());
  if (context.user_requests != nullptr) {
    const std::string& user = out.request.user;
    const bool listed = std::find(context.metrics_users.begin(), context.metrics_users.end(), user) !=
                        context.metrics_users.end();
    context.user_requests->with({user.empty() ? "none" : listed ? user : "other"}).inc();
  }
  ParsedRouteNeeds route_needs;
  if (auto e = parse_route_needs(out.body, route_needs)) return invalid_field_reply(*e);
  if (!route_needs.difficulty_hinted) route_needs.needs.difficulty = estimate_difficulty(out.request);
  auto target = context.router->resolve(out.request.model, route_needs.needs);
  if (!target) return route_error_reply(target.error(), out.request.model, *context.router);
  out.target = std::move(*target);
  if (const ServedModel* model = out.target.model) {
    apply_model_defaults(out.body, model->sampling_defaults, model->engine->snapshot().max_context, out.request);
  }
  return std::nullopt;
}

// The request goes to the overflow endpoint: its answer, priced, with the route header.
ApiReply forward_overflow(const ApiContext& context, ApiEndpoint endpoint, Prepared& prepared) {
  const ModelRouter& router = *context.router;
  const RouteTarget target = prepared.target;
  const auto arrival = SteadyClock::now();
  auto cost_usd = std::make_shared<std::optional<double>>();  // a stream reports after this returns
  OverflowReply upstream =
      router.overflow()->forward(endpoint, std::move(prepared.body), [&router, target, arrival, cost_usd](const Usage& u) {
        router.record_finished(target, u, seconds_since(arrival));
        *cost_usd = u.cost_usd;
      });
  ApiReply reply;
  reply.http_status = upstream.http_status;
  reply.body = std::move(upstream.body);
  reply.stream = std::move(upstream.stream);
  if (!reply.stream) reply.cost_usd = *cost_usd;
  return reply;
}

// The request runs on the chosen local model: a full response or a stream.
ApiReply run_local(const ApiContext& context, ApiEndpoint endpoint, const Prepared& prepared,
                   SteadyClock::time_point arrival, ClientLink* client) {
  const ApiRequest& request = prepared.request;
  const ServedModel& model = *prepared.target.model;
  PromptModel prompt_model{model.tokenizer, model.chat_format, model.engine->snapshot().max_context,
                           context.allow_special_in_content};
  std::vector<std::vector<int32_t>> prompts;
  std::vector<EngineRequest> engine_requests;
  if (auto e = tokenize_prompts(request, prompt_model, prompts)) return invalid_field_reply(*e);
  if (auto e = build_engine_requests(request, prompt_model, prompts, engine_requests)) return invalid_field_reply(*e);
  auto group = RequestGroup::submit(*model.engine, std::move(engine_requests), context.metrics, arrival);
  if (!group) return error_reply(api_error_from_status(group.error()));
  context.router->count_route(prepared.target);
  // A hang-up cancels the engine requests at once (freed at the engine's next step), streaming or not.
  if (client != nullptr) client->on_hangup((*group)->canceller());
  const SteadyClock::time_point deadline =
      context.request_timeout.count() > 0 ? arrival + context.request_timeout : SteadyClock::time_point::max();
  if (!request.stream) return collect_response(context, **group, prepared, arrival, deadline, client);

  StreamOptions options;
  options.include_usage = request.include_usage;
  options.logprobs = request.top_logprobs >= 0;
  options.n = request.n;
  options.num_prompts = endpoint == ApiEndpoint::kCompletions ? request.prompts.size() : 1;
  options.deadline = deadline;
  options.timeout = context.request_timeout;
  if (request.structured.uses_tools()) {
    options.tools = ToolStreamOptions{tool_syntax_for(model.chat_format), request.structured.tools,
                                      request.structured.tool_choice != ToolChoiceKind::kAuto};
  }
  options.on_finished = [router = context.router, target = prepared.target, arrival](const Usage& usage) {
    router->record_finished(target, usage, seconds_since(arrival));
  };
  ApiReply reply;
  reply.stream = std::make_shared<SessionReplyStream>(std::make_shared<StreamSession>(
      std::move(*group), make_response_header(endpoint, model.name), *model.tokenizer, options));
  return reply;
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
                            SteadyClock::time_point arrival, ClientLink* client) {
  Prepared prepared;
  if (std::optional<ApiReply> rejected = prepare(context, endpoint, body, prepared)) {
    if (context.metrics != nullptr) context.metrics->requests->with({kOutcomeRejected}).inc();
    return *rejected;
  }
  // Before anything reaches a model, local or overflow (a blocked prompt is never tokenized for one).
  if (context.moderator != nullptr) {
    const Tokenizer* tokenizer = prepared.target.model != nullptr ? prepared.target.model->tokenizer : nullptr;
    const char* route = endpoint == ApiEndpoint::kCompletions ? "completions" : "chat_completions";
    if (std::optional<ApiError> refused = moderate_llm_request(*context.moderator, prepared.request, tokenizer, route)) {
      if (context.metrics != nullptr) context.metrics->requests->with({kOutcomeRejected}).inc();
      return error_reply(*refused);
    }
  }
  ApiReply reply;
  if (prepared.target.is_overflow()) {
    context.router->count_route(prepared.target);
    reply = forward_overflow(context, endpoint, prepared);
  } else {
    reply = run_local(context, endpoint, prepared, arrival, client);
  }
  reply.headers.emplace_back(ModelRouter::kHeaderName, ModelRouter::header_value(prepared.target));
  if (!context.router->price_source().empty()) {
    reply.headers.emplace_back("X-Frugal-Price-Source", context.router->price_source());
  }
  return reply;
}

std::string model_json(const std::string& id, int64_t created, const char* owned_by) {
  return dump_json(json{{"id", id}, {"object", "model"}, {"created", created}, {"owned_by", owned_by}});
}

std::string video_model_json(const std::string& id, int64_t created) {
  json entry = json::parse(model_json(id, created));
  entry["frugal_modality"] = "video";  // served by /v1/videos, not the chat/completions routes
  return dump_json(entry);
}

std::string models_list_json(const ModelRouter& router, const std::vector<std::string>& video_models, int64_t created) {
  json data = json::array();
  for (const ServedModel& model : router.models()) {
    json entry = json::parse(model_json(model.name, created));
    // What load generators and clients need to build valid prompts (frugal extensions).
    entry["frugal_vocab_size"] = model.tokenizer->n_vocab();
    entry["frugal_context_length"] = model.engine->snapshot().max_context;
    data.push_back(std::move(entry));
  }
  for (const std::string& name : video_models) data.push_back(json::parse(video_model_json(name, created)));
  for (const RouteSpec& route : router.routes()) {
    // One model and no overflow: "auto" is that model, so the list stays the one model clients expect.
    if (route.name == kAutoRoute && router.models().size() == 1 && router.overflow() == nullptr) continue;
    json entry = json::parse(model_json(route.name, created, "frugal-router"));
    entry["frugal_route_tiers"] = route.tiers;
    data.push_back(std::move(entry));
  }
  return dump_json(json{{"object", "list"}, {"data", data}});
}

}  // namespace frugal

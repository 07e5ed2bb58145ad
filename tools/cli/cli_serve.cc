// `frugal serve`: the OpenAI-compatible HTTP server over the continuous-batching engine, with
// Prometheus metrics, optional API keys, graceful shutdown on SIGINT/SIGTERM, the live cost
// meter (--hardware / --price-per-hour: every response's usage carries cost_usd), several models
// (--model NAME=PATH, repeated) with cost-aware routing ("auto", --route) and an overflow route to
// an external OpenAI-compatible endpoint (--overflow-*), and text-to-video as durable jobs behind
// the OpenAI Videos API (--video-model DIR, repeated; see serve_video.h), prompt moderation
// (--moderation-policy, --guard-model; see serve_moderation.h).
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli_common.h"
#include "cost/catalogue.h"
#include "cost/machine_price.h"
#include "engine/llm_engine.h"
#include "metrics/metrics.h"
#include "server/http_server.h"
#include "server/model_set.h"
#include "server/overflow_client.h"
#include "serve_audit.h"
#include "serve_moderation.h"
#include "serve_models.h"
#include "serve_video.h"

namespace frugal::cli {
namespace {

struct ServeArgs {
  std::vector<std::string> model_values;  // -m PATH, or --model NAME=PATH repeated
  std::vector<std::string> route_values;  // --route NAME=TIER[,TIER...]
  std::string host = "127.0.0.1";
  int port = 8080;
  ServeEngineFlags engine;
  std::string api_key_file;
  std::string access_log;  // --access-log FILE: one JSON line per request
  std::string model_name;
  size_t max_body_bytes = 1 << 20;
  double request_timeout_s = 600.0;
  double drain_timeout_s = 30.0;
  int http_threads = 0;
  double header_timeout_s = 10.0;
  double body_timeout_s = 30.0;
  double idle_timeout_s = 5.0;
  size_t max_connections = 2048;
  size_t max_connections_per_address = 256;
  bool allow_special_in_content = false;
  std::vector<std::string> metrics_users;   // --metrics-user: per-user request counters for these
  std::string hardware;                      // catalogue name: price = midpoint of its cloud range
  std::vector<std::string> catalogue_files;  // merged into the built-in catalogue
  double price_per_hour = 0;                 // USD; overrides --hardware
  bool price_given = false;
  OverflowOptions overflow;                  // used when overflow.url is set
  std::string overflow_api_key_file;
  ServeVideoFlags video;
  ServeAuditFlags audit;
  ServeModerationFlags moderation;
};

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
}

std::string base_url(const std::string& host, int port) {
  return "http://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// What to try first: a chat curl for the language models, a video curl and the page for the video ones.
void print_next_steps(const std::string& base, const ModelRouter& router, const jobs::VideoService* video, bool keys) {
  const std::string auth = keys ? " -H 'Authorization: Bearer $KEY'" : "";
  std::string served;
  for (const ServedModel& model : router.models()) served += (served.empty() ? "model \"" : ", \"") + model.name + "\"";
  if (video != nullptr) {
    std::string videos;
    for (const std::string& name : video->model_names()) videos += (videos.empty() ? "video model \"" : ", \"") + name + "\"";
    served += (served.empty() ? "" : "; ") + videos;
  }
  const bool several = router.models().size() > 1 || router.overflow() != nullptr;
  std::printf("frugal: listening on %s (%s%s)\n", base.c_str(), served.c_str(),
              several ? "; route \"auto\" picks the cheapest that fits" : "");
  if (!router.models().empty()) {
    const std::string example = several ? kAutoRoute : router.models()[0].name;
    std::printf("  try:     curl %s/v1/chat/completions -H 'Content-Type: application/json'%s \\\n"
                "             -d '{\"model\": \"%s\", \"messages\": [{\"role\": \"user\", \"content\": \"Hello\"}]}'\n",
                base.c_str(), auth.c_str(), example.c_str());
  } else {
    std::printf("  no language model: the chat and completion routes answer 404 model_not_found\n");
  }
  if (video != nullptr) {
    std::printf("  video:   curl %s/v1/videos%s -F prompt='%s' -F tier=%s\n"
                "           then GET /v1/videos/ID until \"completed\", GET /v1/videos/ID/content for the MP4\n",
                base.c_str(), auth.c_str(), "a red circle moving right on a black background",
                video->config().default_tier.c_str());
    std::printf("  page:    %s/   (prompt, tier, progress, cost, the video playing)\n", base.c_str());
  }
  std::printf("  metrics: %s/metrics   health: %s/health   stop: Ctrl-C (drains in-flight requests)\n",
              base.c_str(), base.c_str());
  std::fflush(stdout);
}

// The live cost meter's price and where it comes from: --price-per-hour, else --hardware (a
// catalogue entry: the midpoint of its cloud price range; this-machine: this machine's vCPUs at the
// catalogue's cloud rate per vCPU, cost/machine_price.h), else none (costs stay 0, compute seconds
// are still metered). Prints the price used.
struct MeterPrice {
  double usd_per_hour = 0;
  std::string source;  // "" when there is no price
};

Expected<MeterPrice> resolve_price_per_hour(const ServeArgs& args) {
  if (args.price_given && !(std::isfinite(args.price_per_hour) && args.price_per_hour >= 0)) {
    return invalid_argument("--price-per-hour must be a price in USD >= 0, got " + std::to_string(args.price_per_hour));
  }
  if (args.price_given) {
    std::printf("frugal: cost meter: USD %.4f per hour (--price-per-hour)\n", args.price_per_hour);
    return MeterPrice{args.price_per_hour, "--price-per-hour"};
  }
  if (args.hardware.empty()) {
    std::printf("frugal: cost meter: no price (--hardware NAME|this-machine or --price-per-hour); usage.cost_usd stays 0\n");
    return MeterPrice{};
  }
  auto catalogue = HardwareCatalogue::load_default_with(args.catalogue_files);
  if (!catalogue) return catalogue.error();
  if (args.hardware == kThisMachineName) {
    auto machine = this_machine_price(*catalogue, args.engine.threads > 0 ? args.engine.threads : default_num_threads());
    if (!machine) return machine.error();
    std::printf("frugal: cost meter: USD %.4f per hour (%s)\n", machine->usd_per_hour, machine->source.c_str());
    return MeterPrice{machine->usd_per_hour, machine->source};
  }
  auto hardware = catalogue->get(args.hardware);
  if (!hardware) return hardware.error();
  const double price = hardware->cloud_usd_per_hour_mid();
  if (!(price > 0)) {
    return invalid_argument("hardware \"" + hardware->name + "\" has no cloud price in the catalogue; give --price-per-hour");
  }
  char source[256];
  std::snprintf(source, sizeof(source), "%s: midpoint of its cloud range %.2f-%.2f USD/hour", hardware->name.c_str(),
                hardware->cloud_usd_per_hour_low, hardware->cloud_usd_per_hour_high);
  std::printf("frugal: cost meter: USD %.4f per hour (%s)\n", price, source);
  return MeterPrice{price, source};
}

HttpServerOptions server_options(const ServeArgs& args) {
  HttpServerOptions options;
  options.host = args.host;
  options.port = args.port;
  options.max_body_bytes = args.max_body_bytes;
  options.request_timeout = to_ms(args.request_timeout_s);
  options.num_http_threads = args.http_threads > 0 ? args.http_threads : args.engine.max_running + 8;
  options.header_timeout = to_ms(args.header_timeout_s);
  options.body_timeout = to_ms(args.body_timeout_s);
  options.idle_timeout = to_ms(args.idle_timeout_s);
  options.max_connections = args.max_connections;
  options.max_connections_per_address = args.max_connections_per_address;
  options.allow_special_in_content = args.allow_special_in_content;
  options.metrics_users = args.metrics_users;
  return options;
}

// The overflow client when --overflow-url is given (nullptr otherwise).
Expected<std::unique_ptr<OverflowClient>> make_overflow(const ServeArgs& args) {
  if (args.overflow.url.empty()) {
    if (!args.overflow.model.empty()) return invalid_argument("--overflow-model needs --overflow-url");
    return std::unique_ptr<OverflowClient>();
  }
  OverflowOptions options = args.overflow;
  if (!args.overflow_api_key_file.empty()) {
    auto keys = read_api_key_file(args.overflow_api_key_file);
    if (!keys) return keys.error();
    options.api_key = keys->front();
  }
  return OverflowClient::create(std::move(options));
}

// Everything the flags alone can get wrong, before the (slow) model loads: fail fast.
struct ServePlan {
  std::vector<ModelSpec> models;
  std::vector<RouteSpec> routes;
  std::unique_ptr<OverflowClient> overflow;
  MeterPrice price;
};

Expected<ServePlan> plan_serve(const ServeArgs& args) {
  ServePlan plan;
  auto price = resolve_price_per_hour(args);
  if (!price) return price.error();
  plan.price = *price;
  if (args.model_values.empty() && args.video.model_values.empty()) {
    return invalid_argument("nothing to serve: give -m/--model (a language model) and/or --video-model");
  }
  if (!args.model_values.empty()) {  // video only otherwise
    auto models = parse_model_specs(args.model_values, args.model_name);
    if (!models) return models.error();
    plan.models = std::move(*models);
  } else if (!args.model_name.empty() || !args.route_values.empty()) {
    return invalid_argument("--model-name and --route need a language model (-m/--model)");
  }
  if (plan.models.size() > 1 && !args.model_name.empty()) {
    return invalid_argument("--model-name names the one model of -m PATH; with several, use --model NAME=PATH");
  }
  auto routes = parse_route_specs(args.route_values, plan.models);
  if (!routes) return routes.error();
  plan.routes = std::move(*routes);
  auto overflow = make_overflow(args);
  if (!overflow) return overflow.error();
  plan.overflow = std::move(*overflow);
  return plan;
}

int serve(const ServeArgs& args) {
  // SIGINT/SIGTERM are taken by one waiting thread (below): block them before any thread starts,
  // so every thread inherits the mask. A vanished client must not kill the process with SIGPIPE.
  sigset_t stop_signals = block_stop_signals();
  // Every client connection is a descriptor: use all the process may open (the soft limit is often
  // 1024, below --max-connections).
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  if (!is_loopback(args.host)) {
    std::fprintf(stderr, "frugal: warning: --host %s exposes the server beyond this machine%s\n", args.host.c_str(),
                 args.api_key_file.empty() ? " without API keys (see --api-key-file)" : "");
  }
  auto plan = plan_serve(args);
  if (!plan) return report_error(plan.error());
  HttpServerOptions options = server_options(args);
  std::unique_ptr<AccessLog> access_log;
  if (!args.access_log.empty()) {
    auto opened = AccessLog::open(args.access_log);
    if (!opened) return report_error(opened.error());
    access_log = std::move(*opened);
    options.access_log = access_log.get();
    std::printf("frugal: access log: %s (one JSON line per request)\n", args.access_log.c_str());
  }
  // Opened before the engines and the video service (it outlives them); closed last, with a signed checkpoint.
  auto audit_log = open_serve_audit_log(args.audit, args.video);
  if (!audit_log) return report_error(audit_log.error());
  options.audit = audit_log->get();
  if (!args.api_key_file.empty()) {
    auto keys = read_api_key_file(args.api_key_file);
    if (!keys) return report_error(keys.error());
    options.api_keys = std::move(*keys);
  }
  if (!args.video.trust.reviewer_key_file.empty()) {
    auto keys = read_api_key_file(args.video.trust.reviewer_key_file);
    if (!keys) return report_error(Status(keys.error().code(), "--reviewer-key-file: " + keys.error().message()));
    options.reviewer_keys = std::move(*keys);
  }
  ServeEngineFlags engine_flags = args.engine;
  engine_flags.usd_per_hour = plan->price.usd_per_hour;
  MetricsRegistry registry;
  // The policy before the models (a malformed one fails fast); declared before the server: outlives it.
  auto moderation = start_moderation(args.moderation, engine_flags, &registry);
  if (!moderation) return report_error(moderation.error());
  options.moderator = (*moderation)->moderator.get();
  auto models = start_models(plan->models, engine_flags, &registry);
  if (!models) return report_error(models.error());
  auto router = make_router(*models, std::move(plan->routes), engine_flags, std::move(plan->overflow), &registry);
  router->set_price_source(plan->price.source);
  const ModelRouter& router_view = *router;
  ServeVideoFlags video_flags = args.video;
  video_flags.threads = args.engine.threads;
  video_flags.usd_per_hour = plan->price.usd_per_hour;
  video_flags.audit = audit_log->get();
  auto video = start_video_service(video_flags, &registry);  // declared before the server: outlives it
  if (!video) return report_error(video.error());

  HttpServer server(std::move(router), &registry, options);
  if (*video) server.attach_video_service(**video);
  Status bound = server.bind();
  if (!bound.is_ok()) return report_error(bound);
  print_next_steps(base_url(args.host, server.port()), router_view, video->get(), !options.api_keys.empty());

  std::atomic<bool> serving_done{false};
  std::thread signal_waiter([&] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    if (serving_done.load()) return;  // woken by ourselves after the listener stopped on its own
    std::fprintf(stderr, "frugal: signal %d: draining for up to %.0f s\n", signal_number, args.drain_timeout_s);
    server.shutdown(to_ms(args.drain_timeout_s));
  });
  const Status ran = server.run();
  serving_done.store(true);
  if (!server.shutting_down()) kill(getpid(), SIGTERM);  // wake the waiter (the signal is blocked: no default action)
  signal_waiter.join();
  // A running video job is released: SQLite keeps it in_progress for the next start, Redis queues it again.
  if (*video) (*video)->stop();
  if (!ran.is_ok()) return report_error(ran);
  std::fprintf(stderr, "frugal: stopped\n");
  return 0;
}

}  // namespace

void register_serve(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand("serve", "OpenAI-compatible HTTP server with continuous batching");
  cmd->add_option("-m,--model", args->model_values,
                  "GGUF model file; or NAME=PATH, repeated, to serve several models (one engine each, one KV budget); "
                  "may be left out when --video-model is given (video only)");
  add_spec_flags(*cmd, args->engine.spec);
  cmd->add_option("--draft-for", args->engine.drafts,
                  "Draft of one served model for speculative decoding: NAME=PATH (repeatable)");
  cmd->add_option("--route", args->route_values,
                  "A named route NAME=TIER[,TIER...] over served models (repeatable); \"auto\" routes over all");
  cmd->add_option("--host", args->host, "Address to bind (non-loopback exposes the server)")->capture_default_str();
  cmd->add_option("--port", args->port, "TCP port (0 = any free port)")->capture_default_str();
  cmd->add_option("-t,--threads", args->engine.threads, "Compute threads (0 = all cores)");
  cmd->add_option("--kv-mem", args->engine.kv_mem_bytes,
                  "KV cache budget in bytes, split across the models (0 = automatic)");
  cmd->add_option("--max-running", args->engine.max_running, "Sequences batched together")->capture_default_str();
  cmd->add_option("--max-waiting", args->engine.max_waiting, "Queued requests before 429")->capture_default_str();
  cmd->add_option("--step-tokens", args->engine.step_token_budget, "Tokens per forward pass")->capture_default_str();
  cmd->add_option("-c,--ctx-size", args->engine.ctx_size, "Per-sequence context (0 = the model's)");
  cmd->add_flag("--no-prefix-cache", args->engine.no_prefix_cache, "Disable prefix caching");
  cmd->add_option("--api-key-file", args->api_key_file, "File with one API key per line (Bearer auth on /v1/*)");
  cmd->add_option("--access-log", args->access_log,
                  "Append one JSON line per request to FILE: time, method, path, status, latency_ms, bytes, model, "
                  "prompt_tokens, completion_tokens, cost_usd, client (+ request_id, forwarded_for from a proxy's headers)");
  cmd->add_option("--model-name", args->model_name, "Model id for clients (default: the file name stem)");
  cmd->add_option("--max-body-bytes", args->max_body_bytes, "Largest request body (413 beyond)")->capture_default_str();
  cmd->add_option("--request-timeout", args->request_timeout_s, "Seconds before a request is cancelled (0 = none)")
      ->capture_default_str();
  cmd->add_option("--drain-timeout", args->drain_timeout_s, "Seconds in-flight requests get on shutdown")
      ->capture_default_str();
  cmd->add_option("--http-threads", args->http_threads, "HTTP worker threads (0 = max-running + 8)");
  cmd->add_option("--header-timeout", args->header_timeout_s, "Seconds a client has to send a request's head (408 beyond)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--body-timeout", args->body_timeout_s, "Seconds a client has to send a request's body (408 beyond)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--idle-timeout", args->idle_timeout_s, "Seconds a kept-alive connection may wait for its next request")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--max-connections", args->max_connections,
                  "Open connections served in full; beyond, only /health and /metrics (503 for the rest)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--max-connections-per-address", args->max_connections_per_address,
                  "Open connections served in full from one client address; beyond, only /health and /metrics")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_flag("--allow-special-in-content", args->allow_special_in_content,
                "Parse control-token texts (e.g. <|im_end|>) in chat message content as control tokens: only for "
                "trusted callers (by default content is plain text and only the chat template makes control tokens)");
  cmd->add_option("--metrics-user", args->metrics_users,
                  "Count LLM requests whose OpenAI \"user\" field is this id under its own label in "
                  "frugal_user_requests_total (repeatable; other users count as \"other\", so clients cannot "
                  "grow the label set)");
  cmd->add_option("--hardware", args->hardware,
                  "Live cost meter: price the server as this hardware catalogue entry (the midpoint of its cloud "
                  "USD/hour range; see `frugal plan hardware`), or this-machine (its vCPUs at the catalogue's cloud "
                  "rate per vCPU-hour)");
  cmd->add_option("--catalogue", args->catalogue_files, "Extra hardware catalogue JSON for --hardware (merged; repeatable)");
  CLI::Option* price = cmd->add_option("--price-per-hour", args->price_per_hour,
                                       "Live cost meter: USD per hour of this server (overrides --hardware); "
                                       "responses' usage carries cost_usd, /metrics the cost counters");
  cmd->add_option("--overflow-url", args->overflow.url,
                  "Overflow route: an OpenAI-compatible endpoint (http://HOST:PORT[/v1]) taking routed requests "
                  "when the chosen model's queue is long");
  cmd->add_option("--overflow-model", args->overflow.model, "Overflow route: the model name sent upstream");
  cmd->add_option("--overflow-queue-threshold", args->overflow.queue_threshold,
                  "Overflow route: forward when this many requests wait for the chosen model")
      ->capture_default_str();
  cmd->add_option("--overflow-usd-per-million-input", args->overflow.usd_per_million_input_tokens,
                  "Overflow route: upstream USD per million prompt tokens (for the cost meter)");
  cmd->add_option("--overflow-usd-per-million-output", args->overflow.usd_per_million_output_tokens,
                  "Overflow route: upstream USD per million completion tokens (for the cost meter)");
  cmd->add_option("--overflow-api-key-file", args->overflow_api_key_file,
                  "Overflow route: file whose first key is sent upstream as a Bearer token");
  add_serve_video_flags(*cmd, args->video);
  cmd->add_flag("--no-video-workers", args->video.no_workers,
                "A stateless API node: accept video jobs, answer status, serve files, run no jobs (`frugal worker`s "
                "sharing --job-store redis://... run them; --video-model names the models, not loaded)");
  add_serve_audit_flags(*cmd, args->audit);
  add_serve_moderation_flags(*cmd, args->moderation);
  cmd->callback([args, price] {
    args->price_given = price->count() > 0;
    const int code = serve(*args);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace frugal::cli

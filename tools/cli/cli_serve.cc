// `frugal serve`: the OpenAI-compatible HTTP server over the continuous-batching engine, with
// Prometheus metrics, optional API keys and graceful shutdown on SIGINT/SIGTERM.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "cli_common.h"
#include "engine/llm_engine.h"
#include "metrics/metrics.h"
#include "server/http_server.h"

namespace frugal::cli {
namespace {

struct ServeArgs {
  std::string model_path;
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 0;
  int64_t kv_mem_bytes = 0;
  int32_t max_running = 64;
  int32_t max_waiting = 256;
  int32_t step_token_budget = 512;
  int64_t ctx_size = 0;
  bool no_prefix_cache = false;
  std::string api_key_file;
  std::string model_name;
  size_t max_body_bytes = 1 << 20;
  double request_timeout_s = 600.0;
  double drain_timeout_s = 30.0;
  int http_threads = 0;
};

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
}

void print_next_steps(const std::string& host, int port, const std::string& model_name, bool keys) {
  const std::string base = "http://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                           std::to_string(port);
  std::printf("frugal: listening on %s (model \"%s\")\n", base.c_str(), model_name.c_str());
  std::printf("  try:     curl %s/v1/chat/completions -H 'Content-Type: application/json'%s \\\n"
              "             -d '{\"model\": \"%s\", \"messages\": [{\"role\": \"user\", \"content\": \"Hello\"}]}'\n",
              base.c_str(), keys ? " -H 'Authorization: Bearer $KEY'" : "", model_name.c_str());
  std::printf("  metrics: %s/metrics   health: %s/health   stop: Ctrl-C (drains in-flight requests)\n",
              base.c_str(), base.c_str());
  std::fflush(stdout);
}

HttpServerOptions server_options(const ServeArgs& args, const LoadedModel& loaded) {
  HttpServerOptions options;
  options.host = args.host;
  options.port = args.port;
  options.model_name = args.model_name.empty() ? std::filesystem::path(args.model_path).stem().string()
                                               : args.model_name;
  auto chat_template = loaded.model->file().get_string_or("tokenizer.chat_template", "");
  if (chat_template) options.chat_template = *chat_template;
  options.max_body_bytes = args.max_body_bytes;
  options.request_timeout = to_ms(args.request_timeout_s);
  options.num_http_threads = args.http_threads > 0 ? args.http_threads : args.max_running + 8;
  return options;
}

int serve(const ServeArgs& args) {
  // SIGINT/SIGTERM are taken by one waiting thread (below): block them before any thread starts,
  // so every thread inherits the mask. A vanished client must not kill the process with SIGPIPE.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  if (!is_loopback(args.host)) {
    std::fprintf(stderr, "frugal: warning: --host %s exposes the server beyond this machine%s\n", args.host.c_str(),
                 args.api_key_file.empty() ? " without API keys (see --api-key-file)" : "");
  }
  auto loaded = load_model(args.model_path);
  if (!loaded) return report_error(loaded.error());
  HttpServerOptions options = server_options(args, *loaded);
  if (!args.api_key_file.empty()) {
    auto keys = read_api_key_file(args.api_key_file);
    if (!keys) return report_error(keys.error());
    options.api_keys = std::move(*keys);
  }
  EngineOptions engine_options;
  engine_options.num_threads = args.threads;
  engine_options.kv_mem_bytes = args.kv_mem_bytes;
  engine_options.max_running = args.max_running;
  engine_options.max_waiting = args.max_waiting;
  engine_options.step_token_budget = args.step_token_budget;
  engine_options.max_context = args.ctx_size;
  engine_options.prefix_caching = !args.no_prefix_cache;
  MetricsRegistry registry;
  auto engine = LlmEngine::create(*loaded->model, *loaded->tokenizer, engine_options, &registry);
  if (!engine) return report_error(engine.error());

  HttpServer server(**engine, *loaded->tokenizer, &registry, options);
  Status bound = server.bind();
  if (!bound.is_ok()) return report_error(bound);
  print_next_steps(args.host, server.port(), options.model_name, !options.api_keys.empty());

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
  if (!ran.is_ok()) return report_error(ran);
  std::fprintf(stderr, "frugal: stopped\n");
  return 0;
}

}  // namespace

void register_serve(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand("serve", "OpenAI-compatible HTTP server with continuous batching");
  cmd->add_option("-m,--model", args->model_path, "GGUF model file")->required();
  cmd->add_option("--host", args->host, "Address to bind (non-loopback exposes the server)")->capture_default_str();
  cmd->add_option("--port", args->port, "TCP port (0 = any free port)")->capture_default_str();
  cmd->add_option("-t,--threads", args->threads, "Compute threads (0 = all cores)");
  cmd->add_option("--kv-mem", args->kv_mem_bytes, "KV cache budget in bytes (0 = automatic)");
  cmd->add_option("--max-running", args->max_running, "Sequences batched together")->capture_default_str();
  cmd->add_option("--max-waiting", args->max_waiting, "Queued requests before 429")->capture_default_str();
  cmd->add_option("--step-tokens", args->step_token_budget, "Tokens per forward pass")->capture_default_str();
  cmd->add_option("-c,--ctx-size", args->ctx_size, "Per-sequence context (0 = the model's)");
  cmd->add_flag("--no-prefix-cache", args->no_prefix_cache, "Disable prefix caching");
  cmd->add_option("--api-key-file", args->api_key_file, "File with one API key per line (Bearer auth on /v1/*)");
  cmd->add_option("--model-name", args->model_name, "Model id for clients (default: the file name stem)");
  cmd->add_option("--max-body-bytes", args->max_body_bytes, "Largest request body (413 beyond)")->capture_default_str();
  cmd->add_option("--request-timeout", args->request_timeout_s, "Seconds before a request is cancelled (0 = none)")
      ->capture_default_str();
  cmd->add_option("--drain-timeout", args->drain_timeout_s, "Seconds in-flight requests get on shutdown")
      ->capture_default_str();
  cmd->add_option("--http-threads", args->http_threads, "HTTP worker threads (0 = max-running + 8)");
  cmd->callback([args] {
    const int code = serve(*args);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace frugal::cli

// `frugal loadgen`: a closed-loop load generator for OpenAI-compatible servers (frugal serve,
// llama-server, ...): C concurrent clients stream /v1/completions with prompts given as token id
// arrays (exact lengths, optional shared prefix), until N requests or a duration. Reports
// throughput and TTFT / inter-token / end-to-end latency percentiles. Loopback targets only.
#include <httplib.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cli_common.h"

namespace frugal::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct LoadgenArgs {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string model;              // empty: the first model the server lists at /v1/models
  int concurrency = 8;
  int num_requests = 0;          // 0: use duration
  double duration_s = 0.0;
  int prompt_tokens = 64;
  int max_tokens = 64;
  int shared_prefix_tokens = 0;
  int vocab_low = -1;            // token ids are drawn from [vocab_low, vocab_high); -1: min(1000, vocab_high / 4)
  int vocab_high = 0;            // 0: the model's vocabulary (/v1/models frugal_vocab_size), else 8000
  uint64_t seed = 1;
  double timeout_s = 600.0;
  bool json = false;
};

struct RequestSample {
  bool ok = false;
  std::string failure;  // why not ok: "transport: <httplib error>", "http <status>" or "no text"
  double ttft_s = 0.0;
  double e2e_s = 0.0;
  int64_t output_tokens = 0;
  std::vector<double> itl_s;
};

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

std::vector<int32_t> make_prompt(const LoadgenArgs& a, uint64_t request_idx) {
  std::mt19937_64 shared_rng(a.seed);
  std::mt19937_64 own_rng(a.seed * 0x9e3779b97f4a7c15ull + request_idx + 1);
  std::uniform_int_distribution<int32_t> dist(a.vocab_low, a.vocab_high - 1);
  std::vector<int32_t> ids;
  for (int i = 0; i < a.prompt_tokens; ++i) ids.push_back(dist(i < a.shared_prefix_tokens ? shared_rng : own_rng));
  return ids;
}

// One streamed completion; parses SSE "data:" lines as they arrive.
RequestSample run_request(httplib::Client& client, const LoadgenArgs& a, uint64_t request_idx) {
  RequestSample sample;
  const nlohmann::json body = {{"model", a.model},         {"prompt", make_prompt(a, request_idx)},
                               {"max_tokens", a.max_tokens}, {"stream", true},
                               {"temperature", 0.0},        {"ignore_eos", true},
                               {"stream_options", {{"include_usage", true}}}};
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  std::string buffer;
  const auto start = Clock::now();
  auto last = start;
  int64_t usage_tokens = -1, chunks_with_text = 0;
  req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    buffer.append(data, size);
    size_t line_end;
    while ((line_end = buffer.find('\n')) != std::string::npos) {
      const std::string line = buffer.substr(0, line_end);
      buffer.erase(0, line_end + 1);
      if (line.rfind("data: ", 0) != 0 || line == "data: [DONE]") continue;
      const auto chunk = nlohmann::json::parse(line.substr(6), nullptr, false);
      if (chunk.is_discarded()) continue;
      if (chunk.contains("usage") && chunk["usage"].is_object()) usage_tokens = chunk["usage"].value("completion_tokens", -1);
      if (!chunk.contains("choices") || chunk["choices"].empty()) continue;
      const std::string text = chunk["choices"][0].value("text", std::string());
      if (text.empty()) continue;
      const auto now = Clock::now();
      if (chunks_with_text == 0) sample.ttft_s = std::chrono::duration<double>(now - start).count();
      else sample.itl_s.push_back(std::chrono::duration<double>(now - last).count());
      last = now;
      ++chunks_with_text;
    }
    return true;
  };
  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  const bool sent = client.send(req, res, error);
  sample.e2e_s = std::chrono::duration<double>(Clock::now() - start).count();
  sample.ok = sent && res.status == 200 && chunks_with_text > 0;
  if (!sent) {
    sample.failure = "transport: " + httplib::to_string(error);
  } else if (res.status != 200) {
    // The server's own explanation (an OpenAI error body) is what the user needs to see.
    const auto error_body = nlohmann::json::parse(buffer.empty() ? res.body : buffer, nullptr, false);
    std::string message;
    if (!error_body.is_discarded() && error_body.contains("error") && error_body["error"].is_object()) {
      message = error_body["error"].value("message", std::string());
    }
    sample.failure = "http " + std::to_string(res.status) + (message.empty() ? "" : ": " + message);
  } else if (chunks_with_text == 0) {
    sample.failure = "no text";
  }
  sample.output_tokens = usage_tokens >= 0 ? usage_tokens : chunks_with_text;
  return sample;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const double rank = p / 100.0 * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(rank);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (rank - static_cast<double>(lo));
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

void report(const LoadgenArgs& a, const std::vector<RequestSample>& samples, double wall_s) {
  std::vector<double> ttft, itl, e2e;
  int64_t ok = 0, failed = 0, out_tokens = 0;
  std::map<std::string, int64_t> failures;  // reason -> requests
  for (const auto& s : samples) {
    if (!s.ok) {
      ++failed;
      ++failures[s.failure];
      continue;
    }
    ++ok;
    ttft.push_back(s.ttft_s);
    e2e.push_back(s.e2e_s);
    itl.insert(itl.end(), s.itl_s.begin(), s.itl_s.end());
    out_tokens += s.output_tokens;
  }
  const nlohmann::json result = {
      {"concurrency", a.concurrency}, {"prompt_tokens", a.prompt_tokens}, {"max_tokens", a.max_tokens},
      {"shared_prefix_tokens", a.shared_prefix_tokens}, {"requests_ok", ok}, {"requests_failed", failed},
      {"failures", failures},
      {"wall_s", wall_s}, {"output_tokens", out_tokens},
      {"output_tokens_per_s", wall_s > 0 ? static_cast<double>(out_tokens) / wall_s : 0.0},
      {"input_tokens_per_s", wall_s > 0 ? static_cast<double>(ok * a.prompt_tokens) / wall_s : 0.0},
      {"ttft_s", {{"mean", mean(ttft)}, {"p50", percentile(ttft, 50)}, {"p90", percentile(ttft, 90)}, {"p99", percentile(ttft, 99)}}},
      {"itl_s", {{"mean", mean(itl)}, {"p50", percentile(itl, 50)}, {"p90", percentile(itl, 90)}, {"p99", percentile(itl, 99)}}},
      {"e2e_s", {{"mean", mean(e2e)}, {"p50", percentile(e2e, 50)}, {"p90", percentile(e2e, 90)}, {"p99", percentile(e2e, 99)}}}};
  if (a.json) {
    std::printf("%s\n", result.dump().c_str());
    return;
  }
  std::printf("requests: %lld ok, %lld failed in %.2f s (concurrency %d, %d prompt -> %d output tokens)\n",
              static_cast<long long>(ok), static_cast<long long>(failed), wall_s, a.concurrency, a.prompt_tokens,
              a.max_tokens);
  for (const auto& [reason, count] : failures) std::printf("  failed: %lld x %s\n", static_cast<long long>(count), reason.c_str());
  std::printf("throughput: %.1f output tok/s, %.1f prompt tok/s\n", result["output_tokens_per_s"].get<double>(),
              result["input_tokens_per_s"].get<double>());
  for (const char* key : {"ttft_s", "itl_s", "e2e_s"}) {
    const auto& m = result[key];
    std::printf("%-7s mean %.3f  p50 %.3f  p90 %.3f  p99 %.3f (s)\n", key, m["mean"].get<double>(), m["p50"].get<double>(),
                m["p90"].get<double>(), m["p99"].get<double>());
  }
}

// The served model to load (--model, else the first GET /v1/models lists) and its vocabulary size
// (frugal_vocab_size; 0 when the server does not say). Empty model when the list cannot be read.
struct ServedModelInfo {
  std::string model;
  int64_t vocab_size = 0;
};

ServedModelInfo served_model_info(const LoadgenArgs& a) {
  ServedModelInfo info{a.model, 0};
  httplib::Client client(a.host, a.port);
  client.set_read_timeout(10, 0);
  auto res = client.Get("/v1/models");
  if (!res || res->status != 200) return info;
  const auto body = nlohmann::json::parse(res->body, nullptr, false);
  if (body.is_discarded() || !body.contains("data") || !body["data"].is_array() || body["data"].empty()) return info;
  for (const auto& entry : body["data"]) {
    const std::string id = entry.value("id", std::string());
    if (!info.model.empty() && id != info.model) continue;
    info.model = id;
    if (entry.contains("frugal_vocab_size") && entry["frugal_vocab_size"].is_number_integer()) {
      info.vocab_size = entry["frugal_vocab_size"].get<int64_t>();
    }
    break;
  }
  return info;
}

int loadgen(LoadgenArgs a) {
  if (!is_loopback(a.host)) return report_error(invalid_argument("loadgen only targets loopback hosts (127.0.0.0/8, localhost, ::1)"));
  const ServedModelInfo served = served_model_info(a);
  if (a.model.empty()) a.model = served.model;
  if (a.model.empty()) return report_error(unavailable("no model listed at http://" + a.host + ":" + std::to_string(a.port) + "/v1/models"));
  // Prompt token ids must exist in the model's vocabulary: default to it, and refuse a range beyond it.
  if (a.vocab_high <= 0) a.vocab_high = served.vocab_size > 0 ? static_cast<int>(served.vocab_size) : 8000;
  if (served.vocab_size > 0 && a.vocab_high > served.vocab_size) {
    return report_error(invalid_argument("--vocab-high " + std::to_string(a.vocab_high) + " exceeds model '" + a.model +
                                         "''s vocabulary of " + std::to_string(served.vocab_size) + " tokens"));
  }
  if (a.vocab_low < 0) a.vocab_low = std::min(1000, a.vocab_high / 4);
  if (a.concurrency <= 0 || a.prompt_tokens <= 0 || a.max_tokens <= 0 || (a.num_requests <= 0 && a.duration_s <= 0) ||
      a.shared_prefix_tokens > a.prompt_tokens || a.vocab_low >= a.vocab_high) {
    return report_error(invalid_argument("need concurrency, prompt and output lengths > 0, -n or --duration, "
                                         "shared prefix <= prompt tokens, vocab range non-empty"));
  }
  const bool show_progress = !a.json && ::isatty(2);
  std::vector<RequestSample> samples;
  std::mutex samples_mutex;
  std::atomic<uint64_t> next_request{0};
  std::atomic<int64_t> done{0};
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                                    a.duration_s > 0 ? a.duration_s : a.timeout_s));
  std::vector<std::thread> workers;
  for (int w = 0; w < a.concurrency; ++w) {
    workers.emplace_back([&] {
      httplib::Client client(a.host, a.port);
      client.set_read_timeout(static_cast<time_t>(a.timeout_s), 0);
      for (;;) {
        const uint64_t idx = next_request.fetch_add(1);
        if (a.num_requests > 0 && idx >= static_cast<uint64_t>(a.num_requests)) break;
        if (Clock::now() >= deadline) break;
        RequestSample s = run_request(client, a, idx);
        std::lock_guard<std::mutex> lock(samples_mutex);
        samples.push_back(std::move(s));
        const int64_t n = done.fetch_add(1) + 1;
        if (show_progress) std::fprintf(stderr, "\rloadgen: %lld requests done", static_cast<long long>(n));
      }
    });
  }
  for (auto& t : workers) t.join();
  if (show_progress) std::fprintf(stderr, "\n");
  report(a, samples, std::chrono::duration<double>(Clock::now() - start).count());
  for (const auto& s : samples) {
    if (!s.ok) return 1;
  }
  return 0;
}

}  // namespace

void register_loadgen(CLI::App& app) {
  auto a = std::make_shared<LoadgenArgs>();
  CLI::App* cmd = app.add_subcommand("loadgen", "Drive an OpenAI-compatible server on loopback and report latency/throughput");
  cmd->add_option("--host", a->host, "Server host (loopback only)")->capture_default_str();
  cmd->add_option("--port", a->port, "Server port")->capture_default_str();
  cmd->add_option("--model", a->model, "Model name sent in requests (default: the first at /v1/models)");
  cmd->add_option("-c,--concurrency", a->concurrency, "Concurrent clients")->capture_default_str();
  cmd->add_option("-n,--requests", a->num_requests, "Total requests (or use --duration)");
  cmd->add_option("--duration", a->duration_s, "Seconds to run");
  cmd->add_option("--prompt-tokens", a->prompt_tokens, "Prompt length in tokens")->capture_default_str();
  cmd->add_option("--max-tokens", a->max_tokens, "Tokens to generate per request")->capture_default_str();
  cmd->add_option("--shared-prefix-tokens", a->shared_prefix_tokens, "Leading prompt tokens shared by all requests");
  cmd->add_option("--vocab-low", a->vocab_low, "Lowest token id used in prompts (default: min(1000, vocab-high / 4))");
  cmd->add_option("--vocab-high", a->vocab_high,
                  "Token ids are below this (default: the model's vocabulary size from /v1/models, else 8000)");
  cmd->add_option("--seed", a->seed, "Prompt RNG seed")->capture_default_str();
  cmd->add_option("--timeout", a->timeout_s, "Per-request timeout (s)")->capture_default_str();
  cmd->add_flag("--json", a->json, "Print one JSON object");
  cmd->callback([a] {
    const int code = loadgen(*a);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace frugal::cli

// Several models and cost-aware routing end to end: `frugal serve --model big=... --model small=...`
// (the bundled KJV target and draft models) driven over loopback HTTP. Requests land on the tier
// the policy says for the estimates the server publishes, the route header and metrics count
// them, and every answered request's cost is in /metrics. The overflow route is tested against a
// second `frugal serve` on loopback: nothing goes upstream below the queue threshold; past it,
// routed requests do and their cost (upstream usage x configured prices) is accounted.
#include <httplib.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <fstream>
#include <future>
#include <map>
#include <regex>

#include "common/serve_process.h"
#include "common/subprocess.h"
#include "server/router.h"
#include "server/server_test_util.h"

namespace frugal {
namespace {

using json = nlohmann::json;
using testing::ServeProcess;
namespace fs = std::filesystem;

const fs::path kRepoRoot = fs::path(FRUGAL_TEST_DATA_DIR).parent_path().parent_path();
constexpr double kPricePerHour = 3.6;  // USD: 0.001 USD per compute second

std::string bundled(const std::string& file) { return (kRepoRoot / "models" / file).string(); }

// The value of one sample line of /metrics ("name{labels}" exactly); -1 when absent.
double sample(const std::string& metrics, const std::string& series) {
  const std::string key = "\n" + series + " ";
  const size_t pos = metrics.find(key);
  if (pos == std::string::npos) return -1;
  return std::stod(metrics.substr(pos + key.size()));
}

class Served {
 public:
  explicit Served(const std::vector<std::string>& args) : process_(ServeProcess::with_exact_args(args)) {
    port = process_->wait_for_port();
    EXPECT_GT(port, 0) << process_->log();
    client = std::make_unique<httplib::Client>("127.0.0.1", port);
    client->set_read_timeout(60, 0);
  }
  httplib::Result chat(json body) {
    if (!body.contains("messages")) body["messages"] = {{{"role", "user"}, {"content", "And God said"}}};
    return client->Post("/v1/chat/completions", body.dump(), "application/json");
  }
  std::string metrics() {
    auto res = client->Get("/metrics");
    return res ? res->body : "";
  }
  std::string log() const { return process_->log(); }
  int stop() { return process_->stop(); }

  int port = 0;
  std::unique_ptr<httplib::Client> client;

 private:
  std::unique_ptr<ServeProcess> process_;
};

// "route=auto; model=small; reason=cheapest; ..." -> {route: auto, model: small, ...}
std::map<std::string, std::string> route_header(const httplib::Result& res) {
  std::map<std::string, std::string> fields;
  if (!res) return fields;
  const std::string value = res->get_header_value("X-Frugal-Route");
  const std::regex field(R"(([a-z_]+)=([^;]*))");
  for (auto it = std::sregex_iterator(value.begin(), value.end(), field); it != std::sregex_iterator(); ++it) {
    fields[(*it)[1]] = (*it)[2];
  }
  return fields;
}

// The tier estimates the server publishes (the ones the policy reads when it is idle).
std::vector<TierEstimate> published_tiers(const std::string& metrics) {
  std::vector<TierEstimate> tiers;
  for (const auto& [name, rank] : {std::pair<std::string, int32_t>{"small", 0}, {"big", 1}}) {
    TierEstimate tier;
    tier.name = name;
    tier.capability_rank = rank;
    tier.usd_per_million_tokens = sample(metrics, "frugal_route_tier_usd_per_million_tokens{model=\"" + name + "\"}");
    tier.ms_per_output_token =
        1000.0 * sample(metrics, "frugal_route_tier_seconds_per_output_token{model=\"" + name + "\"}");
    tiers.push_back(tier);
  }
  return tiers;
}

std::vector<std::string> two_models_args() {
  return {"--model", "big=" + bundled("kjv-target-f16.gguf"), "--model", "small=" + bundled("kjv-draft-f16.gguf"),
          "--route", "precise=big", "--host", "127.0.0.1", "--port", "0", "-t", "2", "--ctx-size", "256",
          "--max-running", "4", "--kv-mem", "4000000", "--price-per-hour", std::to_string(kPricePerHour)};
}

TEST(RoutingE2E, RequestsLandOnTheTierThePolicySaysAndAreCounted) {
  Served served(two_models_args());
  ASSERT_GT(served.port, 0);
  auto models = served.client->Get("/v1/models");
  ASSERT_TRUE(models && models->status == 200);
  std::set<std::string> ids;
  const json listed = json::parse(models->body);
  for (const json& model : listed["data"]) ids.insert(model["id"].get<std::string>());
  EXPECT_EQ(ids, (std::set<std::string>{"big", "small", "auto", "precise"})) << models->body;

  struct Case {
    json body;
    std::optional<RouteNeeds> needs;  // nullopt: a named model or route with a fixed answer
    std::string expect_model;         // for named requests
  };
  RouteNeeds hard;
  hard.difficulty = Difficulty::kHard;
  const std::vector<Case> cases = {
      {json{{"model", "auto"}, {"max_tokens", 8}}, RouteNeeds{}, ""},
      {json{{"model", "auto"}, {"max_tokens", 8}, {"difficulty", "hard"}}, hard, ""},
      {json{{"model", "auto"}, {"max_tokens", 8},
            {"messages", {{{"role", "user"}, {"content", "Explain why, step by step"}}}}}, hard, ""},
      {json{{"model", "auto"}, {"max_tokens", 8}}, RouteNeeds{}, ""},
      {json{{"model", "big"}, {"max_tokens", 8}}, std::nullopt, "big"},
      {json{{"model", "precise"}, {"max_tokens", 8}}, std::nullopt, "big"},
  };
  std::map<std::string, double> cost_by_model;
  std::map<std::string, int> count_by_series;
  for (const Case& c : cases) {
    std::string expect = c.expect_model;
    std::string expect_reason = c.body["model"] == "big" ? "named" : "cheapest";
    if (c.needs) {  // what the policy says for the estimates published right now (the server is idle)
      auto decision = choose_tier(published_tiers(served.metrics()), *c.needs);
      ASSERT_TRUE(decision);
      expect = decision->tier_idx == 0 ? "small" : "big";
      expect_reason = route_reason_name(decision->reason);
    }
    auto res = served.chat(c.body);
    ASSERT_TRUE(res && res->status == 200) << (res ? res->body : "no response");
    const auto header = route_header(res);
    EXPECT_EQ(header.at("model"), expect) << c.body.dump();
    EXPECT_EQ(header.at("reason"), expect_reason) << c.body.dump();
    const json body = json::parse(res->body);
    EXPECT_EQ(body["model"], expect) << "the response names the model that answered";
    const double cost = body["usage"]["cost_usd"].get<double>();
    EXPECT_GT(cost, 0.0) << "a price is set, so every request costs something";
    cost_by_model[expect] += cost;
    ++count_by_series["frugal_route_requests_total{route=\"" + c.body["model"].get<std::string>() + "\",model=\"" +
                      expect + "\",reason=\"" + expect_reason + "\"}"];
  }
  EXPECT_GT(cost_by_model["small"], 0.0) << "an easy prompt with no needs went to the small tier at least once";
  EXPECT_GT(cost_by_model["big"], 0.0);

  const std::string metrics = served.metrics();
  for (const auto& [series, count] : count_by_series) EXPECT_EQ(sample(metrics, series), count) << series << metrics;
  for (const auto& [model, cost] : cost_by_model) {
    EXPECT_NEAR(sample(metrics, "frugal_route_cost_usd_total{model=\"" + model + "\"}"), cost, 1e-9 + cost * 1e-6);
  }
  if (std::system("command -v promtool >/dev/null 2>&1") == 0) {
    const std::string path = ::testing::TempDir() + "frugal_routing_metrics.txt";
    std::ofstream(path) << metrics;
    const auto lint = testing::run_command("promtool check metrics < " + path + " 2>&1");
    EXPECT_EQ(lint.exit_code, 0) << lint.output;
    EXPECT_EQ(lint.output, "");
  }
  EXPECT_EQ(served.stop(), 0) << served.log();
}

TEST(RoutingE2E, StreamsCarryTheRouteHeaderAndTheirCostIsCounted) {
  Served served(two_models_args());
  ASSERT_GT(served.port, 0);
  const json body = {{"model", "auto"}, {"max_tokens", 6}, {"stream", true}, {"difficulty", "hard"},
                     {"stream_options", {{"include_usage", true}}},
                     {"messages", {{{"role", "user"}, {"content", "And God said"}}}}};
  RouteNeeds hard;
  hard.difficulty = Difficulty::kHard;
  auto decision = choose_tier(published_tiers(served.metrics()), hard);
  ASSERT_TRUE(decision);
  const std::string expect_reason = route_reason_name(decision->reason);
  auto res = served.client->Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(res && res->status == 200) << (res ? res->body : "no response");
  const auto header = route_header(res);
  EXPECT_EQ(header.at("model"), "big");
  EXPECT_EQ(header.at("reason"), expect_reason);
  double cost = -1;
  for (const std::string& payload : testing::sse_payloads(res->body)) {
    if (payload == "[DONE]") continue;
    const json chunk = json::parse(payload);
    EXPECT_EQ(chunk["model"], "big");
    if (chunk.contains("usage") && chunk["usage"].is_object()) cost = chunk["usage"]["cost_usd"].get<double>();
  }
  ASSERT_GT(cost, 0.0) << res->body;
  const std::string metrics = served.metrics();
  EXPECT_NEAR(sample(metrics, "frugal_route_cost_usd_total{model=\"big\"}"), cost, 1e-12 + cost * 1e-6) << metrics;
  EXPECT_EQ(sample(metrics, "frugal_route_requests_total{route=\"auto\",model=\"big\",reason=\"" + expect_reason +
                                "\"}"),
            1.0)
      << metrics;
}

TEST(RoutingE2E, BadRoutingRequestsAreClearErrors) {
  Served served(two_models_args());
  ASSERT_GT(served.port, 0);
  auto res = served.chat(json{{"model", "nope"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(json::parse(res->body)["error"]["code"], "model_not_found");
  res = served.chat(json{{"model", "auto"}, {"max_usd_per_million_tokens", 0}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400) << "a price is set: no tier is free";
  EXPECT_EQ(json::parse(res->body)["error"]["param"], "max_usd_per_million_tokens") << res->body;
  res = served.chat(json{{"model", "auto"}, {"difficulty", "medium"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(json::parse(res->body)["error"]["param"], "difficulty");
}

// The sum of frugal_requests_total over its outcomes (every engine request a server took).
double engine_requests(const std::string& metrics) {
  double total = 0;
  for (const char* outcome : {"stop", "length", "cancelled", "error", "rejected"}) {
    total += std::max(0.0, sample(metrics, std::string("frugal_requests_total{outcome=\"") + outcome + "\"}"));
  }
  return total;
}

TEST(RoutingE2E, OverflowEngagesOnlyPastTheQueueThresholdAndIsPriced) {
  constexpr double kInputPrice = 1.0, kOutputPrice = 2.0;  // USD per million tokens upstream
  Served upstream({"-m", bundled("kjv-draft-f16.gguf"), "--model-name", "up", "--host", "127.0.0.1", "--port", "0",
                   "-t", "1", "--ctx-size", "256"});
  ASSERT_GT(upstream.port, 0);
  Served local({"--model", "big=" + bundled("kjv-target-f16.gguf"), "--host", "127.0.0.1", "--port", "0", "-t", "1",
                "--ctx-size", "256", "--max-running", "1", "--http-threads", "32", "--price-per-hour", std::to_string(kPricePerHour),
                "--overflow-url", "http://127.0.0.1:" + std::to_string(upstream.port) + "/v1", "--overflow-model", "up",
                "--overflow-queue-threshold", "2", "--overflow-usd-per-million-input", std::to_string(kInputPrice),
                "--overflow-usd-per-million-output", std::to_string(kOutputPrice)});
  ASSERT_GT(local.port, 0);

  // Below the threshold (an idle server): routed requests stay local; nothing reaches upstream.
  for (int request_idx = 0; request_idx < 3; ++request_idx) {
    auto res = local.chat(json{{"model", "auto"}, {"max_tokens", 4}});
    ASSERT_TRUE(res && res->status == 200) << (res ? res->body : "no response");
    EXPECT_EQ(route_header(res).at("model"), "big");
  }
  EXPECT_EQ(engine_requests(upstream.metrics()), 0) << "no request went out below the threshold";

  // Past it: requests naming the model (never overflowed) fill the one running slot and the queue.
  // Each takes ~0.1-0.5 s, so the queue stays past the threshold for seconds after it is seen full.
  constexpr int kFillers = 12;
  std::vector<std::future<int>> fillers;
  for (int filler_idx = 0; filler_idx < kFillers; ++filler_idx) {
    fillers.push_back(std::async(std::launch::async, [&local] {
      httplib::Client client("127.0.0.1", local.port);
      client.set_read_timeout(120, 0);
      const json body = {{"model", "big"}, {"max_tokens", 240}, {"ignore_eos", true},
                         {"messages", {{{"role", "user"}, {"content", "And"}}}}};
      auto res = client.Post("/v1/chat/completions", body.dump(), "application/json");
      return res ? res->status : 0;
    }));
  }
  bool queued = false;
  for (int poll_idx = 0; poll_idx < 400 && !queued; ++poll_idx) {
    queued = sample(local.metrics(), "frugal_requests_waiting") >= kFillers - 4;
    if (!queued) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(queued) << "the fillers never queued up:\n" << local.metrics();
  auto res = local.chat(json{{"model", "auto"}, {"max_tokens", 5}});
  ASSERT_TRUE(res && res->status == 200) << (res ? res->body : "no response");
  const auto header = route_header(res);
  const std::string after = local.metrics();
  EXPECT_EQ(header.at("model"), "overflow") << "waiting after: " << sample(after, "frugal_requests_waiting")
                                            << " running: " << sample(after, "frugal_requests_running");
  EXPECT_EQ(header.at("reason"), "overflow");
  const json body = json::parse(res->body);
  EXPECT_EQ(body["model"], "up") << "answered by the upstream's model";
  const int64_t prompt_tokens = body["usage"]["prompt_tokens"], completion_tokens = body["usage"]["completion_tokens"];
  const double expected_cost = (prompt_tokens * kInputPrice + completion_tokens * kOutputPrice) / 1e6;
  EXPECT_NEAR(body["usage"]["cost_usd"].get<double>(), expected_cost, 1e-15);
  EXPECT_EQ(engine_requests(upstream.metrics()), 1) << "exactly the overflowed request went upstream";

  for (auto& filler : fillers) EXPECT_EQ(filler.get(), 200);
  const std::string metrics = local.metrics();
  EXPECT_EQ(sample(metrics, "frugal_route_requests_total{route=\"auto\",model=\"overflow\",reason=\"overflow\"}"), 1)
      << metrics;
  EXPECT_NEAR(sample(metrics, "frugal_route_cost_usd_total{model=\"overflow\"}"), expected_cost, 1e-15) << metrics;
  EXPECT_EQ(sample(metrics, "frugal_route_tokens_total{model=\"overflow\"}"), prompt_tokens + completion_tokens);
}

}  // namespace
}  // namespace frugal

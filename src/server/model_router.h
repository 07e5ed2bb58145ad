// The served models and the routes over them at run time (server layer): resolves a request's
// "model" (a model name, "auto" or a --route name) to a local engine or the overflow endpoint,
// keeps the live per-tier cost and latency estimates (tier_stats.h) the policy (router.h) reads,
// and counts routes and costs in /metrics (route_metrics.h).
//
// NOTE (overflow): only routed requests ("auto" and --route names) may overflow; a request naming
// a model gets that model. A routed request goes upstream when the tier the policy chose has at
// least `queue_threshold` requests waiting (LlmEngine::snapshot().waiting) at the time it arrives.
// Latency estimates include the queue: ms per output token x (1 + waiting / max_running), since a
// waiting request starts when one of max_running sequences finishes.
// Threading contract: constructed once; every method is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/llm_engine.h"
#include "engine/sampling_defaults.h"
#include "model/model.h"
#include "metrics/metrics.h"
#include "server/model_set.h"
#include "server/overflow_client.h"
#include "server/route_metrics.h"
#include "server/router.h"
#include "server/tier_stats.h"
#include "tokenizer/chat_template.h"

namespace frugal {

struct ServedModel {
  std::string name;
  LlmEngine* engine = nullptr;            // outlives the router
  const Tokenizer* tokenizer = nullptr;   // outlives the router
  ChatFormat chat_format = ChatFormat::kChatML;
  int64_t weight_bytes = 0;               // bytes a decoded token reads: the prior's cost basis
  int32_t max_running = 1;                // the engine's batch size (queue-delay estimate)
  const Model* model = nullptr;           // the engine's weights (embeddings); outlives the router
  SamplingDefaults sampling_defaults;     // the GGUF's recommended settings: fill what a request leaves out
};

// Where a request goes and why.
struct RouteTarget {
  const ServedModel* model = nullptr;  // null: the overflow endpoint
  size_t model_idx = 0;                // when model is set
  std::string route;                   // what the client asked for
  RouteReason reason = RouteReason::kNamed;
  Difficulty difficulty = Difficulty::kEasy;
  double usd_per_million_tokens = 0;   // the estimate the decision saw (overflow: output price)
  bool is_overflow() const { return model == nullptr; }
};

class ModelRouter {
 public:
  // models: names unique; none when the server serves video only (then there are no routes, and
  // every resolve() is kNotFound). routes checked by parse_route_specs. The "auto" route (every
  // model) exists whenever a model does. usd_per_hour feeds the priors. overflow and metrics may be null.
  ModelRouter(std::vector<ServedModel> models, std::vector<RouteSpec> routes, double usd_per_hour,
              std::unique_ptr<OverflowClient> overflow, MetricsRegistry* metrics);

  // requested "" means the only model (one served) or "auto". Errors: kNotFound (no such model or
  // route), kInvalidArgument (the cost cap excludes every tier).
  Expected<RouteTarget> resolve(const std::string& requested, const RouteNeeds& needs) const;

  // Counts a request that was answered by `target` (route metrics) ...
  void count_route(const RouteTarget& target) const;
  // ... and its usage once it finished (local: also the tier's live stats).
  void record_finished(const RouteTarget& target, const Usage& usage, double e2e_seconds) const;

  // "route=auto; model=small; reason=cheapest; difficulty=easy; usd_per_mtok=0.0123"
  static std::string header_value(const RouteTarget& target);
  static constexpr const char* kHeaderName = "X-Frugal-Route";

  const std::vector<ServedModel>& models() const { return models_; }
  const std::vector<RouteSpec>& routes() const { return routes_; }
  const OverflowClient* overflow() const { return overflow_.get(); }
  // Where the cost meter's price comes from ("--price-per-hour", "h100-sxm: ...", "" = no price).
  void set_price_source(std::string source) { price_source_ = std::move(source); }
  const std::string& price_source() const { return price_source_; }
  // The estimates the policy sees now for model_idx (queue included).
  TierEstimate estimate(size_t model_idx) const;
  // Refreshes the per-tier gauges (at each /metrics scrape).
  void refresh_gauges() const;

 private:
  const ServedModel* find_model(const std::string& name, size_t* model_idx) const;
  const RouteSpec* find_route(const std::string& name) const;
  Expected<RouteTarget> route(const RouteSpec& route, const RouteNeeds& needs) const;

  std::vector<ServedModel> models_;
  std::vector<int32_t> capability_ranks_;         // per model: rank by weight bytes
  std::vector<std::unique_ptr<TierStats>> stats_; // per model
  std::vector<RouteSpec> routes_;                 // "auto" first
  std::unique_ptr<OverflowClient> overflow_;
  std::optional<RouteMetrics> metrics_;
  std::string price_source_;
};

}  // namespace frugal

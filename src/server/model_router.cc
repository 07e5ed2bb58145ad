#include "server/model_router.h"

#include <algorithm>
#include <cstdio>

#include "core/check.h"
#include "server/access_log.h"

namespace frugal {
namespace {

std::string format_number(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.6g", value);
  return text;
}

// Rank of each model by weight bytes (0 = smallest; equal sizes share a rank).
std::vector<int32_t> capability_ranks(const std::vector<ServedModel>& models) {
  std::vector<int64_t> sizes;
  for (const ServedModel& model : models) sizes.push_back(model.weight_bytes);
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  std::vector<int32_t> ranks;
  for (const ServedModel& model : models) {
    ranks.push_back(static_cast<int32_t>(std::lower_bound(sizes.begin(), sizes.end(), model.weight_bytes) - sizes.begin()));
  }
  return ranks;
}

}  // namespace

ModelRouter::ModelRouter(std::vector<ServedModel> models, std::vector<RouteSpec> routes, double usd_per_hour,
                         std::unique_ptr<OverflowClient> overflow, MetricsRegistry* metrics)
    : models_(std::move(models)), overflow_(std::move(overflow)) {
  CHECK(!models_.empty() || routes.empty(), "ModelRouter: routes over served models");
  capability_ranks_ = capability_ranks(models_);
  RouteSpec auto_route{kAutoRoute, {}};
  for (const ServedModel& model : models_) {
    auto_route.tiers.push_back(model.name);
    stats_.push_back(std::make_unique<TierStats>(tier_prior(model.weight_bytes, usd_per_hour)));
  }
  if (!models_.empty()) routes_.push_back(std::move(auto_route));  // no language model: no route at all
  for (RouteSpec& route : routes) routes_.push_back(std::move(route));
  if (metrics != nullptr) {
    metrics_ = register_route_metrics(*metrics);
    for (const ServedModel& model : models_) {
      metrics_->cost_usd->with({model.name});
      metrics_->tokens->with({model.name});
    }
    if (overflow_) {
      metrics_->cost_usd->with({kOverflowModelLabel});
      metrics_->tokens->with({kOverflowModelLabel});
    }
    refresh_gauges();
  }
}

const ServedModel* ModelRouter::find_model(const std::string& name, size_t* model_idx) const {
  for (size_t idx = 0; idx < models_.size(); ++idx) {
    if (models_[idx].name != name) continue;
    *model_idx = idx;
    return &models_[idx];
  }
  return nullptr;
}

const RouteSpec* ModelRouter::find_route(const std::string& name) const {
  for (const RouteSpec& route : routes_) {
    if (route.name == name) return &route;
  }
  return nullptr;
}

TierEstimate ModelRouter::estimate(size_t model_idx) const {
  const ServedModel& model = models_[model_idx];
  const EngineSnapshot snap = model.engine->snapshot();
  const double queue_factor = 1.0 + static_cast<double>(snap.waiting) / std::max(1, model.max_running);
  return TierEstimate{.name = model.name,
                      .capability_rank = capability_ranks_[model_idx],
                      .usd_per_million_tokens = stats_[model_idx]->usd_per_million_tokens(),
                      .ms_per_output_token = stats_[model_idx]->ms_per_output_token() * queue_factor};
}

Expected<RouteTarget> ModelRouter::resolve(const std::string& requested, const RouteNeeds& needs) const {
  if (models_.empty()) {
    return not_found("No language model is served here (video only: see /v1/videos); the model '" + requested +
                     "' does not exist");
  }
  const std::string name = requested.empty() ? (models_.size() == 1 ? models_[0].name : kAutoRoute) : requested;
  RouteTarget target;
  target.route = name;
  target.difficulty = needs.difficulty;
  if (const ServedModel* model = find_model(name, &target.model_idx)) {
    target.model = model;
    target.reason = RouteReason::kNamed;
    target.usd_per_million_tokens = stats_[target.model_idx]->usd_per_million_tokens();
    return target;
  }
  const RouteSpec* spec = find_route(name);
  if (spec == nullptr) return not_found("The model '" + name + "' does not exist");
  return route(*spec, needs);
}

Expected<RouteTarget> ModelRouter::route(const RouteSpec& spec, const RouteNeeds& needs) const {
  std::vector<TierEstimate> tiers;
  std::vector<size_t> model_idxs;
  for (const std::string& tier : spec.tiers) {
    size_t model_idx = 0;
    CHECK(find_model(tier, &model_idx) != nullptr, "ModelRouter: a route lists a served model");
    tiers.push_back(estimate(model_idx));
    model_idxs.push_back(model_idx);
  }
  auto decision = choose_tier(tiers, needs);
  if (!decision) return decision.error();
  RouteTarget target;
  target.route = spec.name;
  target.difficulty = needs.difficulty;
  target.model_idx = model_idxs[decision->tier_idx];
  target.model = &models_[target.model_idx];
  target.reason = decision->reason;
  target.usd_per_million_tokens = tiers[decision->tier_idx].usd_per_million_tokens;
  if (overflow_ && target.model->engine->snapshot().waiting >= overflow_->options().queue_threshold) {
    target.model = nullptr;
    target.reason = RouteReason::kOverflow;
    target.usd_per_million_tokens = overflow_->options().usd_per_million_output_tokens;
  }
  return target;
}

void ModelRouter::count_route(const RouteTarget& target) const {
  if (!metrics_) return;
  const std::string model = target.is_overflow() ? kOverflowModelLabel : target.model->name;
  metrics_->requests->with({target.route, model, route_reason_name(target.reason)}).inc();
}

void ModelRouter::record_finished(const RouteTarget& target, const Usage& usage, double e2e_seconds) const {
  if (!target.is_overflow()) stats_[target.model_idx]->record(usage, e2e_seconds);
  const std::string model = target.is_overflow() ? kOverflowModelLabel : target.model->name;
  access_note_usage(model, usage);
  if (!metrics_) return;
  metrics_->cost_usd->with({model}).inc(usage.cost_usd);
  metrics_->tokens->with({model}).inc(static_cast<double>(usage.prompt_tokens + usage.completion_tokens));
}

std::string ModelRouter::header_value(const RouteTarget& target) {
  const std::string model = target.is_overflow() ? kOverflowModelLabel : target.model->name;
  return "route=" + target.route + "; model=" + model + "; reason=" + route_reason_name(target.reason) +
         "; difficulty=" + difficulty_name(target.difficulty) +
         "; usd_per_mtok=" + format_number(target.usd_per_million_tokens);
}

void ModelRouter::refresh_gauges() const {
  if (!metrics_) return;
  for (size_t model_idx = 0; model_idx < models_.size(); ++model_idx) {
    const TierEstimate tier = estimate(model_idx);
    metrics_->tier_usd_per_million_tokens->with({tier.name}).set(tier.usd_per_million_tokens);
    metrics_->tier_seconds_per_output_token->with({tier.name}).set(tier.ms_per_output_token / 1000.0);
  }
}

}  // namespace frugal

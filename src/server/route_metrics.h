// The routing metric families (server layer), next to the serving ones (metrics/serving_metrics.h):
//   frugal_route_requests_total{route,model,reason}  counter  one per routed HTTP request: the route
//                                                              asked for ("auto", a --route name, or
//                                                              the model's own name), the model that
//                                                              served it ("overflow" for the external
//                                                              endpoint) and why (router.h's reasons)
//   frugal_route_cost_usd_total{model}               counter  the cost of every answered request by
//                                                              model: local ones from the live cost
//                                                              meter (usage.cost_usd), overflow ones
//                                                              from the upstream usage x its prices
//   frugal_route_tokens_total{model}                 counter  prompt + completion tokens of those requests
//   frugal_route_tier_usd_per_million_tokens{model}  gauge    the router's live cost estimate per tier
//   frugal_route_tier_seconds_per_output_token{model} gauge   its live latency estimate per tier
// The gauges are refreshed at each scrape.
#pragma once

#include "metrics/metrics.h"

namespace frugal {

struct RouteMetrics {
  CounterFamily* requests = nullptr;
  CounterFamily* cost_usd = nullptr;
  CounterFamily* tokens = nullptr;
  GaugeFamily* tier_usd_per_million_tokens = nullptr;
  GaugeFamily* tier_seconds_per_output_token = nullptr;
};

// Registers (or looks up, on a second call with the same registry) the routing families.
RouteMetrics register_route_metrics(MetricsRegistry& registry);

// The `model` label of requests served by the overflow endpoint.
inline constexpr const char* kOverflowModelLabel = "overflow";

}  // namespace frugal

#include "server/route_metrics.h"

namespace frugal {

RouteMetrics register_route_metrics(MetricsRegistry& r) {
  RouteMetrics m;
  m.requests = r.counter("frugal_route_requests_total", "Routed HTTP requests by route, chosen model and reason.",
                         {"route", "model", "reason"});
  m.cost_usd = r.counter("frugal_route_cost_usd_total",
                         "Cost of answered requests by model in US dollars (live meter or overflow prices).", {"model"});
  m.tokens = r.counter("frugal_route_tokens_total", "Prompt plus completion tokens of answered requests by model.",
                       {"model"});
  m.tier_usd_per_million_tokens = r.gauge("frugal_route_tier_usd_per_million_tokens",
                                          "The router's live cost estimate per tier in US dollars per million tokens.",
                                          {"model"});
  m.tier_seconds_per_output_token = r.gauge("frugal_route_tier_seconds_per_output_token",
                                            "The router's live latency estimate per tier (seconds per output token).",
                                            {"model"});
  return m;
}

}  // namespace frugal

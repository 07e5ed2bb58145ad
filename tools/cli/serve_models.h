// The models of `frugal serve` (tools layer): loads every --model, builds each one's engine
// options in one place (engine_options_for: where a per-model draft attaches), splits the one
// --kv-mem budget across the engines, and assembles the ModelRouter the HTTP server uses.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli_common.h"
#include "engine/llm_engine.h"
#include "engine/sampling_defaults.h"
#include "metrics/metrics.h"
#include "server/model_router.h"
#include "server/model_set.h"
#include "spec_flags.h"

namespace frugal::cli {

// The engine flags every served model shares.
struct ServeEngineFlags {
  int threads = 0;
  int64_t kv_mem_bytes = 0;  // one budget for all engines; 0 = automatic
  int32_t max_running = 64;
  int32_t max_waiting = 256;
  // Tokens per forward pass. 128, not the engine's 256: a server's first tokens wait for whole steps,
  // and prompts arriving together finish prefill one step apart instead of all at the end of one
  // long step (8 x 64-token prompts on 2 cores: mean TTFT 3.0 s at 512, ~1.7 s at 128, with the same
  // throughput at 8 and 32 concurrent; docs/PERFORMANCE.md, serving, session 7).
  int32_t step_token_budget = 128;
  int64_t ctx_size = 0;
  bool no_prefix_cache = false;
  double usd_per_hour = 0;
  SpecFlags spec;                   // --spec / --spec-k / --spec-always for every model
  std::vector<std::string> drafts;  // --draft PATH (one model) or NAME=PATH (several)
};

// One served model: its weights, tokenizer and engine (declared in that destruction order's reverse).
struct ServingModel {
  ModelSpec spec;
  LoadedModel loaded;
  SamplingDefaults sampling_defaults;  // the GGUF's general.sampling.* keys
  std::unique_ptr<Model> draft;  // its speculative-decoding draft, if declared
  SpecOptions speculation;
  std::unique_ptr<LlmEngine> engine;
};

// The engine options of one model, given its share of the KV budget and its speculation.
EngineOptions engine_options_for(const ServeEngineFlags& flags, int64_t kv_mem_bytes, const SpecOptions& speculation);

// Loads every model and starts one engine each on the shared registry; the KV budget is split in
// proportion to each model's want (bytes per token x context x max running; see split_kv_budget),
// the automatic budget being min(sum of wants, 25% of available memory), as one engine's is.
Expected<std::vector<ServingModel>> start_models(const std::vector<ModelSpec>& specs, const ServeEngineFlags& flags,
                                                 MetricsRegistry* registry);

// The router over the started models (which must outlive it).
std::unique_ptr<ModelRouter> make_router(const std::vector<ServingModel>& models, std::vector<RouteSpec> routes,
                                         const ServeEngineFlags& flags, std::unique_ptr<OverflowClient> overflow,
                                         MetricsRegistry* registry);

}  // namespace frugal::cli

// Prompt moderation for `frugal serve` (tools layer), on by default: the policy is --moderation-policy
// FILE (trust/moderation_policy.h), else the shipped one compiled into the binary
// (data/trust/moderation-policy.json); --no-moderation turns it off. Optionally --guard-model FILE, a Llama Guard 3 GGUF run on its own engine
// (server/guard_model.h). A malformed policy or an unloadable guard stops start-up with an error.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "cli_common.h"
#include "engine/llm_engine.h"
#include "metrics/metrics.h"
#include "server/guard_model.h"
#include "serve_models.h"
#include "trust/moderator.h"

namespace frugal::cli {

struct ServeModerationFlags {
  std::string policy_file;   // "" -> the built-in policy
  bool off = false;          // --no-moderation (a warning is printed)
  std::string guard_model;   // "" -> terms and patterns only
  double guard_timeout_s = 30.0;
};

void add_serve_moderation_flags(CLI::App& cmd, ServeModerationFlags& flags);

// Owns the guard's weights and engine and the moderator (members in destruction-safe order).
struct ServeModeration {
  LoadedModel guard_model;
  std::unique_ptr<LlmEngine> guard_engine;
  std::unique_ptr<EngineGuard> guard;
  std::unique_ptr<trust::Moderator> moderator;  // null: moderation off
};

// Loads the policy (fast: call before the served models load) and the guard model, if named.
// Decisions are counted on `registry`; the guard engine reports no metrics (its tokens are not
// the served models' tokens).
Expected<std::unique_ptr<ServeModeration>> start_moderation(const ServeModerationFlags& flags,
                                                            const ServeEngineFlags& engine_flags,
                                                            MetricsRegistry* registry);

}  // namespace frugal::cli

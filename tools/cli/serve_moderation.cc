#include "serve_moderation.h"

#include <cstdio>

namespace frugal::cli {
namespace {

// The guard answers one prompt at a time per request; a few at once keep moderation off the
// critical path of concurrent requests without reserving KV for a full batch.
constexpr int32_t kGuardMaxRunning = 4;
constexpr const char* kBuiltInPolicyName = "built-in policy (data/trust/moderation-policy.json)";

std::string describe(const trust::ModerationPolicy& policy) {
  std::string text;
  for (const trust::PolicyCategory& category : policy.categories) {
    text += (text.empty() ? "" : ", ") + category.name + "=" + trust::moderation_action_name(category.action);
  }
  return text;
}

}  // namespace

void add_serve_moderation_flags(CLI::App& cmd, ServeModerationFlags& flags) {
  cmd.add_option("--moderation-policy", flags.policy_file,
                 "Prompt moderation policy (JSON; default: the shipped data/trust/moderation-policy.json, built in): "
                 "categories of terms and patterns, each allow, block (HTTP 400 content_policy_violation) or hold "
                 "(video: held for review); see docs/design/trust-moderation.md");
  cmd.add_flag("--no-moderation", flags.off, "Serve every prompt unmoderated (no policy, no guard)")
      ->excludes("--moderation-policy");
  cmd.add_option("--guard-model", flags.guard_model,
                 "Llama Guard 3 GGUF run on its own engine for every prompt the policy does not already block; "
                 "its S1..S14 answers map to the policy's guard_categories");
  cmd.add_option("--guard-timeout", flags.guard_timeout_s,
                 "Seconds the guard model gets per prompt (beyond: treated as an unparseable answer)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

Expected<std::unique_ptr<ServeModeration>> start_moderation(const ServeModerationFlags& flags,
                                                            const ServeEngineFlags& engine_flags,
                                                            MetricsRegistry* registry) {
  auto moderation = std::make_unique<ServeModeration>();
  if (flags.off) {
    if (!flags.guard_model.empty()) {
      return invalid_argument("--guard-model needs moderation on (a policy maps the guard's S1..S14 codes to actions); "
                              "drop --no-moderation");
    }
    std::fprintf(stderr, "frugal: warning: --no-moderation: prompts are not moderated\n");
    return moderation;
  }
  const bool built_in = flags.policy_file.empty();
  auto policy = built_in ? trust::parse_moderation_policy(trust::built_in_moderation_policy_json(), kBuiltInPolicyName)
                         : trust::load_moderation_policy(flags.policy_file);
  if (!policy) return policy.error();
  const std::string summary = describe(*policy);
  auto moderator = trust::Moderator::create(std::move(*policy), registry);
  if (!moderator) return moderator.error();
  moderation->moderator = std::move(*moderator);
  std::printf("frugal: moderation: %s (%s)\n", built_in ? kBuiltInPolicyName : flags.policy_file.c_str(), summary.c_str());
  if (flags.guard_model.empty()) return moderation;

  auto loaded = load_model(flags.guard_model);
  if (!loaded) return Status(loaded.error().code(), "--guard-model: " + loaded.error().message());
  moderation->guard_model = std::move(*loaded);
  EngineOptions options = engine_options_for(engine_flags, /*kv_mem_bytes=*/0, SpecOptions{});
  options.max_running = kGuardMaxRunning;
  auto engine = LlmEngine::create(*moderation->guard_model.model, *moderation->guard_model.tokenizer, options,
                                  /*metrics=*/nullptr);
  if (!engine) return Status(engine.error().code(), "--guard-model: " + engine.error().message());
  moderation->guard_engine = std::move(*engine);
  moderation->guard = std::make_unique<EngineGuard>(
      *moderation->guard_engine, *moderation->guard_model.tokenizer,
      std::chrono::milliseconds(static_cast<int64_t>(flags.guard_timeout_s * 1000.0)));
  moderation->moderator->set_guard(moderation->guard.get());
  std::printf("frugal: moderation: guard model %s (Llama Guard 3 format)\n", flags.guard_model.c_str());
  return moderation;
}

}  // namespace frugal::cli

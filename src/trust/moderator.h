// Prompt moderation (trust layer): a compiled policy (terms, patterns), an optional guard model,
// and the decision counters. The server asks it about every prompt before anything reaches a model.
// Threading contract: check() is const and thread-safe once constructed (the guard serialises its
// own use, see GuardClassifier).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"
#include "metrics/metrics.h"
#include "trust/llama_guard.h"
#include "trust/moderation_policy.h"
#include "trust/term_matcher.h"

namespace frugal::trust {

// The small interface other parts (the review queue, the audit log) read.
struct ModerationVerdict {
  ModerationAction action = ModerationAction::kAllow;
  std::string category;      // "" when nothing matched; else the policy category (or "guard_S5" unmapped)
  std::string matched_term;  // the term or pattern as the policy wrote it, or "S1,S10" for the guard
  std::string source;        // "term" | "pattern" | "guard" | "" (nothing matched)
  bool blocked() const { return action == ModerationAction::kBlock; }
  bool held() const { return action == ModerationAction::kHold; }
};

// Runs a guard model on a formatted Llama Guard prompt and returns its raw answer text.
// Implementations must be thread-safe (server/guard_model.h runs it on an engine).
class GuardClassifier {
 public:
  virtual ~GuardClassifier() = default;
  virtual Expected<std::string> classify(const GuardPrompt& prompt) const = 0;
};

class Moderator {
 public:
  // Compiles terms and patterns; errors name the policy file and the field
  // ("categories[0].patterns[2]: ...: missing closing parenthesis at offset 7").
  // `metrics` may be null; else frugal_moderation_decisions_total{route,category,action} is registered.
  static Expected<std::unique_ptr<Moderator>> create(ModerationPolicy policy, MetricsRegistry* metrics);
  ~Moderator();

  // Optional; must outlive the moderator. Without one, only terms and patterns decide.
  void set_guard(const GuardClassifier* guard) { guard_ = guard; }
  bool has_guard() const { return guard_ != nullptr; }

  // The verdict for a request's texts (every prompt, every chat message content). `route` labels the
  // decision counter ("video", "completions", "chat_completions"). The most severe match wins;
  // within one action, the policy's category order. The guard runs only when no term or pattern
  // already blocks; a guard error (not an answer) counts as an unparseable answer.
  ModerationVerdict check(const std::vector<std::string_view>& texts, std::string_view route) const;

  const ModerationPolicy& policy() const { return policy_; }

 private:
  Moderator();
  ModerationVerdict check_text(const NormalizedText& text, ModerationAction action) const;
  ModerationVerdict check_guard(const std::vector<std::string_view>& texts) const;
  void count(const ModerationVerdict& verdict, std::string_view route) const;

  struct Pattern;
  ModerationPolicy policy_;
  std::unique_ptr<TermMatcher> terms_;
  std::vector<Pattern> patterns_;
  const GuardClassifier* guard_ = nullptr;
  CounterFamily* decisions_ = nullptr;
};

}  // namespace frugal::trust

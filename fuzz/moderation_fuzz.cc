// libFuzzer target for prompt moderation: the first byte picks the input's role. Even: the bytes are
// a policy file (parsed, then compiled: terms folded, patterns compiled), so a malformed policy must
// be an error, never a crash. Odd: the bytes are a prompt checked against a fixed policy with every
// kind of rule (normalisation, leet, spacing, multi-word terms, a pattern, a guard answer parsed).
// Build: -DFRUGAL_FUZZ=ON with clang; run: scripts/run-fuzz BUILD_DIR SECONDS.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "trust/llama_guard.h"
#include "trust/moderator.h"

namespace {

const frugal::trust::Moderator& fixed_moderator() {
  static const frugal::trust::Moderator* moderator = [] {
    auto policy = frugal::trust::parse_moderation_policy(R"({"version": 1, "categories": [
      {"name": "a", "action": "block", "terms": ["kill", "pipe bomb", "ass", "bookkeeper"], "guard_categories": ["S1"]},
      {"name": "b", "action": "hold", "terms": ["self harm"], "patterns": ["\\bhow to (make|build) an? bomb\\b", "(a+)+$"]},
      {"name": "c", "action": "allow", "terms": ["x"]}]})", "fuzz");
    if (!policy) __builtin_trap();
    auto created = frugal::trust::Moderator::create(std::move(*policy), nullptr);
    if (!created) __builtin_trap();
    return created->release();
  }();
  return *moderator;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] % 2 == 0) {
    auto policy = frugal::trust::parse_moderation_policy(rest, "fuzz.json");
    if (policy) (void)frugal::trust::Moderator::create(std::move(*policy), nullptr);
    return 0;
  }
  const frugal::trust::ModerationVerdict verdict = fixed_moderator().check({rest}, "fuzz");
  if (!verdict.category.empty() && verdict.source.empty()) __builtin_trap();
  const frugal::trust::GuardAnswer answer = frugal::trust::parse_llama_guard_answer(rest);
  if (answer.outcome != frugal::trust::GuardOutcome::kUnsafe && !answer.codes.empty()) __builtin_trap();
  (void)frugal::trust::format_llama_guard_prompt(rest);
  return 0;
}

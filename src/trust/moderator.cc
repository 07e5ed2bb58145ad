#include "trust/moderator.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/logging.h"
#include "metrics/metrics.h"
#include "trust/llama_guard.h"

namespace frugal::trust {
namespace {

// Bounds a pattern's backtracking on hostile prompts (PCRE2's match and depth limits): a pattern
// that hits them counts as matched (fail closed) and is logged, so the operator can fix it.
constexpr uint32_t kPatternMatchLimit = 1'000'000;
constexpr uint32_t kPatternDepthLimit = 10'000;

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof(buffer));
  return reinterpret_cast<const char*>(buffer);
}

}  // namespace

struct Moderator::Pattern {
  std::string text;
  size_t category_idx = 0;
  std::shared_ptr<pcre2_code> code;
};

Moderator::Moderator() = default;
Moderator::~Moderator() = default;

Expected<std::unique_ptr<Moderator>> Moderator::create(ModerationPolicy policy, MetricsRegistry* metrics) {
  std::unique_ptr<Moderator> moderator(new Moderator());
  std::vector<CompiledTerm> terms;
  for (size_t category_idx = 0; category_idx < policy.categories.size(); ++category_idx) {
    const PolicyCategory& category = policy.categories[category_idx];
    const std::string field = "categories[" + std::to_string(category_idx) + "]";
    for (size_t term_idx = 0; term_idx < category.terms.size(); ++term_idx) {
      auto term = compile_term(category.terms[term_idx], category_idx);
      if (!term) {
        return invalid_argument("moderation policy " + policy.source + ": " + field + ".terms[" +
                                std::to_string(term_idx) + "]: " + term.error().message());
      }
      terms.push_back(std::move(*term));
    }
    for (size_t pattern_idx = 0; pattern_idx < category.patterns.size(); ++pattern_idx) {
      const std::string& text = category.patterns[pattern_idx];
      int error_code = 0;
      PCRE2_SIZE error_offset = 0;
      pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(),
                                       PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS, &error_code, &error_offset, nullptr);
      if (code == nullptr) {
        return invalid_argument("moderation policy " + policy.source + ": " + field + ".patterns[" +
                                std::to_string(pattern_idx) + "]: " + pcre2_message(error_code) + " at offset " +
                                std::to_string(error_offset) + " of \"" + text + "\"");
      }
      moderator->patterns_.push_back(Pattern{text, category_idx, std::shared_ptr<pcre2_code>(code, pcre2_code_free)});
    }
  }
  moderator->terms_ = std::make_unique<TermMatcher>(std::move(terms));
  moderator->policy_ = std::move(policy);
  if (metrics != nullptr) {
    moderator->decisions_ = metrics->counter("frugal_moderation_decisions_total",
                                             "Prompt moderation decisions, by route, matched category and action",
                                             {"route", "category", "action"});
  }
  return moderator;
}

// The first category of `action` (policy order) whose terms or patterns match.
ModerationVerdict Moderator::check_text(const NormalizedText& text, ModerationAction action) const {
  ModerationVerdict verdict;
  const auto has_action = [this, action](size_t category_idx) { return policy_.categories[category_idx].action == action; };
  size_t best_category = policy_.categories.size();
  if (const CompiledTerm* term = terms_->find(text, has_action)) {
    best_category = term->category_idx;
    verdict.matched_term = term->text;
    verdict.source = "term";
  }
  pcre2_match_context* context = pcre2_match_context_create(nullptr);
  pcre2_set_match_limit(context, kPatternMatchLimit);
  pcre2_set_depth_limit(context, kPatternDepthLimit);
  for (const Pattern& pattern : patterns_) {
    if (!has_action(pattern.category_idx) || pattern.category_idx >= best_category) continue;
    pcre2_match_data* match = pcre2_match_data_create_from_pattern(pattern.code.get(), nullptr);
    const int rc = pcre2_match(pattern.code.get(), reinterpret_cast<PCRE2_SPTR>(text.folded_utf8.data()),
                               text.folded_utf8.size(), 0, 0, match, context);
    pcre2_match_data_free(match);
    if (rc == PCRE2_ERROR_NOMATCH) continue;
    if (rc < 0) log_warn("moderation pattern \"" + pattern.text + "\" failed (" + pcre2_message(rc) + "): counted as a match");
    best_category = pattern.category_idx;
    verdict.matched_term = pattern.text;
    verdict.source = "pattern";
  }
  pcre2_match_context_free(context);
  if (best_category == policy_.categories.size()) return ModerationVerdict{};
  verdict.action = action;
  verdict.category = policy_.categories[best_category].name;
  return verdict;
}

ModerationVerdict Moderator::check_guard(const std::vector<std::string_view>& texts) const {
  std::string message;
  for (std::string_view text : texts) {
    if (!message.empty()) message += "\n\n";
    message += text;
  }
  ModerationVerdict verdict;
  verdict.source = "guard";
  auto answer_text = guard_->classify(format_llama_guard_prompt(message));
  if (!answer_text) log_warn("guard model failed: " + answer_text.error().to_string());
  const GuardAnswer answer = answer_text ? parse_llama_guard_answer(*answer_text) : GuardAnswer{};
  if (answer.outcome == GuardOutcome::kSafe) return ModerationVerdict{};
  if (answer.outcome == GuardOutcome::kUnparseable) {
    verdict.action = policy_.guard_unparseable;
    verdict.category = "guard_unparseable";
    verdict.matched_term = answer_text ? answer_text->substr(0, 64) : answer_text.error().message();
    return verdict;
  }
  // unsafe: the most severe policy category any code maps to; codes no category names -> unmapped.
  for (size_t code_idx = 0; code_idx < answer.codes.size(); ++code_idx) {
    verdict.matched_term += (code_idx > 0 ? "," : "") + answer.codes[code_idx];
  }
  verdict.action = policy_.guard_unmapped;
  verdict.category = answer.codes.empty() ? "guard_unsafe" : "guard_" + answer.codes.front();
  bool mapped = false;
  for (const std::string& code : answer.codes) {
    for (const PolicyCategory& category : policy_.categories) {
      for (const std::string& guard_code : category.guard_categories) {
        if (guard_code != code) continue;
        if (!mapped || category.action > verdict.action) {
          verdict.action = category.action;
          verdict.category = category.name;
        }
        mapped = true;
      }
    }
  }
  return verdict;
}

ModerationVerdict Moderator::check(const std::vector<std::string_view>& texts, std::string_view route) const {
  ModerationVerdict verdict;
  std::vector<NormalizedText> normalized;
  for (std::string_view text : texts) {
    auto parsed = normalize_text(text);
    if (!parsed) {  // invalid UTF-8 never gets here from the API (its parsers refuse it): fail closed
      verdict = ModerationVerdict{ModerationAction::kBlock, "unreadable_text", "", "term"};
      count(verdict, route);
      return verdict;
    }
    normalized.push_back(std::move(*parsed));
  }
  for (ModerationAction action : {ModerationAction::kBlock, ModerationAction::kHold, ModerationAction::kAllow}) {
    for (const NormalizedText& text : normalized) {
      verdict = check_text(text, action);
      if (!verdict.category.empty()) break;
    }
    if (!verdict.category.empty()) break;
  }
  if (guard_ != nullptr && !verdict.blocked()) {
    ModerationVerdict guard_verdict = check_guard(texts);
    if (!guard_verdict.category.empty() && (verdict.category.empty() || guard_verdict.action > verdict.action)) {
      verdict = std::move(guard_verdict);
    }
  }
  count(verdict, route);
  return verdict;
}

void Moderator::count(const ModerationVerdict& verdict, std::string_view route) const {
  if (decisions_ == nullptr) return;
  decisions_->with({std::string(route), verdict.category.empty() ? "none" : verdict.category,
                    moderation_action_name(verdict.action)})
      .inc();
}

}  // namespace frugal::trust

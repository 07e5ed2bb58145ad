#include "trust/post_check.h"

namespace frugal::trust {

std::vector<CheckOutcome> run_post_checks(const PostChecks& checks, const PostCheckInput& input) {
  std::vector<CheckOutcome> outcomes;
  for (const auto& check : checks) {
    auto outcome = check->run(input);
    if (outcome) {
      outcomes.push_back(*outcome);
    } else {
      outcomes.push_back(CheckOutcome{check->name(), true, "the check could not run: " + outcome.error().to_string()});
    }
  }
  return outcomes;
}

bool any_hold(const std::vector<CheckOutcome>& outcomes) {
  for (const CheckOutcome& outcome : outcomes) {
    if (outcome.hold) return true;
  }
  return false;
}

}  // namespace frugal::trust

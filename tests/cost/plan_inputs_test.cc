// Range checks of the planner's inputs: out-of-range values are errors naming the flag and range.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "cost/plan_inputs.h"

namespace frugal {
namespace {

TEST(PlanInputs, RangesAreEnforcedWithClearMessages) {
  EXPECT_TRUE(check_fraction("--utilisation", 1.0).is_ok());
  EXPECT_TRUE(check_fraction("--utilisation", 0.3).is_ok());
  for (double bad : {0.0, 5.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    const Status s = check_fraction("--utilisation", bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("--utilisation must be a fraction in (0, 1]"), std::string::npos) << s.message();
  }
  EXPECT_NE(check_positive("--usd-per-hour", -4).message().find("(got -4)"), std::string::npos);
  EXPECT_FALSE(check_positive("--usd-per-hour", 0).is_ok());
  EXPECT_TRUE(check_non_negative("--volume", 0).is_ok());
  EXPECT_FALSE(check_non_negative("--volume", -1).is_ok());
  EXPECT_FALSE(check_at_least("--batch", 0, 1).is_ok());
  EXPECT_TRUE(check_at_least("--batch", 1, 1).is_ok());
}

}  // namespace
}  // namespace frugal

// Range checks of the planner's numeric inputs (cost layer). Each returns kInvalidArgument naming
// the input (a CLI flag such as "--utilisation") and the accepted range, so that a bad value is an
// error rather than a silent default: `--utilisation 0` would price tokens at USD 0, `--mbu -1`
// would fall back to the default without a word.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace frugal {

// A fraction of a whole, in (0, 1]: utilisation, MBU, MFU, attention density.
Status check_fraction(std::string_view name, double value);
// A finite value > 0: prices, rates, durations.
Status check_positive(std::string_view name, double value);
// A finite value >= 0 (0 usually means "not set").
Status check_non_negative(std::string_view name, double value);
// An integer >= min: batch sizes, device counts, token counts.
Status check_at_least(std::string_view name, int64_t value, int64_t min);

}  // namespace frugal

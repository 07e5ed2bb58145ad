// The shortest text of part of a grammar sequence (grammar layer, used by Grammar::finalize and
// JsonMatcher::min_remaining).
#pragma once

#include <cstddef>
#include <cstdint>

#include "grammar/grammar.h"

namespace frugal {

// Bytes of the shortest text of a sequence's parts from `from` on; `variant` is the choice already
// made (-1: none yet; a kChoice among the parts counts with its value).
int64_t sequence_min_bytes(const Grammar& grammar, const Node& sequence, size_t from, int32_t variant);

}  // namespace frugal

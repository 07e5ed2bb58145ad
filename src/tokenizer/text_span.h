// A byte range of a text (tokenizer layer): [begin, end) offsets into one string.
#pragma once

#include <cstddef>

namespace frugal {

struct TextSpan {
  size_t begin = 0;  // bytes from the start of the text
  size_t end = 0;    // one past the last byte; begin <= end

  bool overlaps(size_t other_begin, size_t other_end) const { return begin < other_end && other_begin < end; }
};

}  // namespace frugal

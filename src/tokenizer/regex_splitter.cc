// PCRE2 wrapper for pre-tokenization (tokenizer layer).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/regex_splitter.h"

#include <pcre2.h>

#include <string>

#include "core/check.h"

namespace frugal {

struct RegexSplitter::Code {
  pcre2_code* code = nullptr;
  ~Code() { pcre2_code_free(code); }
};

namespace {

struct MatchDataDeleter {
  void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};

}  // namespace

RegexSplitter::RegexSplitter(std::unique_ptr<Code> code) : code_(std::move(code)) {}
RegexSplitter::RegexSplitter(RegexSplitter&&) noexcept = default;
RegexSplitter& RegexSplitter::operator=(RegexSplitter&&) noexcept = default;
RegexSplitter::~RegexSplitter() = default;

Expected<RegexSplitter> RegexSplitter::create(std::string_view pattern) {
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP, &error_code, &error_offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error_code, message, sizeof(message));
    return internal_error("tokenizer: cannot compile pre-tokenizer regex at offset " + std::to_string(error_offset) +
                          ": " + reinterpret_cast<const char*>(message));
  }
  // JIT is an optimisation only: when it is unavailable pcre2_match interprets the pattern.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  auto holder = std::make_unique<Code>();
  holder->code = code;
  return RegexSplitter(std::move(holder));
}

void RegexSplitter::split(std::string_view text, std::vector<std::string_view>* pieces) const {
  if (text.empty()) return;
  std::unique_ptr<pcre2_match_data, MatchDataDeleter> match(
      pcre2_match_data_create_from_pattern(code_->code, nullptr));
  CHECK(match != nullptr, "pcre2_match_data_create_from_pattern failed (out of memory)");
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t emitted = 0;  // end of the last piece appended
  size_t start = 0;
  while (start < text.size()) {
    const int rc = pcre2_match(code_->code, subject, text.size(), start, PCRE2_NO_UTF_CHECK, match.get(), nullptr);
    if (rc < 0) break;  // PCRE2_ERROR_NOMATCH (or a resource limit): the rest is one gap
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.get());
    const size_t match_begin = ovector[0];
    const size_t match_end = ovector[1];
    if (match_begin > emitted) {
      pieces->push_back(text.substr(emitted, match_begin - emitted));
      emitted = match_begin;
    }
    if (match_end > match_begin) {
      pieces->push_back(text.substr(match_begin, match_end - match_begin));
      emitted = match_end;
      start = match_end;
    } else {
      // Empty match: step over one code point so the loop always advances.
      start = match_end + 1;
      while (start < text.size() && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80) ++start;
    }
  }
  if (emitted < text.size()) pieces->push_back(text.substr(emitted));
}

}  // namespace frugal

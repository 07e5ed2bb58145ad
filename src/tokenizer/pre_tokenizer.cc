// Pre-tokenizer catalogue (tokenizer layer). The regexes are the ones the upstream tokenizers
// publish in their tokenizer.json (GPT-2, Llama 3, Qwen2).
#include "tokenizer/pre_tokenizer.h"

#include <array>

namespace frugal {
namespace {

// Llama 3 (tiktoken cl100k-style): case-insensitive contractions, letters with one optional
// leading non-letter, digits in groups of up to three, punctuation runs with trailing newlines.
constexpr std::string_view kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// Qwen2: the Llama 3 pattern with single digits.
constexpr std::string_view kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// GPT-2.
constexpr std::string_view kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

constexpr PreTokenizerSpec kLlama3{"llama-bpe", kLlama3Regex, /*ignore_merges=*/true,
                                   /*clean_spaces=*/true, /*default_add_bos=*/true};
constexpr PreTokenizerSpec kQwen2{"qwen2", kQwen2Regex, /*ignore_merges=*/false,
                                  /*clean_spaces=*/false, /*default_add_bos=*/false};
constexpr PreTokenizerSpec kGpt2{"default", kGpt2Regex, /*ignore_merges=*/false,
                                 /*clean_spaces=*/true, /*default_add_bos=*/false};

struct Alias {
  std::string_view gguf_name;
  const PreTokenizerSpec* spec;
};

// The aliases llama.cpp maps onto the same regex and flags.
constexpr std::array<Alias, 12> kAliases = {{
    {"llama-bpe", &kLlama3},
    {"llama3", &kLlama3},
    {"llama-v3", &kLlama3},
    {"falcon3", &kLlama3},
    {"falcon-h1", &kLlama3},
    {"pixtral", &kLlama3},
    {"qwen2", &kQwen2},
    {"deepseek-r1-qwen", &kQwen2},
    {"megrez", &kQwen2},
    {"default", &kGpt2},
    {"gpt-2", &kGpt2},
    {"gpt2", &kGpt2},
}};

}  // namespace

const PreTokenizerSpec* find_pre_tokenizer(std::string_view gguf_pre_name) {
  for (const Alias& alias : kAliases) {
    if (alias.gguf_name == gguf_pre_name) return alias.spec;
  }
  return nullptr;
}

}  // namespace frugal

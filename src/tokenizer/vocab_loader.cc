// load_vocab: GGUF tokenizer.* metadata -> Vocab (tokenizer layer). Defaults follow llama.cpp
// where a key is optional; a present key with a bad value is an error naming it.
#include <algorithm>
#include <array>
#include <string>

#include "core/logging.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/vocab.h"

namespace frugal {
namespace {

constexpr std::string_view kModelKey = "tokenizer.ggml.model";
constexpr std::string_view kPreKey = "tokenizer.ggml.pre";
constexpr std::string_view kTokensKey = "tokenizer.ggml.tokens";
constexpr std::string_view kScoresKey = "tokenizer.ggml.scores";
constexpr std::string_view kTypesKey = "tokenizer.ggml.token_type";

// Token texts llama.cpp treats as end of generation wherever they appear in a vocabulary.
constexpr std::array<std::string_view, 12> kEogTexts = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>",
    "<EOT>",      "_<EOT>",     "<|end_of_text|>", "<｜end▁of▁sentence｜>", "<|return|>", "<|call|>",
};
// Candidates for eot_id when tokenizer.ggml.eot_token_id is absent (first match in this order).
constexpr std::array<std::string_view, 8> kEotTexts = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "_<EOT>",
    "<｜end▁of▁sentence｜>",
};

Status with_context(const Status& status) { return Status(status.code(), "tokenizer: " + status.message()); }

Status read_model_and_pre(const GgufFile& file, Vocab* vocab) {
  auto model = file.get_string(kModelKey);
  if (!model) return with_context(model.error());
  vocab->model_name = *model;
  if (*model == "gpt2") {
    vocab->type = VocabType::kBpe;
  } else if (*model == "llama") {
    vocab->type = VocabType::kSpm;
  } else {
    return unimplemented("tokenizer: unsupported tokenizer model '" + *model + "' in key " +
                         std::string(kModelKey) + " (supported: gpt2, llama)");
  }
  if (vocab->type == VocabType::kSpm) {
    vocab->pre_name = "default";
    return Status::ok();
  }
  // A missing pre key is an old conversion: llama.cpp falls back to "default" with a warning, and
  // so do we. A present but unknown name is an error: the wrong regex silently changes every id.
  if (!file.has(kPreKey)) log_warn("tokenizer: no tokenizer.ggml.pre key; using the 'default' (GPT-2) pre-tokenizer");
  auto pre = file.get_string_or(kPreKey, "default");
  if (!pre) return with_context(pre.error());
  const PreTokenizerSpec* spec = find_pre_tokenizer(*pre);
  if (spec == nullptr) {
    return unimplemented("tokenizer: unsupported pre-tokenizer '" + *pre + "' in key " + std::string(kPreKey) +
                         " (supported: llama-bpe and its aliases, qwen2, default)");
  }
  vocab->pre_name = std::string(spec->name);
  vocab->ignore_merges = spec->ignore_merges;
  vocab->clean_spaces = spec->clean_spaces;
  vocab->add_bos = spec->default_add_bos;
  return Status::ok();
}

Status read_tokens(const GgufFile& file, Vocab* vocab) {
  auto texts = file.get_string_array(kTokensKey);
  if (!texts) return with_context(texts.error());
  const size_t n_vocab = texts->size();
  if (n_vocab == 0) return invalid_argument("tokenizer: key " + std::string(kTokensKey) + " is empty");
  if (n_vocab > static_cast<size_t>(INT32_MAX)) {
    return invalid_argument("tokenizer: key " + std::string(kTokensKey) + " has too many tokens");
  }
  std::vector<double> scores;
  if (file.has(kScoresKey) || vocab->type == VocabType::kSpm) {  // SPM merges are driven by scores
    auto got = file.get_float_array(kScoresKey);
    if (!got) return with_context(got.error());
    if (got->size() != n_vocab) {
      return invalid_argument("tokenizer: key " + std::string(kScoresKey) + " has " + std::to_string(got->size()) +
                              " entries, expected " + std::to_string(n_vocab) + " (one per token)");
    }
    scores = std::move(*got);
  }
  std::vector<int64_t> types;
  if (file.has(kTypesKey)) {
    auto got = file.get_int_array(kTypesKey);
    if (!got) return with_context(got.error());
    if (got->size() != n_vocab) {
      return invalid_argument("tokenizer: key " + std::string(kTypesKey) + " has " + std::to_string(got->size()) +
                              " entries, expected " + std::to_string(n_vocab) + " (one per token)");
    }
    types = std::move(*got);
  }
  vocab->tokens.resize(n_vocab);
  for (size_t id = 0; id < n_vocab; ++id) {
    TokenData& token = vocab->tokens[id];
    token.text = std::move((*texts)[id]);
    if (!scores.empty()) token.score = static_cast<float>(scores[id]);
    if (!types.empty()) {
      if (types[id] < 0 || types[id] > static_cast<int64_t>(TokenType::kByte)) {
        return invalid_argument("tokenizer: key " + std::string(kTypesKey) + "[" + std::to_string(id) +
                                "] = " + std::to_string(types[id]) + " is not a token type (0..6)");
      }
      token.type = static_cast<TokenType>(types[id]);
    }
  }
  vocab->token_index.build(n_vocab, [vocab](size_t id) -> std::string_view { return vocab->tokens[id].text; });
  return Status::ok();
}

// Reads an optional special-token id. Absent -> fallback (or -1 if that is out of range).
// Present but out of range: an error when `required`, else a warning and -1.
Expected<int32_t> read_special_id(const GgufFile& file, std::string_view key, int32_t fallback, int32_t n_vocab,
                                  bool required) {
  if (!file.has(key)) return (fallback >= 0 && fallback < n_vocab) ? fallback : -1;
  auto id = file.get_int(key);
  if (!id) return with_context(id.error());
  if (*id >= 0 && *id < n_vocab) return static_cast<int32_t>(*id);
  const std::string message = "tokenizer: key " + std::string(key) + " = " + std::to_string(*id) +
                              " is outside the vocabulary [0, " + std::to_string(n_vocab) + ")";
  if (required && *id >= 0) return invalid_argument(message);
  if (*id >= 0) log_warn(message + "; ignored");
  return -1;
}

int32_t find_first_text(const Vocab& vocab, const auto& candidates) {
  for (std::string_view text : candidates) {
    const int32_t id = vocab.find(text);
    if (id >= 0) return id;
  }
  return -1;
}

Status read_special_ids(const GgufFile& file, Vocab* vocab) {
  const bool spm = vocab->type == VocabType::kSpm;
  const int32_t n = vocab->n_vocab();
  // llama.cpp's defaults: SPM bos 1, eos 2, unk 0; GPT-2 BPE bos = eos = 11.
  auto bos = read_special_id(file, "tokenizer.ggml.bos_token_id", spm ? 1 : 11, n, /*required=*/true);
  if (!bos) return bos.error();
  auto eos = read_special_id(file, "tokenizer.ggml.eos_token_id", spm ? 2 : 11, n, /*required=*/true);
  if (!eos) return eos.error();
  auto unk = read_special_id(file, "tokenizer.ggml.unknown_token_id", spm ? 0 : -1, n, false);
  if (!unk) return unk.error();
  auto eot = read_special_id(file, "tokenizer.ggml.eot_token_id", -1, n, false);
  if (!eot) return eot.error();
  auto eom = read_special_id(file, "tokenizer.ggml.eom_token_id", -1, n, false);
  if (!eom) return eom.error();
  vocab->bos_id = *bos;
  vocab->eos_id = *eos;
  vocab->unk_id = *unk;
  vocab->eot_id = file.has("tokenizer.ggml.eot_token_id") ? *eot : find_first_text(*vocab, kEotTexts);
  vocab->eom_id = file.has("tokenizer.ggml.eom_token_id") ? *eom : vocab->find("<|eom_id|>");
  return Status::ok();
}

void collect_eog_ids(Vocab* vocab) {
  std::vector<int32_t> ids;
  for (int32_t id : {vocab->eos_id, vocab->eot_id, vocab->eom_id}) {
    if (id >= 0) ids.push_back(id);
  }
  for (std::string_view text : kEogTexts) {
    const int32_t id = vocab->find(text);
    if (id < 0) continue;
    ids.push_back(id);
    TokenData& token = vocab->tokens[id];
    if (token.type != TokenType::kControl && token.type != TokenType::kUserDefined) {
      // As llama.cpp does: an end-of-turn marker typed as text is a conversion bug.
      log_warn("tokenizer: end-of-generation token " + std::to_string(id) + " '" + token.text +
               "' is not a control token; treating it as one");
      token.type = TokenType::kControl;
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  vocab->eog_ids = std::move(ids);
}

Status read_flags(const GgufFile& file, Vocab* vocab) {
  const bool spm = vocab->type == VocabType::kSpm;
  if (spm) {
    vocab->add_bos = true;
    vocab->add_space_prefix = true;
    vocab->clean_spaces = false;
  }
  auto add_bos = file.get_bool_or("tokenizer.ggml.add_bos_token", vocab->add_bos);
  if (!add_bos) return with_context(add_bos.error());
  auto add_eos = file.get_bool_or("tokenizer.ggml.add_eos_token", false);
  if (!add_eos) return with_context(add_eos.error());
  auto add_space_prefix = file.get_bool_or("tokenizer.ggml.add_space_prefix", vocab->add_space_prefix);
  if (!add_space_prefix) return with_context(add_space_prefix.error());
  vocab->add_bos = *add_bos;
  vocab->add_eos = *add_eos;
  vocab->add_space_prefix = *add_space_prefix;
  if (vocab->add_bos && vocab->bos_id < 0) {
    return invalid_argument("tokenizer: tokenizer.ggml.add_bos_token is true but the vocabulary has no BOS token "
                            "(tokenizer.ggml.bos_token_id)");
  }
  if (vocab->add_eos && vocab->eos_id < 0) {
    return invalid_argument("tokenizer: tokenizer.ggml.add_eos_token is true but the vocabulary has no EOS token "
                            "(tokenizer.ggml.eos_token_id)");
  }
  return Status::ok();
}

}  // namespace

Expected<Vocab> load_vocab(const GgufFile& file) {
  Vocab vocab;
  if (Status s = read_model_and_pre(file, &vocab); !s) return s;
  if (Status s = read_tokens(file, &vocab); !s) return s;
  if (Status s = read_special_ids(file, &vocab); !s) return s;
  if (Status s = read_flags(file, &vocab); !s) return s;
  collect_eog_ids(&vocab);
  return vocab;
}

}  // namespace frugal

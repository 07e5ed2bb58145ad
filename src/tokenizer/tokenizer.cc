// Tokenizer: loading and encoding (tokenizer layer). Decoding lives in detokenize.cc.
#include "tokenizer/tokenizer.h"

#include <algorithm>

#include "tokenizer/tokenizer_impl.h"

namespace frugal {

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Expected<Tokenizer> Tokenizer::from_gguf(const GgufFile& file) {
  auto vocab = load_vocab(file);
  if (!vocab) return vocab.error();
  auto impl = std::make_unique<Impl>();
  impl->vocab = std::move(*vocab);
  const Vocab& v = impl->vocab;
  if (v.type == VocabType::kBpe) {
    auto merges = file.get_string_array("tokenizer.ggml.merges");
    if (!merges) return Status(merges.error().code(), "tokenizer: " + merges.error().message());
    auto bpe = BpeEncoder::create(v, *merges);
    if (!bpe) return bpe.error();
    impl->bpe.emplace(std::move(*bpe));
  } else {
    impl->spm.emplace(SpmEncoder::create(v));
  }
  impl->special = SpecialTokenMatcher::create(v);
  impl->pieces = build_token_pieces(v);
  return Tokenizer(std::move(impl));
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  return encode(text, add_special, parse_special, {});
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special,
                                       const std::vector<TextSpan>& plain_spans) const {
  const Vocab& vocab = impl_->vocab;
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 2);
  if (add_special && vocab.add_bos) ids.push_back(vocab.bos_id);
  const std::vector<TextFragment> fragments = impl_->special.partition(vocab, text, parse_special, plain_spans);
  if (impl_->bpe) {
    for (const TextFragment& fragment : fragments) {
      if (fragment.token >= 0) {
        ids.push_back(fragment.token);
      } else {
        impl_->bpe->encode(vocab, fragment.text, &ids);
      }
    }
  } else {
    // SentencePiece: a space is prefixed at the start of the text and after every special token.
    bool after_special = true;
    for (const TextFragment& fragment : fragments) {
      if (fragment.token >= 0) {
        ids.push_back(fragment.token);
        after_special = true;
        continue;
      }
      std::string raw;
      if (vocab.add_space_prefix && after_special) raw.push_back(' ');
      raw.append(fragment.text);
      impl_->spm->encode(vocab, spm_escape_whitespace(raw), &ids);
      after_special = false;
    }
  }
  if (add_special && vocab.add_eos) ids.push_back(vocab.eos_id);
  return ids;
}

int32_t Tokenizer::n_vocab() const { return impl_->vocab.n_vocab(); }
int32_t Tokenizer::bos_id() const { return impl_->vocab.bos_id; }
int32_t Tokenizer::eos_id() const { return impl_->vocab.eos_id; }
int32_t Tokenizer::eot_id() const { return impl_->vocab.eot_id; }
bool Tokenizer::add_bos() const { return impl_->vocab.add_bos; }
bool Tokenizer::add_eos() const { return impl_->vocab.add_eos; }

bool Tokenizer::is_eog(int32_t id) const {
  const std::vector<int32_t>& eog = impl_->vocab.eog_ids;
  return id >= 0 && std::binary_search(eog.begin(), eog.end(), id);
}

bool Tokenizer::is_control(int32_t id) const { return impl_->vocab.type_of(id) == TokenType::kControl; }

int32_t Tokenizer::token_id(std::string_view text) const { return impl_->vocab.find(text); }

const std::string& Tokenizer::token_text(int32_t id) const {
  static const std::string kEmpty;
  return impl_->vocab.valid_id(id) ? impl_->vocab.tokens[id].text : kEmpty;
}

std::string_view Tokenizer::model_name() const { return impl_->vocab.model_name; }
std::string_view Tokenizer::pre_name() const { return impl_->vocab.pre_name; }

}  // namespace frugal

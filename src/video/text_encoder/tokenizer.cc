#include "video/text_encoder/tokenizer.h"

#include <sentencepiece_processor.h>

#include <exception>
#include <filesystem>
#include <system_error>

#include "video/text_encoder/prompt_clean.h"

namespace frugal::video {
namespace {

// The file name of the SentencePiece model in an HF tokenizer folder (google/umt5-xxl).
constexpr const char* kModelFileName = "spiece.model";

Expected<std::string> resolve_model_path(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p(path);
  if (std::filesystem::is_directory(p, ec)) p /= kModelFileName;
  if (!std::filesystem::is_regular_file(p, ec)) {
    return not_found("umT5 tokenizer: no SentencePiece model at \"" + p.string() + "\"");
  }
  return p.string();
}

}  // namespace

UmT5Tokenizer::UmT5Tokenizer() = default;
UmT5Tokenizer::UmT5Tokenizer(UmT5Tokenizer&&) noexcept = default;
UmT5Tokenizer& UmT5Tokenizer::operator=(UmT5Tokenizer&&) noexcept = default;
UmT5Tokenizer::~UmT5Tokenizer() = default;

Expected<UmT5Tokenizer> UmT5Tokenizer::load(const std::string& path) {
  auto model_path = resolve_model_path(path);
  if (!model_path) return model_path.error();
  UmT5Tokenizer tok;
  try {  // libsentencepiece reports through util::Status, but may throw (allocation): stop it here
    tok.processor_ = std::make_unique<sentencepiece::SentencePieceProcessor>();
    const auto status = tok.processor_->Load(*model_path);
    if (!status.ok()) {
      return data_loss("umT5 tokenizer: \"" + *model_path + "\" is not a valid SentencePiece model: " +
                       status.ToString());
    }
  } catch (const std::exception& e) {
    return data_loss("umT5 tokenizer: loading \"" + *model_path + "\" failed: " + e.what());
  }
  // HF's T5 tokenizer appends eos_token "</s>" and pads with pad_token "<pad>".
  tok.eos_id_ = tok.processor_->PieceToId("</s>");
  if (tok.eos_id_ == tok.processor_->unk_id() || tok.eos_id_ < 0) {
    return data_loss("umT5 tokenizer: \"" + *model_path + "\" has no </s> piece");
  }
  const int pad = tok.processor_->PieceToId("<pad>");
  tok.pad_id_ = pad >= 0 && pad != tok.processor_->unk_id() ? pad : 0;
  return tok;
}

int64_t UmT5Tokenizer::vocab_size() const { return processor_->GetPieceSize(); }

Expected<std::vector<int32_t>> UmT5Tokenizer::tokenize(std::string_view prompt) const {
  if (!is_valid_utf8(prompt)) return invalid_argument("umT5 tokenizer: the prompt is not valid UTF-8");
  const std::string cleaned = wan_clean_prompt(prompt);
  std::vector<int> pieces;
  try {
    const auto status = processor_->Encode(cleaned, &pieces);
    if (!status.ok()) return internal_error("umT5 tokenizer: SentencePiece failed: " + status.ToString());
  } catch (const std::exception& e) {
    return internal_error(std::string("umT5 tokenizer: SentencePiece failed: ") + e.what());
  }
  std::vector<int32_t> ids(pieces.begin(), pieces.end());
  ids.push_back(eos_id_);
  return ids;
}

Expected<UmT5Tokens> UmT5Tokenizer::encode(std::string_view prompt, int64_t text_len) const {
  if (text_len < 1) return invalid_argument("umT5 tokenizer: text_len must be at least 1 (room for </s>)");
  auto ids = tokenize(prompt);
  if (!ids) return ids.error();
  UmT5Tokens out;
  out.truncated = static_cast<int64_t>(ids->size()) > text_len;
  if (out.truncated) {  // HF: the first text_len − 1 pieces, then </s>
    ids->resize(static_cast<size_t>(text_len));
    ids->back() = eos_id_;
  }
  out.num_tokens = static_cast<int64_t>(ids->size());
  out.ids = std::move(*ids);
  out.ids.resize(static_cast<size_t>(text_len), pad_id_);
  out.mask.assign(static_cast<size_t>(text_len), 0);
  for (int64_t i = 0; i < out.num_tokens; ++i) out.mask[static_cast<size_t>(i)] = 1;
  return out;
}

}  // namespace frugal::video

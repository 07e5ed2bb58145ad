#include "engine/output_processor.h"

namespace frugal {

std::string_view finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kContextFull: return "context_full";
  }
  return "unknown";
}

OutputProcessor::OutputProcessor(const Tokenizer& tokenizer, std::vector<std::string> stop, bool ignore_eos,
                                 int64_t max_tokens)
    : tokenizer_(tokenizer),
      decoder_(tokenizer, /*special=*/false),
      stops_(std::move(stop)),
      ignore_eos_(ignore_eos),
      max_tokens_(max_tokens) {}

OutputProcessor::Step OutputProcessor::finish_with(Step step, FinishReason reason) {
  // A stop string ends the text where it began; otherwise everything held back is released.
  if (!stops_.stopped()) step.text += stops_.push(decoder_.flush()) + stops_.flush();
  step.finished = true;
  step.reason = reason;
  finished_ = true;
  return step;
}

OutputProcessor::Step OutputProcessor::on_token(int32_t token, bool ends_document) {
  Step step;
  if (!ignore_eos_ && tokenizer_.is_eog(token)) return finish_with(step, FinishReason::kStop);
  step.accepted = true;
  ++num_tokens_;
  step.text = stops_.push(decoder_.push(token));
  if (stops_.stopped() || ends_document) return finish_with(step, FinishReason::kStop);
  if (max_tokens_ >= 0 && num_tokens_ >= max_tokens_) return finish_with(step, FinishReason::kLength);
  return step;
}

OutputProcessor::Step OutputProcessor::finish(FinishReason reason) { return finish_with(Step{}, reason); }

}  // namespace frugal

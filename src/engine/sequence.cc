#include "engine/sequence.h"

namespace frugal {

Sequence::Sequence(SeqId id_, int64_t arrival_order_, EngineRequest request_, std::shared_ptr<RequestStream> stream_,
                   const Tokenizer& tokenizer, int32_t n_vocab)
    : id(id_),
      arrival_order(arrival_order_),
      request(std::move(request_)),
      stream(std::move(stream_)),
      tokens(request.prompt),
      num_prompt_tokens(static_cast<int32_t>(request.prompt.size())),
      sampler(request.sampling, n_vocab),
      output(tokenizer, request.stop, request.ignore_eos, request.max_tokens),
      arrival_time(Clock::now()) {
  for (int32_t token : request.prompt) sampler.accept(token);
}

}  // namespace frugal

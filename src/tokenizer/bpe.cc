// Byte-level BPE (tokenizer layer).
//
// Central idea: a word's symbols form a doubly linked list over a vector; every adjacent pair that
// has a merge goes into a min-heap keyed by (rank, position). Popping the best pair merges it in
// place and queues the two new neighbour pairs; stale heap entries are recognised by comparing the
// token ids they recorded with the current ones. O(n log n) per word, no rescans.
#include "tokenizer/bpe.h"

#include <algorithm>

#include "core/logging.h"
#include "tokenizer/byte_unicode.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/utf8.h"

namespace frugal {
namespace {

constexpr int32_t kDeadSymbol = -2;  // a symbol merged into its left neighbour

struct Symbol {
  int32_t id;    // token id, -1 when a byte has no token, kDeadSymbol when merged away
  int32_t prev;  // index of the previous live symbol, -1 at the start
  int32_t next;  // index of the next live symbol, -1 at the end
};

struct Candidate {
  int32_t rank;
  int32_t left;  // symbol index of the pair's left half
  int32_t left_id;
  int32_t right_id;
  int32_t result_id;
};

// std heap functions build a max-heap; "greater" puts the lowest rank, then leftmost, on top.
bool candidate_after(const Candidate& a, const Candidate& b) {
  return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
}

}  // namespace

struct BpeEncoder::Scratch {
  std::string encoded;
  std::vector<Symbol> symbols;
  std::vector<Candidate> heap;
  std::vector<std::string_view> words;
};

BpeEncoder::BpeEncoder(RegexSplitter splitter, bool ignore_merges)
    : splitter_(std::move(splitter)), ignore_merges_(ignore_merges) {}

Expected<BpeEncoder> BpeEncoder::create(const Vocab& vocab, const std::vector<std::string>& merges) {
  const PreTokenizerSpec* spec = find_pre_tokenizer(vocab.pre_name);
  if (spec == nullptr) return internal_error("tokenizer: no pre-tokenizer spec for '" + vocab.pre_name + "'");
  auto splitter = RegexSplitter::create(spec->regex);
  if (!splitter) return splitter.error();
  BpeEncoder encoder(std::move(*splitter), vocab.ignore_merges);
  for (int byte = 0; byte < 256; ++byte) {
    encoder.byte_ids_[byte] = vocab.find(byte_unicode::encode_byte(static_cast<uint8_t>(byte)));
  }
  encoder.merges_.reserve(merges.size());
  size_t skipped = 0;
  std::string joined;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string& merge = merges[rank];
    const size_t space = merge.find(' ', 1);  // from 1: a merge's left half may itself be " "
    if (space == std::string::npos) {
      return invalid_argument("tokenizer: key tokenizer.ggml.merges[" + std::to_string(rank) + "] = '" + merge +
                              "' is not 'left right'");
    }
    const std::string_view left = std::string_view(merge).substr(0, space);
    const std::string_view right = std::string_view(merge).substr(space + 1);
    joined.assign(left).append(right);
    const int32_t left_id = vocab.find(left);
    const int32_t right_id = vocab.find(right);
    const int32_t result_id = vocab.find(joined);
    if (left_id < 0 || right_id < 0 || result_id < 0) {
      ++skipped;  // can never fire: its inputs or output are not tokens
      continue;
    }
    encoder.merges_.insert(left_id, right_id, static_cast<int32_t>(rank), result_id);
  }
  if (skipped > 0) {
    log_warn("tokenizer: " + std::to_string(skipped) + " merges reference texts that are not in the vocabulary");
  }
  return encoder;
}

void BpeEncoder::encode(const Vocab& vocab, std::string_view text, std::vector<int32_t>* out) const {
  if (text.empty()) return;
  const std::string clean = utf8::sanitize(text);
  Scratch scratch;
  splitter_.split(clean, &scratch.words);
  for (std::string_view word : scratch.words) encode_word(vocab, word, &scratch, out);
}

void BpeEncoder::encode_word(const Vocab& vocab, std::string_view word, Scratch* scratch,
                             std::vector<int32_t>* out) const {
  if (word.size() == 1) {
    const int32_t id = byte_ids_[static_cast<uint8_t>(word[0])];
    if (id >= 0) out->push_back(id);
    return;
  }
  if (ignore_merges_) {
    scratch->encoded.clear();
    byte_unicode::encode(word, &scratch->encoded);
    const int32_t id = vocab.find(scratch->encoded);
    if (id >= 0) {
      out->push_back(id);
      return;
    }
  }
  const auto n = static_cast<int32_t>(word.size());
  std::vector<Symbol>& symbols = scratch->symbols;
  std::vector<Candidate>& heap = scratch->heap;
  symbols.resize(n);
  heap.clear();
  for (int32_t i = 0; i < n; ++i) {
    symbols[i] = {byte_ids_[static_cast<uint8_t>(word[i])], i - 1, i + 1 < n ? i + 1 : -1};
  }
  auto try_add = [&](int32_t left) {
    if (left < 0 || symbols[left].next < 0) return;
    const int32_t left_id = symbols[left].id;
    const int32_t right_id = symbols[symbols[left].next].id;
    const PairIndex::Entry* merge = merges_.find(left_id, right_id);
    if (merge == nullptr) return;
    heap.push_back({merge->rank, left, left_id, right_id, merge->result_id});
    std::push_heap(heap.begin(), heap.end(), candidate_after);
  };
  for (int32_t i = 0; i + 1 < n; ++i) try_add(i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), candidate_after);
    const Candidate best = heap.back();
    heap.pop_back();
    Symbol& left = symbols[best.left];
    if (left.id != best.left_id || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    if (right.id != best.right_id) continue;
    left.id = best.result_id;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = best.left;
    right.id = kDeadSymbol;
    try_add(left.prev);
    try_add(best.left);
  }
  for (int32_t i = 0; i >= 0; i = symbols[i].next) {
    if (symbols[i].id >= 0) out->push_back(symbols[i].id);
  }
}

}  // namespace frugal

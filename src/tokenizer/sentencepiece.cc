// SentencePiece BPE (tokenizer layer).
//
// Central idea: start from UTF-8 characters; repeatedly merge the adjacent pair whose
// concatenation is the highest-scoring vocab entry (leftmost on ties), using a linked list of
// symbols and a max-heap of candidate pairs. Symbols that are not vocab entries at the end are
// emitted as byte tokens (byte fallback).
#include "tokenizer/sentencepiece.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "tokenizer/utf8.h"

namespace frugal {
namespace {

struct SpmSymbol {
  uint32_t offset;  // into the escaped text
  uint32_t length;  // bytes; 0 once merged into the left neighbour
  int32_t prev;
  int32_t next;
};

struct SpmCandidate {
  float score;
  int32_t left;
  int32_t right;
  uint32_t length;  // left.length + right.length when queued: detects stale entries
};

// Max-heap order: higher score first, then the leftmost pair.
bool candidate_before(const SpmCandidate& a, const SpmCandidate& b) {
  return a.score < b.score || (a.score == b.score && a.left > b.left);
}

}  // namespace

std::string spm_escape_whitespace(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  for (char c : text) {
    if (c == ' ') {
      out.append(kSpmSpace);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

SpmEncoder SpmEncoder::create(const Vocab& vocab) {
  SpmEncoder encoder;
  for (int byte = 0; byte < 256; ++byte) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", byte);
    int32_t id = vocab.find(name);
    if (id < 0) id = vocab.find(std::string(1, static_cast<char>(byte)));
    if (id < 0) id = vocab.unk_id;
    encoder.byte_ids_[byte] = id;
  }
  return encoder;
}

void SpmEncoder::append_bytes(std::string_view piece, std::vector<int32_t>* out) const {
  for (char c : piece) {
    const int32_t id = byte_ids_[static_cast<uint8_t>(c)];
    if (id >= 0) out->push_back(id);
  }
}

void SpmEncoder::encode(const Vocab& vocab, std::string_view escaped, std::vector<int32_t>* out) const {
  std::vector<SpmSymbol> symbols;
  symbols.reserve(escaped.size());
  for (size_t offset = 0; offset < escaped.size();) {
    const size_t length = std::min(utf8::lead_length(static_cast<uint8_t>(escaped[offset])), escaped.size() - offset);
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back({static_cast<uint32_t>(offset), static_cast<uint32_t>(length), index - 1, index + 1});
    offset += length;
  }
  if (symbols.empty()) return;
  symbols.back().next = -1;

  std::vector<SpmCandidate> heap;
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const uint32_t length = symbols[left].length + symbols[right].length;
    const int32_t id = vocab.find(escaped.substr(symbols[left].offset, length));
    if (id < 0) return;
    heap.push_back({vocab.tokens[id].score, left, right, length});
    std::push_heap(heap.begin(), heap.end(), candidate_before);
  };
  for (size_t i = 1; i < symbols.size(); ++i) try_add(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), candidate_before);
    const SpmCandidate best = heap.back();
    heap.pop_back();
    SpmSymbol& left = symbols[best.left];
    SpmSymbol& right = symbols[best.right];
    // Stale when either side was merged since, or grew (lengths only grow).
    if (left.length == 0 || right.length == 0 || left.length + right.length != best.length) continue;
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = best.left;
    try_add(left.prev, best.left);
    try_add(best.left, left.next);
  }

  for (int32_t i = 0; i >= 0; i = symbols[i].next) {
    const std::string_view piece = escaped.substr(symbols[i].offset, symbols[i].length);
    const int32_t id = vocab.find(piece);
    if (id >= 0) {
      out->push_back(id);
    } else {
      append_bytes(piece, out);
    }
  }
}

}  // namespace frugal

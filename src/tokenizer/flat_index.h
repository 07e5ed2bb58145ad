// Open-addressing lookup tables for vocabularies (tokenizer layer): text -> token id over the
// vocab's own strings, and (left id, right id) -> merge. Flat arrays with linear probing: loading
// a 128k-token / 280k-merge vocab does ~1M lookups, and node-based std::unordered_map spends most
// of that time in cache misses.
// Thread-safety: immutable after build; lookups are const and safe to call concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace frugal {

// Maps token text -> id. Stores only (hash, id); texts are compared against `texts`.
class TextIndex {
 public:
  // texts[id] for every id; on duplicate texts the later id wins (llama.cpp's behaviour).
  template <typename GetText>
  void build(size_t count, GetText get_text) {
    size_t capacity = 16;
    while (capacity < count * 2) capacity *= 2;  // load factor <= 0.5 keeps probe chains short
    slots_.assign(capacity, Slot{0, -1});
    mask_ = capacity - 1;
    for (size_t id = 0; id < count; ++id) insert(get_text(id), static_cast<int32_t>(id), get_text);
  }

  template <typename GetText>
  int32_t find(std::string_view text, GetText get_text) const {
    if (slots_.empty()) return -1;
    const uint64_t hash = hash_text(text);
    for (uint64_t pos = hash & mask_;; pos = (pos + 1) & mask_) {
      const Slot& slot = slots_[pos];
      if (slot.id < 0) return -1;
      if (slot.hash == static_cast<uint32_t>(hash >> 32) && get_text(slot.id) == text) return slot.id;
    }
  }

 private:
  struct Slot {
    uint32_t hash;  // high half of the 64-bit hash: a cheap filter before comparing texts
    int32_t id;     // -1 = empty
  };

  static uint64_t hash_text(std::string_view text) { return std::hash<std::string_view>{}(text); }

  template <typename GetText>
  void insert(std::string_view text, int32_t id, GetText get_text) {
    const uint64_t hash = hash_text(text);
    for (uint64_t pos = hash & mask_;; pos = (pos + 1) & mask_) {
      Slot& slot = slots_[pos];
      if (slot.id < 0 || (slot.hash == static_cast<uint32_t>(hash >> 32) && get_text(slot.id) == text)) {
        slot = Slot{static_cast<uint32_t>(hash >> 32), id};
        return;
      }
    }
  }

  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
};

// Maps a pair of token ids -> (rank, merged id). The first insertion of a pair wins.
class PairIndex {
 public:
  struct Entry {
    uint64_t key;  // (left << 32) | right; kEmpty when unused
    int32_t rank;
    int32_t result_id;
  };

  void reserve(size_t count) {
    size_t capacity = 16;
    while (capacity < count * 2) capacity *= 2;
    entries_.assign(capacity, Entry{kEmpty, 0, 0});
    mask_ = capacity - 1;
  }
  size_t size() const { return size_; }

  // Precondition: reserve(n) was called with n >= the number of inserts, ids >= 0.
  void insert(int32_t left, int32_t right, int32_t rank, int32_t result_id) {
    const uint64_t key = make_key(left, right);
    for (uint64_t pos = mix(key) & mask_;; pos = (pos + 1) & mask_) {
      Entry& entry = entries_[pos];
      if (entry.key == key) return;
      if (entry.key == kEmpty) {
        entry = Entry{key, rank, result_id};
        ++size_;
        return;
      }
    }
  }

  const Entry* find(int32_t left, int32_t right) const {
    if (left < 0 || right < 0 || entries_.empty()) return nullptr;
    const uint64_t key = make_key(left, right);
    for (uint64_t pos = mix(key) & mask_;; pos = (pos + 1) & mask_) {
      const Entry& entry = entries_[pos];
      if (entry.key == key) return &entry;
      if (entry.key == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};  // ids are < 2^31, so no real key is all ones
  static uint64_t make_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  static uint64_t mix(uint64_t key) {
    key ^= key >> 31;
    key *= 0x9E3779B97F4A7C15ull;  // Fibonacci hashing constant (2^64 / golden ratio)
    return key ^ (key >> 29);
  }

  std::vector<Entry> entries_;
  uint64_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace frugal

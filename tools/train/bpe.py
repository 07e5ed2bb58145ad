"""Byte-level BPE (GPT-2 byte-to-unicode alphabet, Llama-3 pre-tokenizer) in pure Python.

Offline training tool for frugal's bundled demo models. The vocabulary it writes is loaded by
frugal's own tokenizer as `tokenizer.ggml.model = gpt2`, `tokenizer.ggml.pre = llama-bpe`, so the
encoder here follows the same rules: split with the Llama-3 regex, then a pre-token that is a
whole vocabulary entry is emitted as one token ("ignore_merges"), otherwise merges are applied in
rank order.
"""

import collections
import json

import regex  # Debian: python3-regex

# The Llama 3 pre-tokenizer regex (as published in its tokenizer.json).
LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
    r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
SPECIAL_TOKENS = ["<|begin_of_text|>", "<|end_of_text|>", "<|im_start|>", "<|im_end|>"]
TOKEN_TYPE_NORMAL = 1
TOKEN_TYPE_CONTROL = 3


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable unicode character map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


BYTE_TO_CHAR = bytes_to_unicode()
_SPLITTER = regex.compile(LLAMA3_PATTERN)


def pre_tokenize(text):
    """Splits text into pre-tokens, each mapped to the byte-unicode alphabet."""
    return ["".join(BYTE_TO_CHAR[b] for b in piece.encode("utf-8")) for piece in _SPLITTER.findall(text)]


def train(text, vocab_size):
    """Learns merges until vocab_size (incl. 256 byte tokens and the special tokens) is reached.

    Incremental pair counting over the unique pre-tokens; ties break on the pair's text, so the
    result is deterministic.
    """
    n_merges = vocab_size - 256 - len(SPECIAL_TOKENS)
    word_freq = collections.Counter(pre_tokenize(text))
    words = [list(w) for w in word_freq]
    freqs = list(word_freq.values())
    pair_count = collections.Counter()
    pair_words = collections.defaultdict(set)
    for idx, (w, f) in enumerate(zip(words, freqs)):
        for a, b in zip(w, w[1:]):
            pair_count[(a, b)] += f
            pair_words[(a, b)].add(idx)
    merges = []
    new_tokens = set()  # two merges can spell the same token; the vocabulary keeps it once
    step = 0
    while len(new_tokens) < n_merges and pair_count:
        best = max(pair_count.items(), key=lambda kv: (kv[1], kv[0]))[0]
        merges.append(best)
        merged = best[0] + best[1]
        new_tokens.add(merged)
        for idx in list(pair_words[best]):
            w, f = words[idx], freqs[idx]
            for a, b in zip(w, w[1:]):
                pair_count[(a, b)] -= f
                if pair_count[(a, b)] <= 0:
                    del pair_count[(a, b)]
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == best[0] and w[i + 1] == best[1]:
                    out.append(merged)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            words[idx] = out
            for a, b in zip(out, out[1:]):
                pair_count[(a, b)] += f
                pair_words[(a, b)].add(idx)
        pair_words.pop(best, None)
        step += 1
        if step % 500 == 0:
            print(f"bpe: merge {step}/{n_merges} {merged!r}", flush=True)
    return merges


class Tokenizer:
    def __init__(self, tokens, merges):
        self.tokens = tokens
        self.token_to_id = {t: i for i, t in enumerate(tokens)}
        self.ranks = {pair: r for r, pair in enumerate(merges)}
        self.bos_id = self.token_to_id["<|begin_of_text|>"]
        self.eos_id = self.token_to_id["<|end_of_text|>"]
        self._cache = {}

    @staticmethod
    def build(merges):
        byte_tokens = [BYTE_TO_CHAR[b] for b in range(256)]
        tokens = list(byte_tokens)
        for a, b in merges:
            if a + b not in tokens[256:] and a + b not in byte_tokens:
                tokens.append(a + b)
        tokens += SPECIAL_TOKENS
        return Tokenizer(tokens, merges)

    def token_types(self):
        return [TOKEN_TYPE_CONTROL if t in SPECIAL_TOKENS else TOKEN_TYPE_NORMAL for t in self.tokens]

    def _encode_word(self, word):
        if word in self.token_to_id:  # ignore_merges: a whole vocabulary entry is one token
            return [self.token_to_id[word]]
        parts = list(word)
        while len(parts) > 1:
            ranked = [(self.ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            rank, i = min(ranked)
            if rank == 1 << 30:
                break
            parts[i:i + 2] = [parts[i] + parts[i + 1]]
        return [self.token_to_id[p] for p in parts]

    def encode(self, text, add_bos=False):
        ids = [self.bos_id] if add_bos else []
        for word in pre_tokenize(text):
            got = self._cache.get(word)
            if got is None:
                got = self._encode_word(word)
                self._cache[word] = got
            ids.extend(got)
        return ids

    def decode(self, ids):
        char_to_byte = {c: b for b, c in BYTE_TO_CHAR.items()}
        out = bytearray()
        for i in ids:
            t = self.tokens[i]
            if t in SPECIAL_TOKENS:
                continue
            out.extend(char_to_byte[c] for c in t)
        return out.decode("utf-8", errors="replace")

    def save(self, path):
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"tokens": self.tokens, "merges": [a + " " + b for a, b in self.ranks]}, f)

    @staticmethod
    def load(path):
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        merges = [tuple(m.split(" ")) for m in d["merges"]]
        return Tokenizer(d["tokens"], merges)

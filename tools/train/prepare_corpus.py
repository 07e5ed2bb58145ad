"""Prepares the training corpus for frugal's bundled demo models: the King James Bible.

Offline tool. The text comes from Debian's `bible-kjv-text` (read with the `bible` program of
`bible-kjv`); the KJV text is in the public domain (see models/README.md). Each chapter becomes
  <Book> <chapter>\\n<verse>\\n<verse>\\n...\\n\\n
(verse numbers dropped). Every 40th chapter (chapter index % 40 == 20) is held out for evaluation
and never seen in training or BPE training. Writes to the work dir: corpus-train.txt,
heldout.txt, tokenizer.json, train.u16 / heldout.u16 (token ids) and corpus.json.

  /usr/bin/python3 tools/train/prepare_corpus.py
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402

HELDOUT_EVERY = 40
HELDOUT_PHASE = 20


def read_chapters():
    raw = subprocess.run(["bible", "-l0", "gen1:1-rev22:21"], check=True, capture_output=True, text=True).stdout
    chapters, current = [], None
    for line in raw.splitlines():
        if not line.strip():
            continue
        if line.startswith("  "):  # "  <n> <verse text>"
            current[1].append(line.strip().split(" ", 1)[1])
        else:                      # "<Book> <chapter>"
            current = (line.strip(), [])
            chapters.append(current)
    return ["\n".join([title] + verses) + "\n\n" for title, verses in chapters]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="build-demo/train")
    ap.add_argument("--vocab", type=int, default=4096)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    chapters = read_chapters()
    held = [c for i, c in enumerate(chapters) if i % HELDOUT_EVERY == HELDOUT_PHASE]
    train = [c for i, c in enumerate(chapters) if i % HELDOUT_EVERY != HELDOUT_PHASE]
    train_text, held_text = "".join(train), "".join(held)
    print(f"corpus: {len(chapters)} chapters, train {len(train)} ({len(train_text):,} chars), "
          f"held-out {len(held)} ({len(held_text):,} chars)")
    for name, text in (("corpus-train.txt", train_text), ("heldout.txt", held_text)):
        with open(os.path.join(args.work, name), "w", encoding="utf-8") as f:
            f.write(text)

    t0 = time.time()
    merges = bpe.train(train_text, args.vocab)
    tok = bpe.Tokenizer.build(merges)
    print(f"bpe: {len(tok.tokens)} tokens ({len(merges)} merges) in {time.time() - t0:.0f} s")
    assert len(tok.tokens) == args.vocab, len(tok.tokens)
    tok.save(os.path.join(args.work, "tokenizer.json"))

    # One stream per split; the chapters are concatenated (models see BOS only at window starts).
    train_ids = np.array(tok.encode(train_text), dtype=np.uint16)
    held_ids = np.array(tok.encode(held_text), dtype=np.uint16)
    train_ids.tofile(os.path.join(args.work, "train.u16"))
    held_ids.tofile(os.path.join(args.work, "heldout.u16"))
    assert tok.decode(held_ids.tolist()) == held_text, "BPE round trip failed"
    print(f"tokens: train {len(train_ids):,}, held-out {len(held_ids):,} "
          f"({len(train_text) / len(train_ids):.2f} chars/token)")
    with open(os.path.join(args.work, "corpus.json"), "w") as f:
        json.dump({"n_vocab": len(tok.tokens), "bos_id": tok.bos_id, "eos_id": tok.eos_id,
                   "train_tokens": len(train_ids), "heldout_tokens": len(held_ids),
                   "train_chapters": len(train), "heldout_chapters": len(held)}, f, indent=1)


if __name__ == "__main__":
    main()

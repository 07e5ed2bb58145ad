"""Writes windows of the target's own greedy continuations (on-policy data for distill.py --extra).

Offline tool: OMP_NUM_THREADS=1 /usr/bin/python3 tools/train/gen_target.py --frugal build-demo/frugal --n 120
Each window is BOS + a 16-token prefix taken at a random offset of train.u16 + the target's greedy
(`frugal run --temp 0`) continuation, re-tokenized with bpe.py and cut to n_ctx tokens; the result is
[n, n_ctx] uint16 in <work>/target-greedy.u16. Greedy target text (what speculative decoding at
--temp 0 verifies) drifts into repetitive loops that the corpus never shows, so the draft must see it.
"""
import argparse, os, subprocess, sys, time
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--work", default="build-demo/train")
ap.add_argument("--frugal", default="build-demo/frugal")
ap.add_argument("--model", default="models/kjv-target-f16.gguf")
ap.add_argument("--n", type=int, default=120)
ap.add_argument("--prefix", type=int, default=16)
ap.add_argument("--n-ctx", type=int, default=256)
ap.add_argument("--seed", type=int, default=7)
args = ap.parse_args()
tok = bpe.Tokenizer.load(os.path.join(args.work, "tokenizer.json"))
train = np.fromfile(os.path.join(args.work, "train.u16"), dtype=np.uint16).astype(np.int64)
rng = np.random.default_rng(args.seed)
rows, t0 = [], time.time()
while len(rows) < args.n:
    s = int(rng.integers(0, len(train) - args.prefix))
    prompt = tok.decode([int(t) for t in train[s:s + args.prefix]])
    out = subprocess.run([args.frugal, "run", "-m", args.model, "-p", prompt, "-n", str(args.n_ctx),
                          "--temp", "0", "--ignore-eos", "-t", "1"], capture_output=True, text=True)
    if out.returncode != 0:
        continue
    ids = tok.encode(out.stdout.rstrip("\n"), add_bos=True)[:args.n_ctx]
    if len(ids) == args.n_ctx:
        rows.append(ids)
    sys.stdout.write(f"\r{len(rows)}/{args.n} windows, {time.time() - t0:.0f} s ")
    sys.stdout.flush()
np.array(rows, dtype=np.uint16).tofile(os.path.join(args.work, "target-greedy.u16"))
print(f"\nwrote {len(rows)} windows of {args.n_ctx} tokens to {args.work}/target-greedy.u16")

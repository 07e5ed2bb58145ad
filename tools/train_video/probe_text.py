#!/usr/bin/env python3
"""Does the direction word reach the DiT? Two measurements on a DiT checkpoint (EMA weights if any):

  1. distinctness after the umT5 and after the DiT's text_embedding: for captions that differ in one
     attribute, the relative distance ||e(c') - e(c)|| / ||e(c)|| of the whole [L, dim] context, per
     attribute (colour, shape, direction, background), averaged over every training caption;
  2. cross-attention: per block, the share of attention (softmax mass, averaged over heads, the
     video tokens, 4 noise draws at sigma 0.8 and 40 training captions) that lands on each caption
     word's position, on `</s>` and on the zero-padded rows up to text_len (Wan pads the context with
     zeros and attends to all text_len rows).
A word the model ignores is one whose context barely differs (1) or that gets little of the
attention (2).

  OMP_NUM_THREADS=1 /usr/bin/python3 tools/train_video/probe_text.py build/train_video/dit.pt
"""
import argparse
import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import data  # noqa: E402
import probe_conditioning  # noqa: E402
import stage_dit  # noqa: E402

WORDS = ["a", "colour", "shape", "moving", "direction", "on", "a'", "background", "background'", "</s>"]


def distinctness(t5, dit, cap, train):
    keys = {"colour": 0, "shape": 1, "direction": 2, "background": 3}
    values = [list(data.COLOURS), data.SHAPES, data.DIRECTIONS, list(data.BACKGROUNDS)]
    tset = set(train)
    out = {k: [[], []] for k in keys}
    per_pos = {k: 0 for k in keys}  # after text_embedding: how the change spreads over caption positions
    counts = {k: 0 for k in keys}
    for c in train:
        e_t5 = common.encode_text(t5, [cap[c]])
        e_dit = dit.embed_context(e_t5)
        for name, i in keys.items():
            for v in values[i]:
                alt = list(c)
                alt[i] = v
                alt = tuple(alt)
                if v == c[i] or alt not in tset:
                    continue
                a_t5 = common.encode_text(t5, [cap[alt]])
                a_dit = dit.embed_context(a_t5)
                out[name][0].append(float((a_t5 - e_t5).norm() / e_t5.norm()))
                out[name][1].append(float((a_dit - e_dit).norm() / e_dit.norm()))
                d = (a_dit - e_dit)[0, :len(cap[c])].norm(dim=-1) ** 2
                per_pos[name] = per_pos[name] + d / d.sum()
                counts[name] += 1
                break
    return ({k: (sum(a) / len(a), sum(b) / len(b)) for k, (a, b) in out.items()},
            {k: per_pos[k] / counts[k] for k in keys})


def cross_attention_shares(t5, dit, cap, train, n_caps=40, sigma=0.8):
    grabbed = []
    for blk in dit.blocks:
        attn = blk.cross_attn

        def fwd(x, ctx=None, rope=None, _a=attn, _f=attn.forward):
            grabbed.append((_a, x, ctx))
            return _f(x, ctx=ctx, rope=rope)
        attn.forward = fwd
    gen = torch.Generator().manual_seed(4)
    picks = [train[i] for i in torch.randint(len(train), (n_caps,), generator=gen).tolist()]
    n_words = len(cap[picks[0]])
    share = torch.zeros(len(dit.blocks), n_words + 1)  # words ..., then all padded rows together
    for c in picks:
        ctx = dit.embed_context(common.encode_text(t5, [cap[c]])).expand(4, -1, -1)
        xt = sigma * torch.randn(4, 16, 5, 8, 8, generator=gen)
        grabbed.clear()
        dit(xt, torch.full((4,), sigma * 1000.0), ctx)
        for bi, (a, x, cx) in enumerate(grabbed):
            b, lq, _ = x.shape
            n, d = a.num_heads, a.head_dim
            q = a.norm_q(a.q(x)).view(b, lq, n, d).transpose(1, 2)
            k = a.norm_k(a.k(cx)).view(b, cx.shape[1], n, d).transpose(1, 2)
            p = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), dim=-1).mean(dim=(0, 1, 2))  # [text_len]
            share[bi, :n_words] += p[:n_words]
            share[bi, n_words] += p[n_words:].sum()
    return share / len(picks)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--work", default=str(Path(__file__).resolve().parents[2] / "build" / "train_video"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    t5, dit = probe_conditioning.load(args.checkpoint, args.work)
    cap, _, _ = stage_dit.caption_ids(args.work)
    train, _ = data.split_combos()
    with torch.no_grad():
        print("relative change of the text context when one attribute is swapped (after umT5, after text_embedding):")
        rel, spread = distinctness(t5, dit, cap, train)
        for k, (a, b) in rel.items():
            print(f"  {k:10s} {a:.3f} {b:.3f}")
        print("where that change sits (share of ||delta||^2 after text_embedding per caption position):")
        print("  " + " ".join(f"{w:>11s}" for w in ["swapped"] + WORDS))
        for k, row in spread.items():
            print(f"  {k:>11s} " + " ".join(f"{float(v):11.3f}" for v in row))
        share = cross_attention_shares(t5, dit, cap, train)
        print("cross-attention share per caption position (rows: blocks):")
        print("  " + " ".join(f"{w:>11s}" for w in WORDS + ["padding"]))
        for bi, row in enumerate(share):
            print(f"  {bi} " + " ".join(f"{float(v):11.3f}" for v in row))


if __name__ == "__main__":
    main()

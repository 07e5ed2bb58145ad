#!/usr/bin/env python3
"""Quick per-attribute sanity check of generated clips (my own tool; the project's evaluator is
separate). Runs `frugal video --out-raw` per prompt/seed and judges: background = nearest palette
colour of the border pixels' median; object = pixels far from the background, its colour = nearest
palette colour of their median; shape = fill ratio of the object's bounding box (square ~1, circle
~0.785, triangle ~0.5) on the middle frame; direction = sign of the centroid's motion.

    /usr/bin/python3 tools/train_video/check_clips.py --model models/wan-shapes --heldout 12 --seeds 2 \
        --frugal build/frugal -- --steps 20 --cfg 5 --shift 3
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import data  # noqa: E402


def nearest(rgb, palette):
    names = list(palette)
    cols = np.array([palette[n] for n in names], dtype=np.float32)
    return names[int(np.argmin(((cols - rgb) ** 2).sum(1)))]


def judge(v):
    """v [3,F,H,W] in [-1,1] -> dict of attributes."""
    img = (np.clip(v, -1, 1) + 1) * 127.5
    F_, H, W = img.shape[1:]
    border = np.concatenate([img[:, :, 0, :], img[:, :, -1, :], img[:, :, :, 0], img[:, :, :, -1]], axis=2)
    bg_rgb = np.median(border.reshape(3, -1), axis=1)
    bg = nearest(bg_rgb, data.BACKGROUNDS)
    diff = np.sqrt(((img - bg_rgb[:, None, None, None]) ** 2).sum(0))  # [F,H,W]
    fg = diff > 60
    out = {"background": bg}
    if fg.sum() < 10:
        return {**out, "colour": None, "shape": None, "direction": None}
    out["colour"] = nearest(np.median(img[:, fg], axis=1), data.COLOURS)
    ys, xs = np.mgrid[0:H, 0:W]
    cen = [((xs * m).sum() / m.sum(), (ys * m).sum() / m.sum()) if m.sum() > 5 else None for m in fg]
    c0 = next(c for c in cen if c is not None)
    c1 = next(c for c in reversed(cen) if c is not None)
    dx, dy = c1[0] - c0[0], c1[1] - c0[1]
    out["direction"] = ("right" if dx > 0 else "left") if abs(dx) > abs(dy) else ("down" if dy > 0 else "up")
    m = fg[F_ // 2]
    if m.sum() > 5:
        yy, xx = np.nonzero(m)
        fill = m.sum() / ((yy.max() - yy.min() + 1) * (xx.max() - xx.min() + 1))
        out["fill"] = round(float(fill), 3)
        out["shape"] = "square" if fill > 0.88 else ("circle" if fill > 0.64 else "triangle")
    else:
        out["shape"] = None
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--frugal", default="build/frugal")
    ap.add_argument("--heldout", type=int, default=12, help="how many held-out combinations (evenly spaced)")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("extra", nargs="*", help="flags passed to frugal video (after --)")
    args = ap.parse_args()
    _, held = data.split_combos()
    pick = [held[i * len(held) // args.heldout] for i in range(args.heldout)]
    keys = ["colour", "shape", "direction", "background"]
    hits = {k: 0 for k in keys}
    n, secs = 0, []
    with tempfile.TemporaryDirectory() as td:
        for combo in pick:
            for seed in range(args.seeds):
                raw = Path(td) / "raw.f32"
                cmd = [args.frugal, "video", "-m", args.model, "-p", data.caption(*combo), "--size", "64x64",
                       "--frames", "17", "--seed", str(seed), "-q", "--out-raw", str(raw),
                       "-o", str(Path(td) / "c.mp4"), "--json"] + args.extra
                t = time.time()
                p = subprocess.run(cmd, check=True, capture_output=True, text=True)
                secs.append(time.time() - t)
                v = np.fromfile(raw, dtype=np.float32).reshape(3, 17, 64, 64)
                got = judge(v)
                want = dict(zip(["colour", "shape", "direction", "background"], combo))
                for k in keys:
                    hits[k] += int(got.get(k) == want[k])
                n += 1
                print(f"{data.caption(*combo)!r} seed {seed}: {got}", flush=True)
    print(json.dumps({"clips": n, **{k: round(100 * hits[k] / n, 1) for k in keys},
                      "median_wall_s": round(float(np.median(secs)), 2)}))


if __name__ == "__main__":
    main()

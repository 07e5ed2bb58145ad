#!/usr/bin/env python3
"""Fast PyTorch-side held-out judge of a DiT checkpoint (the training curve; final numbers come from
`frugal video-eval` on the exported folder).

Samples the model card's held-out captions (every third of the 75: `i*75//25`, i = 0..24) with the
final tier's sampler (Euler, `--steps`, `--shift`, CFG against Wan's default negative prompt, the
settings `frugal video` uses), decodes with the shipped (decoder-fine-tuned) VAE and judges each clip
with `check_clips.judge` (the evaluator's rules: border background, object colour, bounding-box fill,
centroid path). Noise comes from torch (seed s, one draw per clip), not frugal's generator, so the
numbers are the same distribution as the engine's, not the same clips. Prints one JSON line.

  OMP_NUM_THREADS=1 /usr/bin/python3 tools/train_video/judge_dit.py build/train_video/dit.pt --work build/train_video
"""
import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_clips  # noqa: E402
import common  # noqa: E402
import data  # noqa: E402
import stage_dit  # noqa: E402
from stage_draft import euler_sigmas, sample  # noqa: E402
from wan_modules import WanVAE  # noqa: E402

KEYS = ["background", "colour", "shape", "direction"]


def load_dit(ckpt, work):
    st = torch.load(ckpt)
    t5_sd, dit_sd = (st["ema"]["t5"], st["ema"]["dit"]) if "ema" in st else (st["t5"], st["dit"])
    t5, dit = stage_dit.build_for(work, dit_sd)
    t5.load_state_dict(t5_sd)
    dit.load_state_dict(dit_sd)
    return t5.eval(), dit.eval(), st.get("step")


def load_decoder(work):
    work = Path(work)
    path = work / "vae_decoder_final.pt" if (work / "vae_decoder_final.pt").exists() else work / "vae_final.pt"
    st = torch.load(path)
    vae = WanVAE(dim=st["cfg"]["dim"], num_res_blocks=st["cfg"]["num_res_blocks"])
    vae.load_state_dict(st["model"])
    return vae.eval()


def heldout_prompts(n=25):
    _, held = data.split_combos()
    return [held[i * len(held) // n] for i in range(n)]


def judge_checkpoint(ckpt, work, seeds=(1, 2), steps=20, shift=3.0, cfg=4.0, n=25, chunk=10):
    t5, dit, step = load_dit(ckpt, work)
    vae = load_decoder(work)
    cap, _, neg = stage_dit.caption_ids(work)
    combos = heldout_prompts(n)
    jobs = [(c, s) for c in combos for s in seeds]
    hits = {k: 0 for k in KEYS}
    both = 0
    sig = euler_sigmas(steps, shift)
    with torch.no_grad():
        for i in range(0, len(jobs), chunk):
            part = jobs[i:i + chunk]
            ctx = dit.embed_context(common.encode_text(t5, [cap[c] for c, _ in part]))
            uctx = dit.embed_context(common.encode_text(t5, [neg] * len(part)))
            noise = torch.cat([torch.randn(1, 16, 5, 8, 8, generator=torch.Generator().manual_seed(s)) for _, s in part])
            z = sample(dit, ctx, uctx, noise, sig, cfg)
            clips = vae.decode(z).numpy()
            for (c, _), v in zip(part, clips):
                got = check_clips.judge(v)
                want = dict(zip(["colour", "shape", "direction", "background"], c))
                ok = [got.get(k) == want[k] for k in KEYS]
                for k, o in zip(KEYS, ok):
                    hits[k] += int(o)
                both += int(all(ok))
    m = len(jobs)
    return {"checkpoint": str(ckpt), "step": step, "clips": m, **{k: round(100 * hits[k] / m, 1) for k in KEYS},
            "all_four": round(100 * both / m, 1), "steps": steps, "shift": shift, "cfg": cfg}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--work", default=str(Path(__file__).resolve().parents[2] / "build" / "train_video"),
                    help="folder with spiece.model and the VAE checkpoints")
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--shift", type=float, default=3.0)
    ap.add_argument("--cfg", type=float, default=4.0)
    ap.add_argument("--log", default=None, help="append the JSON line to this file too")
    args = ap.parse_args()
    torch.set_num_threads(1)
    t = time.time()
    r = judge_checkpoint(args.checkpoint, args.work, tuple(int(s) for s in args.seeds.split(",")), args.steps,
                         args.shift, args.cfg)
    r["seconds"] = round(time.time() - t, 1)
    line = json.dumps(r)
    print(line, flush=True)
    if args.log:
        with open(args.log, "a") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()

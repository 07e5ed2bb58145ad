"""How much each caption attribute moves the trained DiT, and whether the direction word moves the clip.

Loads a DiT checkpoint (`build/train_video/dit.pt` while training: its EMA weights; or a
`dit_final*.pt`) and prints, at several noise levels:
  1. the relative change of the velocity ||v(c') - v(c)|| / ||v(c)|| when one attribute of the caption
     c is swapped (colour, shape, direction left->right and left->up, background), same noise and
     sigma (4 noise draws): an attribute the model ignores moves v by a few percent;
  2. the predicted clean clip's object motion x0 = x_t - sigma v for the four direction words from the
     same noise: the centroid (latent cells, x then y) of |x0 - background latent| from latent frame 1
     to the last, conditional and with CFG 4 against Wan's default negative prompt. A model that
     follows the direction word moves it the caption's way (right: +x, down: +y).
Measured on the shipped wan-shapes DiT (step 8,600, see models/wan-shapes/README.md), caption "a red
circle moving left on a black background": swapping the direction moves v by 3-7 %, the shape by
1-5 %, the colour (red -> green) by 5-12 %, the background by 65-150 %; the predicted motion is set by
the noise, not the word (all four words give the same dx, dy per seed). 200 more steps of fine-tuning
with a frame-difference loss and contrastive flow matching against the time-reversed clip changed
neither figure measurably.

  OMP_NUM_THREADS=1 /usr/bin/python3 tools/train_video/probe_conditioning.py build/train_video/dit.pt
"""
import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import data  # noqa: E402
import stage_dit  # noqa: E402


def load(ckpt, work):
    st = torch.load(ckpt)
    t5_sd, dit_sd = (st["ema"]["t5"], st["ema"]["dit"]) if "ema" in st else (st["t5"], st["dit"])
    t5, dit = stage_dit.build_for(work, dit_sd)
    t5.load_state_dict(t5_sd)
    dit.load_state_dict(dit_sd)
    return t5.eval(), dit.eval()


def centroid_motion(x0, bg):
    """(dx, dy) in latent cells of the |x0 - bg| centroid from latent frame 1 to the last; x0 [16, T, h, w]."""
    d = (x0 - bg).norm(dim=0)
    _, h, w = d.shape
    m = d / d.sum(dim=(1, 2), keepdim=True)
    cx = (m * torch.arange(w).float().view(1, 1, w)).sum(dim=(1, 2))
    cy = (m * torch.arange(h).float().view(1, h, 1)).sum(dim=(1, 2))
    return float(cx[-1] - cx[1]), float(cy[-1] - cy[1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--work", default=str(Path(__file__).resolve().parents[2] / "build" / "train_video"),
                    help="folder with spiece.model and vae_final.pt")
    ap.add_argument("--caption", default="red,circle,left,black", help="colour,shape,direction,background")
    ap.add_argument("--cfg", type=float, default=4.0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    t5, dit = load(args.checkpoint, args.work)
    vae = stage_dit.load_vae(args.work)
    bg_latents = stage_dit.background_latents(vae)
    cap, _, neg = stage_dit.caption_ids(args.work)
    base = tuple(args.caption.split(","))
    if base not in cap:
        raise SystemExit(f"--caption {args.caption}: not a caption of the grammar")
    swaps = {"colour": 0, "shape": 1, "direction": 2, "direction_ud": 2, "background": 3}
    values = {"colour": list(data.COLOURS), "shape": data.SHAPES, "direction": ["left", "right"],
              "direction_ud": ["left", "up"], "background": list(data.BACKGROUNDS)}
    ctx = lambda ids: dit.embed_context(common.encode_text(t5, [ids]))
    with torch.no_grad():
        c_base = ctx(cap[base])
        lat = (1, 16, 5, 8, 8)
        print("relative change of the velocity when one attribute is swapped:")
        for sig in (1.0, 0.8, 0.5, 0.3):
            noise = torch.randn((4,) + lat[1:], generator=torch.Generator().manual_seed(1))
            t = torch.full((4,), sig * 1000.0)
            vb = dit(sig * noise, t, c_base.expand(4, -1, -1))
            row = f"  sigma {sig}:"
            for name, i in swaps.items():
                alt = list(base)
                alt[i] = next(v for v in values[name] if v != base[i] and (i != 3 or v != base[0]))
                if i == 0 and alt[0] == base[3]:
                    alt[0] = next(v for v in values[name] if v not in (base[0], base[3]))
                v = dit(sig * noise, t, ctx(cap[tuple(alt)]).expand(4, -1, -1))
                row += f" {name} {float((v - vb).norm() / vb.norm()):.3f}"
            print(row)
        print("predicted clip's object motion (dx, dy latent cells) per direction word, seeds 0-2:")
        c_neg = ctx(neg)
        for sig in (1.0, 0.9, 0.7):
            for guided in (False, True):
                row = f"  sigma {sig} {'cfg ' + str(args.cfg) if guided else 'cond':>7}:"
                for d in data.DIRECTIONS:
                    c = ctx(cap[(base[0], base[1], d, base[3])])
                    moves = []
                    for seed in range(3):
                        xt = sig * torch.randn(lat, generator=torch.Generator().manual_seed(seed))
                        t = torch.tensor([sig * 1000.0])
                        v = dit(xt, t, c)
                        if guided:
                            vu = dit(xt, t, c_neg)
                            v = vu + args.cfg * (v - vu)
                        moves.append(centroid_motion((xt - sig * v)[0], bg_latents[base[3]]))
                    row += f" {d}: " + " ".join(f"({a:+.2f},{b:+.2f})" for a, b in moves)
                print(row)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Trains the wan-shapes text-to-video model (Wan2.1 architecture, tiny) and exports it.

    OMP_NUM_THREADS=2 nice -n 19 /usr/bin/python3 tools/train_video/train.py --out models/wan-shapes

Stages (each resumable from its checkpoint in --work; a finished stage is skipped):
  tokenizer -> vae -> vae_decoder (the decoder fine-tuned alone: latents unchanged) -> dit (umT5 +
  DiT jointly, flow matching, caption dropout) -> draft (distilled 2-step student) -> export
  (models/wan-shapes and models/wan-shapes-draft).
Rerun the same command after an interruption to continue.
"""
import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

import common  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = Path(__file__).resolve().parents[2]
    ap.add_argument("--out", default=str(root / "models" / "wan-shapes"))
    ap.add_argument("--draft-out", default=None, help="default: <out>-draft")
    ap.add_argument("--work", default=str(root / "build" / "train_video"))
    ap.add_argument("--stages", default="tokenizer,vae,vae_decoder,dit,draft,export")
    ap.add_argument("--vae-decoder-steps", type=int, default=900)
    ap.add_argument("--dit-steps", type=int, default=1200)
    ap.add_argument("--dit-pool0", type=int, default=384, help="clips encoded before DiT training starts")
    ap.add_argument("--dit-fresh", type=int, default=1, help="new clips encoded into the pool per DiT step")
    ap.add_argument("--dit-object-weight", type=float, default=4.0,
                    help="loss weight of the latent cells a shape covers (background cells: 1)")
    ap.add_argument("--dit-train-shift", type=float, default=1.0,
                    help="shift applied to the training sigmas (3: as often at high noise as the sampler)")
    ap.add_argument("--dit-patch", default="1,2,2",
                    help="DiT patch size t,h,w (config.json patch_size); 1,1,1 gives one token per latent cell")
    ap.add_argument("--dit-init", default=None,
                    help="warm start a new DiT run from this checkpoint (e.g. an earlier dit.pt: its EMA weights "
                         "and latent pool); patch_embedding and head are converted when --dit-patch is finer")
    ap.add_argument("--dit-lr", type=float, default=6e-4)
    ap.add_argument("--dit-text-lr-mult", type=float, default=1.0,
                    help="learning-rate factor for the text path (umT5, text_embedding, every cross_attn)")
    ap.add_argument("--dit-contrast", type=float, default=0.0,
                    help="fraction of each batch also predicted with a swapped caption word (dit_contrast.py); 0: off")
    ap.add_argument("--dit-contrast-attrs", default="direction", help="words to swap, e.g. direction,shape")
    ap.add_argument("--dit-contrast-margin", type=float, default=0.2, help="relative error margin of the hinge")
    ap.add_argument("--dit-contrast-weight", type=float, default=0.5, help="weight of the hinge in the loss")
    ap.add_argument("--dit-contrast-sigma-min", type=float, default=0.3, help="only samples with sigma >= this")
    ap.add_argument("--draft-steps", type=int, default=50)
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    stages = args.stages.split(",")
    t0 = time.time()
    if "tokenizer" in stages:
        common.train_tokenizer(work)
    if "vae" in stages:
        import stage_vae
        stage_vae.run(work)
        common.log(work, f"after vae: {time.time() - t0:.0f} s")
    if "vae_decoder" in stages:
        import stage_vae_decoder
        stage_vae_decoder.run(work, steps=args.vae_decoder_steps)
        common.log(work, f"after vae_decoder: {time.time() - t0:.0f} s")
    if "dit" in stages:
        import stage_dit
        stage_dit.run(work, steps=args.dit_steps, pool0=args.dit_pool0, fresh=args.dit_fresh,
                      obj_weight=args.dit_object_weight, train_shift=args.dit_train_shift, lr=args.dit_lr,
                      patch_size=tuple(int(v) for v in args.dit_patch.split(",")), init=args.dit_init,
                      text_lr_mult=args.dit_text_lr_mult,
                      contrast=dict(frac=args.dit_contrast, margin=args.dit_contrast_margin,
                                    weight=args.dit_contrast_weight, sigma_min=args.dit_contrast_sigma_min,
                                    attrs=args.dit_contrast_attrs.split(",")) if args.dit_contrast > 0 else None)
        common.log(work, f"after dit: {time.time() - t0:.0f} s")
    if "draft" in stages:
        import stage_draft
        stage_draft.run(work, steps=args.draft_steps)
        common.log(work, f"after draft: {time.time() - t0:.0f} s")
    if "export" in stages:
        import export
        export.run(work, Path(args.out), Path(args.draft_out or (args.out.rstrip("/") + "-draft")))


if __name__ == "__main__":
    main()

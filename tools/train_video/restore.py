#!/usr/bin/env python3
"""Restores an exported wan-shapes folder into a training work folder, so a fresh machine (no
build/train_video checkpoints) can warm-start from the shipped weights.

Writes into --work: `spiece.model` (the folder's tokenizer), `vae_final.pt` and `vae_decoder_final.pt`
(both the folder's VAE: its encoder is the one every latent was made with, its decoder the fine-tuned
one), and `init_dit.pt` ({"t5", "dit", "t5_cfg", "dit_cfg", "step"}: the folder's umT5 and DiT, which
are the EMA weights the export wrote). Pass that file to `train.py --dit-init` or to `judge_dit.py`.
Existing files are kept unless --force.

  /usr/bin/python3 tools/train_video/restore.py --model models/wan-shapes --work build/train_video
"""
import argparse
import json
import shutil
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import stage_dit  # noqa: E402
from st_io import read_safetensors  # noqa: E402
from wan_modules import T5Encoder, WanModel, WanVAE  # noqa: E402


def _load_into(module, path, what):
    """Loads a safetensors file into a module; every name and shape must match (strict)."""
    sd = read_safetensors(path)
    missing, unexpected = module.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise SystemExit(f"{path}: {what} names differ: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return module


def restore(model, work, force=False, step=None):
    model, work = Path(model), Path(work)
    work.mkdir(parents=True, exist_ok=True)
    spm = work / "spiece.model"
    if force or not spm.exists():
        shutil.copyfile(model / "google" / "umt5-xxl" / "spiece.model", spm)
    vae = WanVAE()  # the shipped VAE's config (dim 8, z 16, [1,2,4,4], 2 res blocks): names and shapes are checked
    _load_into(vae, model / "Wan2.1_VAE.safetensors", "VAE")
    for name in ("vae_final.pt", "vae_decoder_final.pt"):
        if force or not (work / name).exists():
            common.atomic_save({"model": vae.state_dict(), "cfg": vae.cfg}, work / name)
    cfg = json.loads((model / "config.json").read_text())
    t5 = T5Encoder(common.vocab_size(spm), **stage_dit.T5_CFG)
    _load_into(t5, model / "models_t5_umt5-xxl-enc-bf16.safetensors", "umT5")
    dit = WanModel(**stage_dit.DIT_CFG, patch_size=tuple(cfg["patch_size"]))
    _load_into(dit, model / "diffusion_pytorch_model.safetensors", "DiT")
    out = work / "init_dit.pt"
    if force or not out.exists():
        common.atomic_save({"t5": t5.state_dict(), "dit": dit.state_dict(), "t5_cfg": t5.cfg, "dit_cfg": dit.cfg,
                            "step": step}, out)
    common.log(work, f"restored {model} into {work} (DiT patch {tuple(cfg['patch_size'])}, step {step})")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = Path(__file__).resolve().parents[2]
    ap.add_argument("--model", default=str(root / "models" / "wan-shapes"))
    ap.add_argument("--work", default=str(root / "build" / "train_video"))
    ap.add_argument("--step", type=int, default=None, help="the step the folder's weights were trained to (logged)")
    ap.add_argument("--force", action="store_true", help="overwrite existing files in --work")
    args = ap.parse_args()
    restore(args.model, args.work, args.force, args.step)


if __name__ == "__main__":
    main()

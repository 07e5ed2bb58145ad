#!/usr/bin/env python3
"""End-to-end check of an exported folder: runs `frugal video` in reference mode (--noise, Euler,
--out-raw) and the same pipeline in PyTorch on the exported files; prints max|diff|/max|ref|.

    /usr/bin/python3 tools/train_video/crosscheck_engine.py --model models/wan-shapes --frugal build-me/frugal
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from st_io import read_safetensors  # noqa: E402
from stage_draft import euler_sigmas, sample  # noqa: E402
from wan_modules import T5Encoder, WanModel, WanVAE  # noqa: E402


def load_folder(d):
    d = Path(d)
    cfg = json.loads((d / "config.json").read_text())
    dsd = read_safetensors(d / "diffusion_pytorch_model.safetensors")
    dit = WanModel(dim=cfg["dim"], ffn_dim=cfg["ffn_dim"], freq_dim=cfg["freq_dim"], text_dim=cfg["text_dim"],
                   text_len=cfg["text_len"], num_heads=cfg["num_heads"], num_layers=cfg["num_layers"],
                   patch_size=cfg.get("patch_size", (1, 2, 2)))
    dit.load_state_dict(dsd)
    tsd = read_safetensors(d / "models_t5_umt5-xxl-enc-bf16.safetensors")
    nl = len({k.split(".")[1] for k in tsd if k.startswith("blocks.")})
    v, dim = tsd["token_embedding.weight"].shape
    t5 = T5Encoder(v, dim, tsd["blocks.0.attn.q.weight"].shape[0], tsd["blocks.0.ffn.fc1.weight"].shape[0],
                   tsd["blocks.0.pos_embedding.embedding.weight"].shape[1], nl)
    t5.load_state_dict(tsd)
    vsd = read_safetensors(d / "Wan2.1_VAE.safetensors")
    vae = WanVAE(dim=vsd["encoder.conv1.weight"].shape[0],
                 num_res_blocks=(len({k.split(".")[2] for k in vsd if k.startswith("encoder.downsamples.")}) - 3) // 4)
    vae.load_state_dict(vsd)
    return dit.eval(), t5.eval(), vae.eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--frugal", default="build-me/frugal")
    ap.add_argument("--prompt", default="a red circle moving right on a black background")
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--shift", type=float, default=3.0)
    ap.add_argument("--cfg", type=float, default=4.0)
    args = ap.parse_args()
    torch.set_num_threads(2)
    dit, t5, vae = load_folder(args.model)
    spm = Path(args.model) / "google" / "umt5-xxl" / "spiece.model"
    ids, neg = common.spm_encode(spm, [args.prompt, common.WAN_NEG])
    noise = torch.randn(1, 16, 5, 8, 8, generator=torch.Generator().manual_seed(5))
    with tempfile.TemporaryDirectory() as td:
        nf, rf = Path(td) / "noise.f32", Path(td) / "raw.f32"
        noise[0].numpy().astype("<f4").tofile(nf)
        cmd = [args.frugal, "video", "-m", args.model, "-p", args.prompt, "--size", "64x64", "--frames", "17",
               "--steps", str(args.steps), "--sampler", "euler", "--shift", str(args.shift), "--cfg", str(args.cfg),
               "--noise", str(nf), "--out-raw", str(rf), "--raw-unclamped", "--precision", "f32", "-q",
               "-o", str(Path(td) / "c.mp4")]
        subprocess.run(cmd, check=True)
        cpp = torch.from_numpy(np.fromfile(rf, dtype=np.float32).reshape(3, 17, 64, 64))
    with torch.no_grad():
        ctx = dit.embed_context(t5(torch.tensor([ids])))
        uctx = dit.embed_context(t5(torch.tensor([neg])))
        z = sample(dit, ctx, uctx, noise, euler_sigmas(args.steps, args.shift), args.cfg)
        ref = vae.decode_raw(z)[0]
    r = float((cpp - ref).abs().max() / ref.abs().max())
    print(f"engine vs PyTorch on the exported files: max|diff|/max|ref| = {r:.2e} (ids {ids})")
    return 0 if r < 1e-3 else 1


if __name__ == "__main__":
    sys.exit(main())

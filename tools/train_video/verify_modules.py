#!/usr/bin/env python3
"""Checks wan_modules.py against the official-code reference data in tests/data/wan/."""
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from st_io import read_safetensors  # noqa: E402
from wan_modules import T5Encoder, WanModel, WanVAE  # noqa: E402

ROOT = Path(__file__).resolve().parents[2] / "tests" / "data" / "wan"


def load(case, name, dtype=np.float32):
    meta = json.loads((ROOT / case / "meta.json").read_text())
    spec = {**meta.get("inputs", {}), **meta.get("outputs", {})}[name]
    a = np.fromfile(ROOT / case / spec["file"], dtype=dtype).reshape(spec["shape"])
    return torch.from_numpy(a.copy())


def rel(a, b):
    return float((a - b).abs().max() / b.abs().max())


def check(name, a, b, tol):
    r = rel(a, b)
    print(f"  {name:28s} rel {r:.2e} {'ok' if r <= tol else 'FAIL'}")
    return r <= tol


def main():
    torch.set_num_threads(2)
    ok = True
    # VAE
    meta = json.loads((ROOT / "vae_a" / "meta.json").read_text())["spec"]["cfg"]
    vae = WanVAE(dim=meta["dim"], num_res_blocks=meta["num_res_blocks"])
    vae.load_state_dict(read_safetensors(ROOT / "vae_a" / "Wan2.1_VAE.safetensors"), strict=True)
    vae.eval()
    with torch.no_grad():
        print("VAE vae_a")
        ok &= check("video_mu", vae.encode(load("vae_a", "video")[None])[0], load("vae_a", "video_mu"), 2e-5)
        ok &= check("image_mu", vae.encode(load("vae_a", "image")[None])[0], load("vae_a", "image_mu"), 2e-5)
        ok &= check("z_decoded_raw", vae.decode_raw(load("vae_a", "z")[None])[0], load("vae_a", "z_decoded_raw"), 2e-5)
        ok &= check("video_decoded", vae.decode(load("vae_a", "video_mu")[None])[0], load("vae_a", "video_decoded"), 2e-5)
    # T5
    t5m = json.loads((ROOT / "t5_a" / "meta.json").read_text())["spec"]["cfg"]
    t5 = T5Encoder(t5m["vocab"], t5m["dim"], t5m["dim_attn"], t5m["dim_ffn"], t5m["num_heads"], t5m["num_layers"],
                   t5m["num_buckets"])
    t5.load_state_dict(read_safetensors(ROOT / "t5_a" / "models_t5_umt5-xxl-enc.safetensors"), strict=True)
    t5.eval()
    with torch.no_grad():
        print("T5 t5_a")
        bk = t5.blocks[0].pos_embedding.buckets(512, 512)
        ref = load("t5_a", "rel_bucket", np.int32)
        mine = torch.stack([bk[-r, 0] if r <= 0 else bk[0, r] for r in range(-511, 512)])
        ok &= bool((mine == ref.long()).all())
        print("  rel_bucket", "ok" if (mine == ref.long()).all() else "FAIL")
        for case in ("short", "long"):
            ids = load("t5_a", f"ids_{case}", np.int32).long()
            mask = load("t5_a", f"mask_{case}", np.int32).long()
            out = t5(ids[None], mask[None])[0]
            ref = load("t5_a", f"out_{case}")
            ok &= check(f"out_{case} (padded)", out[:ref.shape[0]], ref, 1e-5)
            L = int(mask.sum())
            ok &= check(f"out_{case} (unpadded)", t5(ids[None, :L])[0], ref, 1e-5)
    # DiT
    for case, ts in (("dit_a", (999, 500)), ("dit_b", (937, 21))):
        cfg = json.loads((ROOT / case / "config.json").read_text())
        dit = WanModel(dim=cfg["dim"], ffn_dim=cfg["ffn_dim"], freq_dim=cfg["freq_dim"], text_dim=cfg["text_dim"],
                       text_len=cfg["text_len"], num_heads=cfg["num_heads"], num_layers=cfg["num_layers"],
                   patch_size=cfg.get("patch_size", (1, 2, 2)))
        dit.load_state_dict(read_safetensors(ROOT / case / "diffusion_pytorch_model.safetensors"), strict=True)
        dit.eval()
        print("DiT", case)
        with torch.no_grad():
            x = load(case, "x")[None]
            ctx = dit.embed_context(load(case, "context")[None])
            for t in ts:
                out = dit(x, torch.tensor([float(t)]), ctx)[0]
                ok &= check(f"out_t{t}", out, load(case, f"out_t{t}"), 1e-5)
    print("ALL OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    sys.exit(main())

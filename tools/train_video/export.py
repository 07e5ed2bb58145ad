"""Writes the trained parts as a Wan2.1 release folder (official file and tensor names).

Also a command, for one DiT checkpoint (its EMA weights when it has them, e.g. a running dit.pt) into a
scratch folder, with the VAE and tokenizer of --work (see restore.py), final tier only:

  /usr/bin/python3 tools/train_video/export.py --work build/train_video/base --dit build/train_video/run/dit.pt --out /tmp/x
"""
import argparse
import json
import shutil
from pathlib import Path

import torch

import common
import data
from st_io import read_safetensors, write_safetensors
from wan_modules import T5Encoder, WanModel, WanVAE

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT / "tests" / "data" / "wan"


def _names(path):
    return set(read_safetensors(path).keys())


# The settings each folder is meant to be sampled with (generation_config.json: what `frugal video`
# uses when a flag is not given). Chosen by the held-out evaluation in the model card.
FINAL_GEN = {"size": "64x64", "frames": 17, "steps": 20, "sampler": "euler", "shift": 3.0, "cfg": 4.0}
DRAFT_GEN = {"size": "64x64", "frames": 17, "steps": 2, "sampler": "euler", "shift": 1.0, "cfg": 1.0}


def write_folder(out, dit_sd, dit_cfg, t5_sd, t5_cfg, vae_sd, vae_cfg, spm, extra_meta, gen):
    out = Path(out)
    (out / "google" / "umt5-xxl").mkdir(parents=True, exist_ok=True)
    cfg = dict(sorted(dit_cfg.items()))
    (out / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    common.save_json(out / "generation_config.json", gen)
    meta = {"component": "WanModel", "producer": "tools/train_video (frugal wan-shapes)", **extra_meta}
    write_safetensors(dit_sd, out / "diffusion_pytorch_model.safetensors", meta)
    write_safetensors(vae_sd, out / "Wan2.1_VAE.safetensors",
                      {"component": "WanVAE_", "producer": "tools/train_video", **{k: json.dumps(v) for k, v in vae_cfg.items()}})
    write_safetensors(t5_sd, out / "models_t5_umt5-xxl-enc-bf16.safetensors",
                      {"component": "T5Encoder(umt5)", "producer": "tools/train_video", "dtype": "F32",
                       **{k: json.dumps(v) for k, v in t5_cfg.items()}})
    shutil.copyfile(spm, out / "google" / "umt5-xxl" / "spiece.model")
    train, held = data.split_combos()
    common.save_json(out / "heldout.json", {
        "grammar": "a {colour} {shape} moving {direction} on a {background} background",
        "seed": data.HELDOUT_SEED, "n_combinations": len(train) + len(held), "n_heldout": len(held),
        "heldout": [list(c) for c in held],
        "heldout_prompts": [data.caption(*c) for c in held]})


def check_names(out):
    """Exported names and per-tensor ranks must equal the official ones in the reference data."""
    pairs = [("diffusion_pytorch_model.safetensors", REF / "dit_a" / "diffusion_pytorch_model.safetensors"),
             ("Wan2.1_VAE.safetensors", REF / "vae_a" / "Wan2.1_VAE.safetensors"),
             ("models_t5_umt5-xxl-enc-bf16.safetensors", REF / "t5_a" / "models_t5_umt5-xxl-enc.safetensors")]
    norm = lambda names: {".".join("N" if p.isdigit() else p for p in n.split(".")) for n in names}
    for mine, ref in pairs:
        a, b = norm(_names(Path(out) / mine)), norm(_names(ref))
        if a != b:
            raise SystemExit(f"{mine}: names differ from the official layout: {sorted(a ^ b)[:10]}")


def run(work, out, draft_out):
    work = Path(work)
    # the decoder-fine-tuned VAE when that stage ran (same encoder, so the same latents)
    vae = torch.load(work / "vae_decoder_final.pt" if (work / "vae_decoder_final.pt").exists() else work / "vae_final.pt")
    dit = torch.load(work / "dit_final.pt")
    spm = work / "spiece.model"
    t5_cfg = {**dit["t5_cfg"]}
    write_folder(out, dit["dit"], dit["dit_cfg"], dit["t5"], t5_cfg, vae["model"], vae["cfg"], spm,
                 {"tier": "final"}, FINAL_GEN)
    check_names(out)
    common.log(work, f"exported {out}")
    if (work / "draft_final.pt").exists():
        dr = torch.load(work / "draft_final.pt")
        write_folder(draft_out, dr["dit"], dr["dit_cfg"], dit["t5"], t5_cfg, vae["model"], vae["cfg"], spm,
                     {"tier": "draft"}, DRAFT_GEN)
        check_names(draft_out)
        common.log(work, f"exported {draft_out}")
    n = lambda sd: sum(v.numel() for v in sd.values())
    common.log(work, f"params: VAE {n(vae['model'])}, umT5 {n(dit['t5'])}, DiT {n(dit['dit'])}")


def export_checkpoint(work, ckpt, out):
    """One DiT checkpoint (EMA weights if present) + work's VAE and tokenizer -> a final-tier folder."""
    work = Path(work)
    vae = torch.load(work / "vae_decoder_final.pt" if (work / "vae_decoder_final.pt").exists() else work / "vae_final.pt")
    st = torch.load(ckpt)
    t5_sd, dit_sd = (st["ema"]["t5"], st["ema"]["dit"]) if "ema" in st else (st["t5"], st["dit"])
    t5_cfg = st.get("t5_cfg") or T5Encoder(common.vocab_size(work / "spiece.model")).cfg
    write_folder(out, dit_sd, st["dit_cfg"], t5_sd, t5_cfg, vae["model"], vae["cfg"], work / "spiece.model",
                 {"tier": "final", "step": st.get("step")}, FINAL_GEN)
    check_names(out)
    print(f"exported {ckpt} (step {st.get('step')}) to {out}")


def main():
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", required=True, help="folder with spiece.model and vae_(decoder_)final.pt")
    ap.add_argument("--dit", required=True, help="a DiT checkpoint (dit.pt, dit_final.pt, restore.py's init_dit.pt)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    export_checkpoint(args.work, args.dit, args.out)


if __name__ == "__main__":
    main()

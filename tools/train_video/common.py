"""Shared helpers for the wan-shapes training stages."""
import json
import os
import subprocess
import time
from pathlib import Path

import torch

import data

TEXT_LEN = 32
# wan/configs/shared_config.py sample_neg_prompt: what `frugal video` uses when --negative is absent.
WAN_NEG = ("色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，"
           "JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，"
           "手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走")


def log(work, msg):
    line = f"[{time.strftime('%H:%M:%S')}] {msg}"
    print(line, flush=True)
    with open(Path(work) / "train.log", "a") as f:
        f.write(line + "\n")


def train_tokenizer(work):
    """spm_train (unigram) on every caption; umT5's special ids (pad 0, </s> 1, unk 2, no bos)."""
    work = Path(work)
    model = work / "spiece.model"
    if model.exists():
        return model
    txt = work / "captions.txt"
    caps = [data.caption(*c) for c in data.all_combos()]
    # every grammar word is one piece (user-defined "▁word"); the alphabet line gives other text
    # character pieces instead of <unk>.
    alphabet = " ".join("abcdefghijklmnopqrstuvwxyz0123456789,.")
    txt.write_text("\n".join(caps * 20 + [alphabet] * 20) + "\n")
    words = sorted({w for c in caps for w in c.split()})
    subprocess.run(["spm_train", f"--input={txt}", f"--model_prefix={work / 'spiece'}", "--model_type=unigram",
                    "--vocab_size=72", "--hard_vocab_limit=false", "--character_coverage=1.0",
                    "--pad_id=0", "--eos_id=1", "--unk_id=2", "--bos_id=-1", "--pad_piece=<pad>",
                    "--eos_piece=</s>", "--unk_piece=<unk>", "--user_defined_symbols=" + ",".join("▁" + w for w in words),
                    "--num_threads=1", "--minloglevel=2"], check=True)
    return model


def spm_encode(model, texts):
    """ids = pieces + </s>, truncated like the HF tokenizer (first TEXT_LEN-1 pieces, then </s>)."""
    p = subprocess.run(["spm_encode", f"--model={model}", "--output_format=id"], input="\n".join(texts) + "\n",
                       capture_output=True, text=True, check=True)
    lines = p.stdout.split("\n")[:len(texts)]
    out = []
    for ln in lines:
        ids = [int(v) for v in ln.split()][:TEXT_LEN - 1]
        out.append(ids + [1])
    return out


def vocab_size(model):
    p = subprocess.run(["spm_export_vocab", f"--model={model}"], capture_output=True, text=True, check=True)
    return len([ln for ln in p.stdout.split("\n") if ln])


def pad_ids(batch):
    L = max(len(x) for x in batch)
    ids = torch.zeros(len(batch), L, dtype=torch.long)
    mask = torch.zeros(len(batch), L, dtype=torch.long)
    for i, x in enumerate(batch):
        ids[i, :len(x)] = torch.tensor(x)
        mask[i, :len(x)] = 1
    return ids, mask


def encode_text(t5, batch):
    """T5 context [B, L, dim] with rows past each prompt's length zeroed (the pipeline trims them,
    then the DiT zero-pads to text_len)."""
    ids, mask = pad_ids(batch)
    out = t5(ids, mask)
    return out * mask[..., None].to(out.dtype)


def save_json(path, obj):
    Path(path).write_text(json.dumps(obj, indent=1) + "\n")


def atomic_save(obj, path):
    tmp = str(path) + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)

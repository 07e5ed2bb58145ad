"""Exports the trained demo models to GGUF with frugal's own writer and measures them with frugal.

Offline tool; needs a built `frugal` binary (cmake --build build-demo --target frugal):
  OMP_NUM_THREADS=1 /usr/bin/python3 tools/train/export.py --frugal build-demo/frugal [--only draft]
For each model (target, draft):
  1. writes the interchange checkpoint (JSON header + raw little-endian f32 tensors) to the work
     dir and runs `frugal convert` twice: F32 (kept in the work dir) and F16 (models/);
  2. checks that frugal's logits match PyTorch's on a held-out snippet (`frugal logits`): the F32
     file must agree to ~1e-3, which proves the tensor layout and the RoPE pairing; the F16 file's
     difference is reported;
  3. checks that frugal's tokenizer gives the same ids as tools/train/bpe.py on the snippet;
  4. runs `frugal perplexity` on the whole held-out split and on models/heldout-snippet.txt;
  5. records frugal's greedy continuation of a fixed prompt.
Then it measures the uniform and unigram baselines on the same scored tokens and writes
models/model-card.json (read by tests/models/bundled_models_test.cc).
"""

import argparse
import json
import math
import os
import re
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import model as llama  # noqa: E402

MODEL_FILES = {"target": "kjv-target-f16.gguf", "draft": "kjv-draft-f16.gguf"}
GREEDY_PROMPT = "And God said"
GREEDY_TOKENS = 32
SNIPPET_MIN_CHARS = 6000
LICENSE = "KJV text: public domain (Debian bible-kjv-text); weights: CC0-1.0"
CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


# The recommended sampling settings written into both GGUFs (general.sampling.* as llama.cpp reads
# them; frugal.sampling.max_tokens is frugal's): on these 5.8 M / 0.9 M-parameter models, plain
# temperature-1 sampling over the whole vocabulary reads as gibberish, while top-k 40 with min-p 0.05
# at temperature 0.8 reads as KJV-like English. No repeat penalty: greedy decoding stays the model's
# own argmax (the model card's greedy text). 64 tokens is a reply of a few verses, a quarter of the
# 256-token context.
SAMPLING = {"temp": 0.8, "top_k": 40, "top_p": 0.95, "min_p": 0.05, "max_tokens": 64}


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def write_interchange(net, tok, name, work):
    header_path, data_path = os.path.join(work, name + ".export.json"), os.path.join(work, name + ".export.f32")
    tensors, offset = [], 0
    with open(data_path, "wb") as f:
        for tname, arr in net.gguf_tensors():
            f.write(arr.astype("<f4").tobytes())
            tensors.append({"name": tname, "shape": list(arr.shape), "offset": offset})
            offset += arr.size
    cfg = net.cfg
    header = {
        "name": f"frugal-kjv-{name}", "license": LICENSE,
        "description": f"frugal demo {name} model trained on the King James Bible (tools/train)",
        "hparams": {k: getattr(cfg, k) for k in ("n_ctx", "n_embd", "n_layer", "n_ff", "n_head", "n_head_kv",
                                                 "rope_theta", "rms_eps")},
        "tokenizer": {"tokens": tok.tokens, "token_type": tok.token_types(),
                      "merges": [a + " " + b for a, b in tok.ranks], "bos_id": tok.bos_id, "eos_id": tok.eos_id,
                      "eot_id": tok.token_to_id["<|im_end|>"], "chat_template": CHATML_TEMPLATE},
        "sampling": SAMPLING,
        "tensors": tensors,
    }
    with open(header_path, "w", encoding="utf-8") as f:
        json.dump(header, f)
    return header_path, data_path


def frugal_logits(frugal, gguf, ids, work):
    out = os.path.join(work, "logits.f32")
    run([frugal, "logits", "-m", gguf, "--ids", ",".join(map(str, ids)), "--out", out, "-t", "1"])
    return np.fromfile(out, dtype="<f4").reshape(len(ids), -1)


def frugal_perplexity(frugal, gguf, path):
    out = run([frugal, "perplexity", "-m", gguf, "-f", path, "-t", "1"]).stdout
    m = re.search(r"PPL = ([0-9.]+) \+/- ([0-9.]+)", out)
    return float(m.group(1)), float(m.group(2))


def frugal_greedy(frugal, gguf):
    out = run([frugal, "run", "-m", gguf, "-p", GREEDY_PROMPT, "-n", str(GREEDY_TOKENS), "--temp", "0",
               "-t", "1"]).stdout
    assert out.startswith(GREEDY_PROMPT) and out.endswith("\n"), out
    return out[len(GREEDY_PROMPT):-1]


def scored_targets(ids, n_ctx, bos_id):
    """(context windows, target ids) exactly as `frugal perplexity` scores them (second half)."""
    windows = []
    for c in range(len(ids) // n_ctx):
        w = list(ids[c * n_ctx:(c + 1) * n_ctx])
        w[0] = bos_id
        windows.append(w)
    targets = [w[j + 1] for w in windows for j in range(n_ctx // 2, n_ctx - 1)]
    return windows, targets


@torch.no_grad()
def torch_perplexity(net, windows, n_ctx):
    nll = []
    for w in windows:
        logp = torch.log_softmax(net(torch.tensor([w])).double(), -1)[0]  # [n_ctx, n_vocab]
        nll += [-logp[j, w[j + 1]].item() for j in range(n_ctx // 2, n_ctx - 1)]
    return math.exp(sum(nll) / len(nll))


def unigram_ppl(train_ids, n_vocab, targets):
    counts = np.bincount(train_ids, minlength=n_vocab).astype(np.float64) + 1.0  # add-one smoothing
    logp = np.log(counts / counts.sum())
    return math.exp(-float(np.mean(logp[np.array(targets)])))


def write_snippet(work, models_dir):
    held = open(os.path.join(work, "heldout.txt"), encoding="utf-8").read()
    chapters = held.split("\n\n")
    text = ""
    for c in chapters:
        text += c + "\n\n"
        if len(text) >= SNIPPET_MIN_CHARS:
            break
    path = os.path.join(models_dir, "heldout-snippet.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path, text


def export_one(name, args, tok, snippet_text, snippet_path, heldout_path):
    ckpt = torch.load(os.path.join(args.work, name + ".pt"))
    cfg = llama.Config(**ckpt["config"])
    net = llama.Llama(cfg)
    net.load_state_dict(ckpt["state"])
    net.eval()
    header, data = write_interchange(net, tok, name, args.work)
    f32_path = os.path.join(args.work, f"kjv-{name}-f32.gguf")
    f16_path = os.path.join(args.models, MODEL_FILES[name])
    run([args.frugal, "convert", "--header", header, "--data", data, "-o", f32_path, "--type", "f32"])
    run([args.frugal, "convert", "--header", header, "--data", data, "-o", f16_path, "--type", "f16"])

    # Tokenizer agreement: frugal's ids for the snippet == bpe.py's.
    frugal_ids = json.loads(run([args.frugal, "tokenize", "-m", f16_path, snippet_text]).stdout)
    assert frugal_ids == tok.encode(snippet_text, add_bos=True), "frugal and bpe.py tokenize differently"

    ids = frugal_ids[:96]
    ref = net(torch.tensor([ids]))[0].numpy()
    d32 = float(np.abs(frugal_logits(args.frugal, f32_path, ids, args.work) - ref).max())
    d16 = float(np.abs(frugal_logits(args.frugal, f16_path, ids, args.work) - ref).max())
    print(f"{name}: max |logit(frugal) - logit(PyTorch)| = {d32:.2e} (F32 file), {d16:.2e} (F16 file)")
    assert d32 < 2e-3, "F32 export disagrees with PyTorch: layout or RoPE convention is wrong"
    assert d16 < 0.25, "F16 export disagrees with PyTorch beyond F16 rounding"

    held_ppl, held_err = frugal_perplexity(args.frugal, f16_path, heldout_path)
    snip_ppl, _ = frugal_perplexity(args.frugal, f16_path, snippet_path)
    held_ids = [tok.bos_id] + tok.encode(open(heldout_path, encoding="utf-8").read())
    torch_ppl = torch_perplexity(net, scored_targets(held_ids, cfg.n_ctx, tok.bos_id)[0], cfg.n_ctx)
    print(f"{name}: held-out PPL {held_ppl:.3f} +/- {held_err:.3f} (PyTorch F32: {torch_ppl:.3f}), "
          f"snippet PPL {snip_ppl:.3f}")
    greedy = frugal_greedy(args.frugal, f16_path)
    print(f"{name}: greedy: {GREEDY_PROMPT}{greedy}")
    train_meta = json.load(open(os.path.join(args.work, name + ".train.json")))
    extra = {}
    if "distill" in train_meta:  # tools/train/distill.py fine-tuned this model from the target
        d = train_meta["distill"]
        extra["distilled_from_target"] = {
            "steps": d["steps"], "tokens": d["tokens"], "minutes": round(d["minutes"], 1),
            "agreement_before": round(d["agreement_before"], 4), "heldout_ppl_before": round(d["heldout_ppl_before"], 4),
            "notes": "tools/train/distill.py: KL(target || draft) on the target's top-k log-probs + a small "
                     "hard-label CE, starting from the CE-trained draft",
            "runs": [{"steps": r["steps"], "minutes": round(r["minutes"], 1), "lr": r["hparams"]["lr"],
                      "target_greedy_windows": bool(r["hparams"].get("extra")),
                      "heldout_agreement": round(r["history"][-1]["agreement"], 4),
                      **({"target_greedy_text_agreement": round(r["history"][-1]["greedy_text_agreement"], 4)}
                         if "greedy_text_agreement" in r["history"][-1] else {})}
                     for r in train_meta.get("runs", []) if r.get("kind") == "distill from target"]}
    return net, {
        "file": MODEL_FILES[name], "params": net.n_params(), "size_bytes": os.path.getsize(f16_path),
        "config": ckpt["config"], "train_steps": train_meta["steps"], "train_tokens": train_meta["tokens"],
        "train_minutes": round(train_meta["minutes"], 1), "heldout_ppl": round(held_ppl, 4),
        "heldout_ppl_stderr": round(held_err, 4), "heldout_ppl_pytorch_f32": round(torch_ppl, 4),
        "snippet_ppl": round(snip_ppl, 4), "max_logit_diff_f32": d32, "max_logit_diff_f16": d16,
        "greedy": {"prompt": GREEDY_PROMPT, "n_predict": GREEDY_TOKENS, "text": greedy},
        **extra,
    }


@torch.no_grad()
def draft_agreement(target, draft, windows):
    """Fraction of positions where the draft's argmax equals the target's (speculative decoding)."""
    same = total = 0
    for w in windows:
        x = torch.tensor([w])
        same += int((target(x).argmax(-1) == draft(x).argmax(-1)).sum())
        total += len(w)
    return same / total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="build-demo/train")
    ap.add_argument("--models", default="models")
    ap.add_argument("--frugal", default="build-demo/frugal")
    ap.add_argument("--only", choices=("target", "draft"),
                    help="re-export only this model; the other's GGUF and model-card entry are kept as they are")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_grad_enabled(False)
    tok = bpe.Tokenizer.load(os.path.join(args.work, "tokenizer.json"))
    snippet_path, snippet_text = write_snippet(args.work, args.models)
    heldout_path = os.path.join(args.work, "heldout.txt")
    nets, card = {}, {"snippet": "heldout-snippet.txt", "n_ctx": 256, "scoring": "second half of each window",
                      "models": {}}
    if args.only:
        with open(os.path.join(args.models, "model-card.json"), encoding="utf-8") as f:
            card["models"] = json.load(f)["models"]
    for name in ("target", "draft"):
        if args.only and name != args.only:  # kept as is; its network is still needed for the agreement
            ckpt = torch.load(os.path.join(args.work, name + ".pt"))
            nets[name] = llama.Llama(llama.Config(**ckpt["config"]))
            nets[name].load_state_dict(ckpt["state"])
            nets[name].eval()
            continue
        nets[name], card["models"][name] = export_one(name, args, tok, snippet_text, snippet_path, heldout_path)

    train_ids = np.fromfile(os.path.join(args.work, "train.u16"), dtype=np.uint16).astype(np.int64)
    held_ids = [tok.bos_id] + tok.encode(open(heldout_path, encoding="utf-8").read())
    snip_ids = [tok.bos_id] + tok.encode(snippet_text)
    held_windows, held_targets = scored_targets(held_ids, 256, tok.bos_id)
    card["baselines"] = {
        "uniform_ppl": len(tok.tokens),
        "unigram_heldout_ppl": round(unigram_ppl(train_ids, len(tok.tokens), held_targets), 4),
        "unigram_snippet_ppl": round(unigram_ppl(train_ids, len(tok.tokens), scored_targets(snip_ids, 256, tok.bos_id)[1]), 4),
    }
    card["draft_target_argmax_agreement"] = round(draft_agreement(nets["target"], nets["draft"], held_windows), 4)
    card["heldout_tokens"] = len(held_ids)
    card["snippet_tokens"] = len(snip_ids)
    print(json.dumps(card["baselines"]), "agreement", card["draft_target_argmax_agreement"])
    with open(os.path.join(args.models, "model-card.json"), "w", encoding="utf-8") as f:
        json.dump(card, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

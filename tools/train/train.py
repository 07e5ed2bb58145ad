"""Trains one of frugal's bundled demo models (target or draft) on the prepared KJV token stream.

Offline tool. Run with Debian's interpreter and BLAS settings (see tools/train/README.md):
  OMP_NUM_THREADS=1 /usr/bin/python3 tools/train/train.py --model target --minutes 20
Windows are [BOS] + 255 corpus tokens starting at random offsets (the same BOS-first layout
`frugal perplexity` scores). AdamW, linear warm-up then cosine decay over a wall-time budget (or a fixed
step count), so the run fits its budget on a busy machine. Checkpoints go to the work dir.
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as llama  # noqa: E402

CONFIGS = {
    # ~6 M parameters (1 M of them the tied embedding).
    "target": llama.Config(n_embd=256, n_layer=6, n_head=8, n_head_kv=4, n_ff=768),
    # ~0.9 M parameters: same vocabulary and context, much thinner.
    "draft": llama.Config(n_embd=128, n_layer=2, n_head=4, n_head_kv=2, n_ff=384),
}
HPARAMS = {
    "target": dict(lr=3e-3, batch=16),
    "draft": dict(lr=4e-3, batch=16),
}


def progress(frac, step, loss, tok_s, eta_s, width=30):
    done = int(width * min(1.0, frac))
    bar = "#" * done + "-" * (width - done)
    sys.stdout.write(f"\r[{bar}] {100 * min(1.0, frac):5.1f}% step {step} loss {loss:.3f} "
                     f"{tok_s:,.0f} tok/s ETA {eta_s / 60:.1f} min ")
    sys.stdout.flush()


def batch_from(stream, cfg, batch, bos_id, gen):
    starts = torch.randint(0, len(stream) - cfg.n_ctx, (batch,), generator=gen).numpy()
    rows = np.stack([stream[s:s + cfg.n_ctx] for s in starts])  # [batch, n_ctx]: the targets
    x = np.concatenate([np.full((batch, 1), bos_id, dtype=np.int64), rows[:, :-1]], axis=1)  # [batch, n_ctx]: BOS + inputs
    return torch.from_numpy(x), torch.from_numpy(rows)


def lr_at(frac, base_lr, warmup=0.05, floor=0.002):
    """Linear warm-up over the first 5 % of the run (from floor), then cosine decay to 10 % of base_lr.

    frac is the fraction of the run done: of the steps with --steps, else of the wall-time budget,
    so the schedule stays right when the machine's speed changes during the run.
    """
    if frac < warmup:
        return base_lr * max(frac, floor) / warmup
    t = min(1.0, (frac - warmup) / (1 - warmup))
    return base_lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


@torch.no_grad()
def eval_loss(net, stream, cfg, bos_id, n_windows=16):
    net.eval()
    gen = torch.Generator().manual_seed(1234)
    x, y = batch_from(stream, cfg, n_windows, bos_id, gen)
    loss = F.cross_entropy(net(x).flatten(0, 1), y.flatten()).item()
    net.train()
    return loss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=sorted(CONFIGS), required=True)
    ap.add_argument("--work", default="build-demo/train")
    ap.add_argument("--minutes", type=float, default=15.0, help="wall-time budget for the training loop")
    ap.add_argument("--steps", type=int, default=0, help="fixed number of steps (overrides --minutes)")
    ap.add_argument("--seed", type=int, default=1611)
    ap.add_argument("--resume", action="store_true",
                    help="continue from the work dir's checkpoint with a new warm-up/decay cycle")
    ap.add_argument("--lr-scale", type=float, default=1.0, help="multiplies the model's base learning rate")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    cfg, hp = CONFIGS[args.model], HPARAMS[args.model]
    meta = json.load(open(os.path.join(args.work, "corpus.json")))
    cfg.n_vocab = meta["n_vocab"]
    bos_id = meta["bos_id"]
    train = np.fromfile(os.path.join(args.work, "train.u16"), dtype=np.uint16).astype(np.int64)
    held = np.fromfile(os.path.join(args.work, "heldout.u16"), dtype=np.uint16).astype(np.int64)
    net = llama.Llama(cfg)
    before = {"steps": 0, "tokens": 0, "minutes": 0.0}
    if args.resume:
        net.load_state_dict(torch.load(os.path.join(args.work, f"{args.model}.pt"))["state"])
        with open(os.path.join(args.work, f"{args.model}.train.json")) as f:
            before = json.load(f)
        args.seed += before["steps"]  # fresh batches, still deterministic
    hp = dict(hp, lr=hp["lr"] * args.lr_scale)
    print(f"{args.model}: {net.n_params():,} parameters, train {len(train):,} tokens, "
          f"held-out {len(held):,} tokens, torch {torch.__version__}, {torch.get_num_threads()} threads")
    opt = torch.optim.AdamW(net.parameters(), lr=hp["lr"], betas=(0.9, 0.95), weight_decay=0.1)
    gen = torch.Generator().manual_seed(args.seed)
    tokens_per_step = hp["batch"] * cfg.n_ctx

    budget_s = args.minutes * 60
    t0 = last_save = time.time()
    step, loss_avg, frac = 0, None, 0.0
    while frac < 1.0:
        for g in opt.param_groups:
            g["lr"] = lr_at(frac, hp["lr"])
        x, y = batch_from(train, cfg, hp["batch"], bos_id, gen)
        loss = F.cross_entropy(net(x).flatten(0, 1), y.flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        step += 1
        loss_avg = loss.item() if loss_avg is None else 0.95 * loss_avg + 0.05 * loss.item()
        elapsed = time.time() - t0
        frac = step / args.steps if args.steps > 0 else elapsed / budget_s
        progress(frac, step, loss_avg, step * tokens_per_step / elapsed, elapsed * (1 - frac) / max(frac, 1e-9))
        if time.time() - last_save > 240 or frac >= 1.0:
            last_save = time.time()
            held_loss = eval_loss(net, held, cfg, bos_id)
            print(f"\n{args.model}: step {step} train {loss_avg:.3f} held-out {held_loss:.3f} "
                  f"(ppl {math.exp(held_loss):.1f})")
            torch.save({"config": cfg.__dict__, "state": net.state_dict(), "step": step,
                        "minutes": elapsed / 60}, os.path.join(args.work, f"{args.model}.pt"))
    minutes = (time.time() - t0) / 60
    print(f"{args.model}: done, {step} steps, {step * tokens_per_step:,} tokens, {minutes:.1f} min")
    runs = before.get("runs", []) + [{"steps": step, "minutes": minutes, "hparams": hp, "seed": args.seed}]
    with open(os.path.join(args.work, f"{args.model}.train.json"), "w") as f:
        json.dump({"steps": before["steps"] + step, "tokens": before["tokens"] + step * tokens_per_step,
                   "minutes": before["minutes"] + minutes, "params": net.n_params(), "config": cfg.__dict__,
                   "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()

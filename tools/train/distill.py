"""Distils the bundled draft model from the frozen target, for speculative decoding.

Offline tool. Run with Debian's interpreter and BLAS settings (see tools/train/README.md):
  OMP_NUM_THREADS=1 /usr/bin/python3 tools/train/distill.py --minutes 25
Starts from the work dir's draft.pt (saved first as draft-pre-distill.pt unless that backup
exists) and fine-tunes it to imitate target.pt: the loss is the KL divergence
KL(p_target || q_draft) at temperature --temp on the target's top --topk tokens plus one "rest of
the vocabulary" bucket (exact KL of that coarsened distribution), mixed with --hard times the
ordinary next-token cross-entropy.

What speculative decoding needs is the draft's argmax to equal the target's, so the script
reports the held-out argmax agreement (all positions of the 104 BOS-first held-out windows, as
export.py's model card measures it) and the draft's held-out perplexity (second half of each
window, as `frugal perplexity` scores it).

The target's forward pass costs several times the draft's training step, so the target is run
only once per window: the training stream is cut into non-overlapping windows ([BOS] + 255
tokens, train.py's layout), visited in a shuffled order; the first visit of a window runs the
target and caches its top-k log-probabilities (int16 ids + f16 log-probs, ~128 bytes a
position); later epochs replay the cache. New windows are added while the elapsed time is below
--fill of the budget (or all windows are cached), after that only cached windows are replayed.
AdamW with a short linear warm-up and cosine decay over the wall-time budget (or --steps).

--init continues from another checkpoint (e.g. a copy of a first distilled draft); --extra adds
windows of the target's own greedy text (gen_target.py), scored by the target up front and used for
--extra-frac of the steps: `--temp 0` speculative decoding verifies exactly that kind of text, whose
repetitive loops the corpus never shows (the last --extra-eval windows measure agreement on it).
"""

import argparse
import json
import math
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as llama  # noqa: E402
from train import lr_at  # noqa: E402  (the same warm-up + cosine schedule)


def load(work, name):
    ckpt = torch.load(os.path.join(work, name))
    net = llama.Llama(llama.Config(**ckpt["config"]))
    net.load_state_dict(ckpt["state"])
    return net, ckpt


def windows_of(stream, n_ctx, bos_id, offset=0):
    """Non-overlapping [BOS] + (n_ctx - 1) token windows; returns (inputs, next-token labels)."""
    n = (len(stream) - offset - 1) // (n_ctx - 1)
    rows = np.stack([stream[offset + i * (n_ctx - 1): offset + i * (n_ctx - 1) + n_ctx] for i in range(n)])
    x = np.concatenate([np.full((n, 1), bos_id, dtype=np.int64), rows[:, :n_ctx - 1]], axis=1)
    return x, rows[:, :n_ctx].copy()  # label of position j (input x[j]) is the token after it


def heldout_windows(held, n_ctx, bos_id):
    """export.py's scored_targets: [BOS] + held-out stream cut into n_ctx windows, first token = BOS."""
    ids = np.concatenate([[bos_id], held])
    w = ids[: (len(ids) // n_ctx) * n_ctx].reshape(-1, n_ctx).copy()
    w[:, 0] = bos_id
    return torch.from_numpy(w)


@torch.no_grad()
def evaluate(draft, held_w, target_argmax, n_ctx, chunk=8):
    """(argmax agreement over all positions, perplexity over the second half of each window)."""
    draft.eval()
    same, nll, n_nll = 0, 0.0, 0
    for i in range(0, len(held_w), chunk):
        w = held_w[i:i + chunk]
        logits = draft(w)
        same += int((logits.argmax(-1) == target_argmax[i:i + chunk]).sum())
        logp = torch.log_softmax(logits.double(), -1)
        h = n_ctx // 2
        nll -= float(logp[:, h:n_ctx - 1].gather(-1, w[:, h + 1:, None]).sum())
        n_nll += w.shape[0] * (n_ctx - 1 - h)
    draft.train()
    return same / held_w.numel(), math.exp(nll / n_nll)


def distill_loss(logits, top_idx, top_lp, labels, temp, hard):
    """KL(p || q) on the target's top-k + rest bucket (at temperature temp) + hard * CE(labels)."""
    lq = torch.log_softmax(logits / temp, -1)
    lq_k = lq.gather(-1, top_idx)                                # [B, T, k]
    p_k = torch.exp(top_lp)                                      # target probs (already at temp)
    p_rest = (1 - p_k.sum(-1)).clamp_min(0)
    q_rest = (1 - torch.exp(lq_k).sum(-1)).clamp_min(1e-8)
    kl = (p_k * (top_lp - lq_k)).sum(-1) + p_rest * (torch.log(p_rest.clamp_min(1e-8)) - torch.log(q_rest))
    loss = kl.mean() * temp * temp
    if hard > 0:
        loss = (1 - hard) * loss + hard * F.cross_entropy(logits.flatten(0, 1), labels.flatten())
    return loss


def progress(frac, step, loss, cached, n_win, tok_s, eta_s, width=30):
    done = int(width * min(1.0, frac))
    sys.stdout.write(f"\r[{'#' * done}{'-' * (width - done)}] {100 * min(1.0, frac):5.1f}% step {step} "
                     f"loss {loss:.4f} cached {cached}/{n_win} win {tok_s:,.0f} tok/s ETA {eta_s / 60:.1f} min ")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="build-demo/train")
    ap.add_argument("--minutes", type=float, default=25.0, help="wall-time budget (target caching included)")
    ap.add_argument("--steps", type=int, default=0, help="fixed number of steps (overrides --minutes)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=float, default=0.03)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--topk", type=int, default=32)
    ap.add_argument("--temp", type=float, default=1.0)
    ap.add_argument("--hard", type=float, default=0.1, help="weight of the hard-label cross-entropy")
    ap.add_argument("--fill", type=float, default=0.5,
                    help="add new (target-scored) windows while elapsed < fill * budget")
    ap.add_argument("--eval-every", type=float, default=3.0, help="minutes between held-out evaluations")
    ap.add_argument("--seed", type=int, default=1611)
    ap.add_argument("--init", default="draft-pre-distill.pt",
                    help="checkpoint (in the work dir) to start from; draft.train.json's totals continue from it")
    ap.add_argument("--extra", default="",
                    help="[n, n_ctx] uint16 windows of the target's own greedy text (gen_target.py); the last "
                         "--extra-eval of them are held out to measure agreement on greedy text")
    ap.add_argument("--extra-frac", type=float, default=0.5, help="fraction of steps that train on --extra")
    ap.add_argument("--extra-eval", type=int, default=24)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    meta = json.load(open(os.path.join(args.work, "corpus.json")))
    bos_id = meta["bos_id"]
    draft_path = os.path.join(args.work, "draft.pt")
    backup = os.path.join(args.work, "draft-pre-distill.pt")
    if not os.path.exists(backup):
        shutil.copyfile(draft_path, backup)
        shutil.copyfile(os.path.join(args.work, "draft.train.json"),
                        os.path.join(args.work, "draft-pre-distill.train.json"))
    target, _ = load(args.work, "target.pt")
    draft, _ = load(args.work, args.init)   # by default restart from the pre-distillation draft
    target.eval().requires_grad_(False)
    cfg = draft.cfg
    n_ctx = cfg.n_ctx
    init_meta = os.path.join(args.work, args.init.replace(".pt", ".train.json"))
    with open(init_meta if os.path.exists(init_meta) else os.path.join(args.work, "draft.train.json")) as f:
        before = json.load(f)

    train = np.fromfile(os.path.join(args.work, "train.u16"), dtype=np.uint16).astype(np.int64)
    held = np.fromfile(os.path.join(args.work, "heldout.u16"), dtype=np.uint16).astype(np.int64)
    xs, ys = windows_of(train, n_ctx, bos_id, offset=int(rng.integers(0, n_ctx - 1)))
    n_win = len(xs)
    order = rng.permutation(n_win)
    xs, ys = torch.from_numpy(xs[order]), torch.from_numpy(ys[order])
    cache_idx = torch.zeros((n_win, n_ctx, args.topk), dtype=torch.int16)
    cache_lp = torch.zeros((n_win, n_ctx, args.topk), dtype=torch.float16)
    n_cached = 0

    held_w = heldout_windows(held, n_ctx, bos_id)
    t_eval = time.time()
    with torch.no_grad():
        target_argmax = torch.cat([target(held_w[i:i + 8]).argmax(-1) for i in range(0, len(held_w), 8)])
    agree0, ppl0 = evaluate(draft, held_w, target_argmax, n_ctx)
    ex_x = None
    if args.extra:  # target-greedy windows: inputs w[:-1], labels w[1:]; target top-k cached up front
        ew = torch.from_numpy(np.fromfile(args.extra, dtype=np.uint16).astype(np.int64).reshape(-1, n_ctx))
        ex_eval, ew = ew[-args.extra_eval:], ew[:-args.extra_eval]
        ex_x, ex_y = ew[:, :-1], ew[:, 1:]
        with torch.no_grad():
            ex_argmax = torch.cat([target(ex_eval[i:i + 8]).argmax(-1) for i in range(0, len(ex_eval), 8)])
            tops = [torch.log_softmax(target(ex_x[i:i + 8]) / args.temp, -1).topk(args.topk, dim=-1)
                    for i in range(0, len(ex_x), 8)]
            ex_lp, ex_idx = torch.cat([t[0] for t in tops]), torch.cat([t[1] for t in tops])
        greedy0 = evaluate(draft, ex_eval, ex_argmax, n_ctx)[0]
        print(f"{len(ex_x)} target-greedy training windows, {len(ex_eval)} held out; agreement on them {greedy0:.4f}",
              flush=True)
    print(f"draft {draft.n_params():,} params, {n_win} training windows, {len(held_w)} held-out windows; "
          f"before: agreement {agree0:.4f}, held-out ppl {ppl0:.2f} ({time.time() - t_eval:.0f} s); "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)

    opt = torch.optim.AdamW(draft.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.1)
    budget_s = args.minutes * 60
    t0 = last_eval = time.time()
    step, loss_avg, frac, replay_pos, epochs_replayed = 0, None, 0.0, 0, 0
    history = [{"step": 0, "minutes": 0.0, "agreement": agree0, "heldout_ppl": ppl0}]
    if ex_x is not None:
        history[0]["greedy_text_agreement"] = greedy0
    eval_time = 0.0
    while frac < 1.0:
        for g in opt.param_groups:
            g["lr"] = lr_at(frac, args.lr, args.warmup, floor=0.01)
        elapsed = time.time() - t0
        on_extra = ex_x is not None and n_cached > 0 and rng.random() < args.extra_frac
        if on_extra:
            sel = torch.from_numpy(rng.choice(len(ex_x), size=args.batch, replace=False))
            loss = distill_loss(draft(ex_x[sel]), ex_idx[sel], ex_lp[sel], ex_y[sel], args.temp, args.hard)
        elif n_cached < n_win and (elapsed < args.fill * budget_s if args.steps == 0 else step % 2 == 0):
            sel = torch.arange(n_cached, min(n_win, n_cached + args.batch))
            with torch.no_grad():
                lp = torch.log_softmax(target(xs[sel]) / args.temp, -1)
                top_lp, top_idx = lp.topk(args.topk, dim=-1)
            cache_lp[sel], cache_idx[sel] = top_lp.half(), top_idx.short()
            n_cached += len(sel)
        else:
            if replay_pos + args.batch > n_cached:
                perm = torch.randperm(n_cached)
                xs[:n_cached], ys[:n_cached] = xs[perm], ys[perm]
                cache_lp[:n_cached], cache_idx[:n_cached] = cache_lp[perm], cache_idx[perm]
                replay_pos, epochs_replayed = 0, epochs_replayed + 1
            sel = torch.arange(replay_pos, replay_pos + args.batch)
            replay_pos += args.batch
        if not on_extra:
            loss = distill_loss(draft(xs[sel]), cache_idx[sel].long(), cache_lp[sel].float(), ys[sel],
                                args.temp, args.hard)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(draft.parameters(), 1.0)
        opt.step()
        step += 1
        loss_avg = loss.item() if loss_avg is None else 0.95 * loss_avg + 0.05 * loss.item()
        elapsed = time.time() - t0
        frac = step / args.steps if args.steps > 0 else elapsed / budget_s
        progress(frac, step, loss_avg, n_cached, n_win, step * args.batch * n_ctx / elapsed,
                 elapsed * (1 - frac) / max(frac, 1e-9))
        if time.time() - last_eval > args.eval_every * 60 or frac >= 1.0:
            te = time.time()
            agree, ppl = evaluate(draft, held_w, target_argmax, n_ctx)
            eval_time += time.time() - te
            history.append({"step": step, "minutes": round(elapsed / 60, 2), "agreement": agree, "heldout_ppl": ppl})
            if ex_x is not None:
                history[-1]["greedy_text_agreement"] = evaluate(draft, ex_eval, ex_argmax, n_ctx)[0]
                print(f"\ngreedy-text agreement {greedy0:.4f} -> {history[-1]['greedy_text_agreement']:.4f}", end="")
            print(f"\nstep {step} ({elapsed / 60:.1f} min, {n_cached}/{n_win} windows cached, "
                  f"{epochs_replayed} replays): loss {loss_avg:.4f} held-out agreement {agree:.4f} "
                  f"ppl {ppl:.2f}", flush=True)
            torch.save({"config": cfg.__dict__, "state": draft.state_dict(), "step": before["steps"] + step,
                        "minutes": before["minutes"] + elapsed / 60}, draft_path)
            last_eval = time.time()
    minutes = (time.time() - t0) / 60
    tokens = step * args.batch * n_ctx
    print(f"distill: done, {step} steps, {tokens:,} tokens, {minutes:.1f} min; agreement {agree0:.4f} -> "
          f"{history[-1]['agreement']:.4f}, held-out ppl {ppl0:.2f} -> {history[-1]['heldout_ppl']:.2f}")
    hp = {k: getattr(args, k) for k in ("lr", "warmup", "batch", "topk", "temp", "hard", "fill", "init", "extra",
                                        "extra_frac")}
    prev = before.get("distill", {})  # continuing a distilled checkpoint (--init): totals accumulate
    runs = before.get("runs", [{k: before[k] for k in ("steps", "minutes", "hparams", "seed") if k in before}])
    runs.append({"kind": "distill from target", "steps": step, "tokens": tokens, "minutes": minutes,
                 "windows_scored_by_target": n_cached, "hparams": hp, "seed": args.seed, "history": history})
    with open(os.path.join(args.work, "draft.train.json"), "w") as f:
        json.dump({"steps": before["steps"] + step, "tokens": before["tokens"] + tokens,
                   "minutes": before["minutes"] + minutes, "params": draft.n_params(), "config": cfg.__dict__,
                   "distill": {"steps": prev.get("steps", 0) + step, "tokens": prev.get("tokens", 0) + tokens,
                               "minutes": prev.get("minutes", 0.0) + minutes,
                               "agreement_before": prev.get("agreement_before", agree0),
                               "agreement_after": history[-1]["agreement"],
                               "heldout_ppl_before": prev.get("heldout_ppl_before", ppl0),
                               "heldout_ppl_after": history[-1]["heldout_ppl"]},
                   "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()

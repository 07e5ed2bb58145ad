"""Stage 1: the 3D causal VAE (dim 8, z_dim 16, dim_mult [1,2,4,4], 2 res blocks).

Why it is trained the way it is (measured on this machine, see the model card): with Wan's RMS
norm (a per-pixel unit vector over only 8-32 channels) and PyTorch's default init, the output of
a fresh narrow VAE barely depends on its input, and Adam stalls for hundreds of steps even on
solid colours; with the norm replaced by a plain scale it learns them in ~100 steps. So:

  phase 1  1,750 steps, 5-frame clips, random 32x32 crops, batch 8; the norm is x / (rms + soft)
           with soft annealed 1 -> 0 over the first 600 steps (exact Wan norm from then on);
  phase 2  1,750 steps, 17-frame clips (so the causal convs and time_conv caches see the history
           they see at inference; training on 5 frames left frames 5.. badly reconstructed),
           random 32x32 crops, batch 4;
  phase 3  250 steps, crops centred on the shape (+-8 px): random crops often miss it, and the
           shape's colour is what the evaluator reads;
  phase 4  2,000 steps, half the batch centred on the shape, half random (centred crops alone
           left artefacts far from the shape), shape pixels weighted 5x in the loss: held-out
           PSNR 20.3 -> 22.3 dB, and the shapes' colours right (red, green, blue, yellow checked).
A "full" crop mode (whole 64x64 frames) is there for a longer run.

Loss MSE + 0.5 L1 per pixel, Adam, grad-norm clip 1. Held-out 64x64x17 PSNR is logged every 250 steps.
Afterwards the normalised latent is re-parametrised so that (mu - mean) / std, with Wan2.1's fixed
mean/std, has zero mean and unit variance per channel: the fold goes into conv1 (mu rows) and
conv2, which is exact."""
import math
from pathlib import Path

import torch
import torch.nn.functional as F

import common
import data
from wan_modules import RMS_norm, WanVAE

PHASES = (  # name, steps, frames, batch, lr, cosine period, soft-norm anneal steps, crops, shape weight
    ("phase1", 1750, 5, 8, 1e-3, 4000, 600, "random", 1.0),
    ("phase2", 1750, 17, 4, 1e-3, 3000, 0, "random", 1.0),
    ("phase3", 250, 17, 4, 1e-3, 2000, 0, "shape", 1.0),
    ("phase4", 2000, 17, 4, 1e-3, 2000, 0, "mixed", 5.0),
)
CROP = 32


def psnr(a, b):
    return float(10 * torch.log10(4.0 / ((a - b) ** 2).mean()))


def fold_normalisation(vae, gen, n=96):
    """Make the normalised latents zero-mean, unit-variance per channel (exact fold)."""
    train, _ = data.split_combos()
    with torch.no_grad():
        idx = torch.randint(len(train), (n,), generator=gen)
        zs = torch.cat([vae.encode(data.render([train[i] for i in idx[k:k + 16]], gen=gen)) for k in range(0, n, 16)])
        m = zs.mean(dim=(0, 2, 3, 4)).double()
        s = zs.std(dim=(0, 2, 3, 4)).double()
        mean = vae.mean.view(-1).double()
        std = 1.0 / vae.inv_std.view(-1).double()
        zd = vae.z_dim
        w1 = vae.conv1.weight.data.double()
        b1 = vae.conv1.bias.data.double()
        w1[:zd] = w1[:zd] / s.view(-1, 1, 1, 1, 1)
        b1[:zd] = mean + (b1[:zd] - mean - std * m) / s
        vae.conv1.weight.data.copy_(w1.float())
        vae.conv1.bias.data.copy_(b1.float())
        w2 = vae.conv2.weight.data.double()  # [out, in, 1,1,1]
        b2 = vae.conv2.bias.data.double()
        b2 = b2 + (w2.view(zd, zd) @ (mean + std * m - s * mean))
        w2 = w2 * s.view(1, -1, 1, 1, 1)
        vae.conv2.weight.data.copy_(w2.float())
        vae.conv2.bias.data.copy_(b2.float())
    return m, s


def held_out_psnr(vae, ev):
    soft, RMS_norm.soft = RMS_norm.soft, 0.0
    with torch.no_grad():
        p = psnr(vae.decode(vae.encode(ev)), ev)
    RMS_norm.soft = soft
    return p


def crop_batch(x, mode, gen):
    """x [B,3,F,64,64] -> [B,3,F,CROP,CROP]: whole frames ("full"), random offsets, offsets centred
    on the middle frame's shape (+-8 px), or "mixed" (first half centred, second half random)."""
    B, size = x.shape[0], x.shape[-1]
    if mode == "full":
        return x
    if mode == "random":
        oy, ox = torch.randint(0, size - CROP + 1, (2,), generator=gen).tolist()
        return x[..., oy:oy + CROP, ox:ox + CROP]
    mid, bg = x[:, :, x.shape[2] // 2], x[:, :, 0, 0, 0]
    fg = ((mid - bg[:, :, None, None]).abs().sum(1) > 0.2).float()  # [B,H,W]
    ys, xs = torch.arange(float(size)).view(1, size, 1), torch.arange(float(size)).view(1, 1, size)
    n = fg.sum((1, 2)).clamp(min=1)
    cy, cx = (fg * ys).sum((1, 2)) / n, (fg * xs).sum((1, 2)) / n
    jit = torch.randint(-8, 9, (B, 2), generator=gen)
    oy = (cy - CROP / 2 + jit[:, 0]).round().clamp(0, size - CROP).long().tolist()
    ox = (cx - CROP / 2 + jit[:, 1]).round().clamp(0, size - CROP).long().tolist()
    if mode == "mixed":
        half = B // 2
        r = torch.randint(0, size - CROP + 1, (B, 2), generator=gen)
        oy, ox = oy[:half] + r[half:, 0].tolist(), ox[:half] + r[half:, 1].tolist()
    return torch.stack([x[i, ..., oy[i]:oy[i] + CROP, ox[i]:ox[i] + CROP] for i in range(B)])


def train_phase(work, vae, name, steps, frames, batch, lr, period, anneal, crops, shape_weight, ev, seed=1):
    """One phase, resumable from work/vae_<name>.pt; a finished phase leaves vae_<name>_done.pt."""
    done = work / f"vae_{name}_done.pt"
    if done.exists():
        vae.load_state_dict(torch.load(done))
        return
    ck = work / f"vae_{name}.pt"
    torch.manual_seed(seed)
    opt = torch.optim.Adam(vae.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    step, ema = 0, None
    if ck.exists():
        st = torch.load(ck)
        vae.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        gen.set_state(st["gen"])
        torch.set_rng_state(st["rng"])
        step = st["step"]
        common.log(work, f"vae {name}: resumed at step {step}")
    train, _ = data.split_combos()
    while step < steps:
        step += 1
        RMS_norm.soft = max(0.0, 1.0 - step / anneal) if anneal > 0 else 0.0
        cur = lr * min(1.0, step / 50) * (0.55 + 0.45 * math.cos(math.pi * step / period))
        for g in opt.param_groups:
            g["lr"] = cur
        idx = torch.randint(len(train), (batch,), generator=gen)
        x = data.render([train[i] for i in idx], frames=frames, size=64, gen=gen)
        x = crop_batch(x, crops, gen)
        y = vae.decode_raw(vae.encode(x))
        mse = F.mse_loss(y, x)
        if shape_weight == 1.0:
            loss = mse + 0.5 * F.l1_loss(y, x)
        else:  # shape pixels (far from the crop's corner colour, the background) weigh more
            w = 1 + (shape_weight - 1) * ((x - x[:, :, :1, :1, :1]).abs().sum(1, keepdim=True) > 0.2).float()
            loss = (w * ((y - x) ** 2 + 0.5 * (y - x).abs())).mean() / w.mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        opt.step()
        ema = mse.item() if ema is None else 0.95 * ema + 0.05 * mse.item()
        if step % 50 == 0:
            common.log(work, f"vae {name} step {step}/{steps} mse(ema) {ema:.4f} ({10 * math.log10(4 / ema):.1f} dB) "
                             f"soft {RMS_norm.soft:.2f} lr {cur:.1e}")
        if step % 250 == 0 or step == steps:
            common.log(work, f"vae {name} step {step}: held-out 64x64x17 PSNR {held_out_psnr(vae, ev):.2f} dB")
            common.atomic_save({"model": vae.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(),
                                "rng": torch.get_rng_state(), "step": step}, ck)
    RMS_norm.soft = 0.0
    common.atomic_save(vae.state_dict(), done)


def run(work, seed=1):
    work = Path(work)
    done = work / "vae_final.pt"
    if done.exists():
        return
    torch.manual_seed(seed)
    vae = WanVAE(dim=8, num_res_blocks=2)
    _, held = data.split_combos()
    ev = data.render([held[i] for i in range(0, len(held), 10)], gen=torch.Generator().manual_seed(9))  # 8 held-out clips
    for phase in PHASES:
        train_phase(work, vae, *phase, ev=ev, seed=seed)
    m, s = fold_normalisation(vae, torch.Generator().manual_seed(seed + 7))
    with torch.no_grad():
        z = vae.encode(ev)
        p = psnr(vae.decode(z), ev)
    common.log(work, f"vae done: folded latent stats (pre-fold mean {m.abs().mean():.3f}, std {s.mean():.3f}); "
                     f"after fold held-out z mean {float(z.mean()):.3f} std {float(z.std()):.3f}, PSNR {p:.2f} dB")
    common.atomic_save({"model": vae.state_dict(), "cfg": vae.cfg}, done)

"""Stage 1: the 3D causal VAE (dim 8, z_dim 16, dim_mult [1,2,4,4], 2 res blocks).

Trained on random 32x32 crops of 9-frame clips (the net is convolutional and causal, so crops and
short clips teach it the same local maps at a fraction of the cost); evaluated on full 64x64x17
clips. Afterwards the normalised latent is re-parametrised so that (mu - mean) / std, with Wan2.1's
fixed mean/std, has zero mean and unit variance per channel: the fold goes into conv1 (mu rows)
and conv2, which is exact."""
import math
from pathlib import Path

import torch
import torch.nn.functional as F

import common
import data
from wan_modules import WanVAE


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


def run(work, steps=1500, batch=3, lr=2e-3, seed=1):
    work = Path(work)
    ck = work / "vae.pt"
    done = work / "vae_final.pt"
    if done.exists():
        return
    torch.manual_seed(seed)
    vae = WanVAE(dim=8, num_res_blocks=2)
    for blk in (vae.encoder.middle[1], vae.decoder.middle[1]):
        torch.nn.init.zeros_(blk.proj.weight)
    opt = torch.optim.AdamW(vae.parameters(), lr=lr, weight_decay=0.0, betas=(0.9, 0.99))
    gen = torch.Generator().manual_seed(seed)
    step = 0
    if ck.exists():
        st = torch.load(ck)
        vae.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        gen.set_state(st["gen"])
        torch.set_rng_state(st["rng"])
        step = st["step"]
        common.log(work, f"vae: resumed at step {step}")
    train, held = data.split_combos()
    evgen = torch.Generator().manual_seed(999)
    ev = data.render([held[i] for i in range(0, len(held), 10)], gen=evgen)  # 8 held-out clips, 64x64x17
    while step < steps:
        cur = lr * (0.5 * (1 + math.cos(math.pi * step / steps))) * min(1.0, (step + 1) / 100)
        for g in opt.param_groups:
            g["lr"] = cur
        idx = torch.randint(len(train), (batch,), generator=gen)
        x = data.render([train[i] for i in idx], frames=9, gen=gen)
        oy, ox = torch.randint(0, 33, (2,), generator=gen).tolist()
        x = x[..., oy:oy + 32, ox:ox + 32]
        z = vae.encode(x)
        rms = z.detach().pow(2).mean(dim=(0, 2, 3, 4), keepdim=True).sqrt()
        zn = z + 0.1 * rms * torch.randn(z.shape, generator=gen)
        y = vae.decode_raw(zn)
        rec = F.l1_loss(y, x) + F.mse_loss(y, x)
        reg = 1e-4 * z.pow(2).mean()
        loss = rec + reg
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 100 == 0:
            common.log(work, f"vae step {step}/{steps} loss {rec.item():.4f} z_rms {float(rms.mean()):.3f} lr {cur:.2e}")
        if step % 100 == 0 or step == steps:
            with torch.no_grad():
                p = psnr(vae.decode(vae.encode(ev)), ev)
            common.log(work, f"vae step {step}: held-out 64x64x17 PSNR {p:.2f} dB")
            common.atomic_save({"model": vae.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(),
                                "rng": torch.get_rng_state(), "step": step}, ck)
    m, s = fold_normalisation(vae, torch.Generator().manual_seed(seed + 7))
    with torch.no_grad():
        z = vae.encode(ev)
        p = psnr(vae.decode(z), ev)
    common.log(work, f"vae done: folded latent stats (pre-fold mean {m.abs().mean():.3f}, std {s.mean():.3f}); "
                     f"after fold held-out z mean {float(z.mean()):.3f} std {float(z.std()):.3f}, PSNR {p:.2f} dB")
    common.atomic_save({"model": vae.state_dict(), "cfg": vae.cfg}, done)

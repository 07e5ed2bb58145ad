"""Stage 2: umT5 encoder + DiT trained jointly with flow matching on VAE latents.

x_t = (1 - s) x0 + s * noise, target v = noise - x0, t = 1000 s; s ~ logit-normal(0, 1) (80 %) or
uniform (20 %). 10 % caption dropout: the caption becomes "" (ids [</s>]) or Wan's default negative
prompt (what `frugal video` uses without --negative), so CFG works both ways. The loss weighs the
latent cells the shape covers `obj_weight` times more than the background (cells whose latent is
more than OBJ_TAU from the plain background's latent): the shape is 5-16 % of a frame, so an
unweighted loss is mostly background and the colour, shape and motion words get little gradient
(measured at step 1,000: the velocity moved 10-20x less with the colour word than with the whole
caption). The latent pool
starts with `pool0` encoded clips of training combinations and grows by `fresh` new clips a step
(up to `pool_max`, then oldest replaced). EMA weights are what gets exported."""
import copy
import math
from pathlib import Path

import torch
import torch.nn.functional as F

import common
import data
import dit_contrast
from wan_modules import T5Encoder, WanModel, WanVAE

DIT_CFG = dict(dim=128, ffn_dim=384, freq_dim=64, text_dim=64, text_len=common.TEXT_LEN, num_heads=4, num_layers=4)
T5_CFG = dict(dim=64, dim_attn=64, dim_ffn=128, num_heads=4, num_layers=2, num_buckets=32)


def load_vae(work):
    st = torch.load(Path(work) / "vae_final.pt")
    vae = WanVAE(dim=st["cfg"]["dim"], num_res_blocks=st["cfg"]["num_res_blocks"])
    vae.load_state_dict(st["model"])
    vae.eval()
    for p in vae.parameters():
        p.requires_grad_(False)
    return vae


def build(work, patch_size=(1, 2, 2)):
    spm = Path(work) / "spiece.model"
    t5 = T5Encoder(common.vocab_size(spm), **T5_CFG)
    dit = WanModel(**DIT_CFG, patch_size=patch_size)
    return t5, dit


def patch_of(dit_sd):
    """The patch size (pt, ph, pw) of a DiT state dict: patch_embedding.weight is [dim, in_dim, pt, ph, pw]."""
    return tuple(int(v) for v in dit_sd["patch_embedding.weight"].shape[2:])


def build_for(work, dit_sd):
    """(t5, dit) shaped like a saved DiT state dict (its patch size)."""
    return build(work, patch_of(dit_sd))


def warm_start(t5, dit, init):
    """Loads a trained checkpoint's umT5 and DiT (its EMA weights when it has them) into t5/dit, whose
    patch size may be finer. Everything but patch_embedding and head.head has the same shape for any
    patch size. From (1,2,2) to (1,1,1): the new embedding of one latent cell is the sum of the old
    2x2 kernel (so a locally constant input gives the old token), the new head's output per cell is the
    mean of the old head's four sub-cell outputs. Returns the checkpoint (for its latent pool)."""
    st = torch.load(init)
    t5_sd, dit_sd = (st["ema"]["t5"], st["ema"]["dit"]) if "ema" in st else (st["t5"], st["dit"])
    t5.load_state_dict(t5_sd)
    old, new = patch_of(dit_sd), tuple(dit.patch_size)
    dit_sd = dict(dit_sd)
    if old != new:
        if new != (1, 1, 1):
            raise SystemExit(f"warm start: patch {old} -> {new} is not supported (only -> (1, 1, 1))")
        vol = old[0] * old[1] * old[2]
        w = dit_sd["patch_embedding.weight"]  # [dim, in, pt, ph, pw]
        dit_sd["patch_embedding.weight"] = w.sum(dim=(2, 3, 4), keepdim=True)
        c = dit.out_dim
        dit_sd["head.head.weight"] = dit_sd["head.head.weight"].view(vol, c, -1).mean(0)
        dit_sd["head.head.bias"] = dit_sd["head.head.bias"].view(vol, c).mean(0)
    dit.load_state_dict(dit_sd)
    return st


def caption_ids(work):
    spm = Path(work) / "spiece.model"
    combos = data.all_combos()
    ids = common.spm_encode(spm, [data.caption(*c) for c in combos] + ["", common.WAN_NEG])
    return dict(zip(combos, ids[:-2])), ids[-2], ids[-1]


OBJ_TAU = 0.5  # latent L2 over channels; a shape's cells are 1-4, plain background cells < 0.2


def background_latents(vae):
    """{background name: latent [16, T, h, w]} of a clip that is only that background."""
    with torch.no_grad():
        out = {}
        for name, rgb in data.BACKGROUNDS.items():
            v = (torch.tensor(rgb, dtype=torch.float32) / 127.5 - 1).view(1, 3, 1, 1, 1).expand(1, 3, 17, 64, 64)
            out[name] = vae.encode(v.contiguous())[0]
        return out


def object_weights(x0, combos, bg_latents, obj_weight):
    """[B, 1, T, h, w] loss weights: obj_weight on the cells the shape covers, 1 elsewhere."""
    bg = torch.stack([bg_latents[c[3]] for c in combos])
    on = ((x0 - bg).norm(dim=1, keepdim=True) > OBJ_TAU).float()
    return 1 + (obj_weight - 1) * on


def sample_sigma(n, gen, shift=1.0):
    """Logit-normal (80 %) or uniform (20 %) sigmas, then shifted like the sampler's schedule
    (sigma' = shift sigma / (1 + (shift - 1) sigma)): with shift 3 the sampler spends most of its
    steps at sigma > 0.6, where a clip's layout forms, so training looks there as often."""
    s = torch.sigmoid(torch.randn(n, generator=gen))
    u = torch.rand(n, generator=gen)
    s = torch.where(torch.rand(n, generator=gen) < 0.8, s, u)
    return shift * s / (1 + (shift - 1) * s)


def run(work, steps=800, batch=24, lr=6e-4, pool0=384, fresh=2, pool_max=4096, ema_decay=0.995, seed=2,
        obj_weight=1.0, train_shift=1.0, patch_size=(1, 2, 2), init=None, text_lr_mult=1.0, contrast=None):
    """contrast: None or dict(frac, margin, weight, sigma_min, attrs) for dit_contrast's caption-swap hinge;
    text_lr_mult scales the learning rate of the text path (umT5, text_embedding, every cross_attn)."""
    work = Path(work)
    ck = work / "dit.pt"
    done = work / "dit_final.pt"
    if done.exists():
        return
    torch.manual_seed(seed)
    vae = load_vae(work)
    bg_latents = background_latents(vae)
    t5, dit = build(work, patch_size)
    dit.init_weights()
    nn_init_t5(t5)
    init_st = None
    if init and not ck.exists():
        init_st = warm_start(t5, dit, init)
        common.log(work, f"dit: warm start from {init} (step {init_st.get('step', '?')}), patch {tuple(patch_size)}")
    params = list(t5.parameters()) + list(dit.parameters())
    text = set(id(p) for p in t5.parameters()) | set(id(p) for p in dit.text_embedding.parameters())
    text |= set(id(p) for b in dit.blocks for p in b.cross_attn.parameters())
    groups = [{"params": [p for p in params if id(p) not in text], "mult": 1.0},
              {"params": [p for p in params if id(p) in text], "mult": text_lr_mult}]
    opt = torch.optim.AdamW(groups, lr=lr, weight_decay=0.01, betas=(0.9, 0.99))
    ema = {"t5": copy.deepcopy(t5.state_dict()), "dit": copy.deepcopy(dit.state_dict())}
    gen = torch.Generator().manual_seed(seed)
    train, _ = data.split_combos()
    cap, empty_ids, neg_ids = caption_ids(work)
    if contrast:
        swaps = dit_contrast.swap_options(train, contrast["attrs"])
        common.log(work, f"dit: caption contrast {contrast}, text lr x{text_lr_mult}")
    c_stats = []
    step, pool_z, pool_c = 0, None, []
    if ck.exists():
        st = torch.load(ck)
        t5.load_state_dict(st["t5"])
        dit.load_state_dict(st["dit"])
        opt.load_state_dict(st["opt"])
        ema = st["ema"]
        gen.set_state(st["gen"])
        torch.set_rng_state(st["rng"])
        step, pool_z, pool_c = st["step"], st["pool_z"], st["pool_c"]
        common.log(work, f"dit: resumed at step {step}, pool {len(pool_c)}")
    elif init_st is not None and "pool_z" in init_st:
        pool_z, pool_c = init_st["pool_z"], init_st["pool_c"]  # the same VAE encoder: its latents still hold
        common.log(work, f"dit: latent pool of {len(pool_c)} clips from {init}")
    init_st = None

    def add_clips(n):
        nonlocal pool_z, pool_c
        idx = torch.randint(len(train), (n,), generator=gen).tolist()
        combos = [train[i] for i in idx]
        with torch.no_grad():
            z = vae.encode(data.render(combos, gen=gen))
        if pool_z is None:
            pool_z, pool_c = z, combos
        elif len(pool_c) < pool_max:
            pool_z, pool_c = torch.cat([pool_z, z]), pool_c + combos
        else:
            pool_z, pool_c = torch.cat([pool_z[n:], z]), pool_c[n:] + combos

    if pool_z is None:
        for _ in range(0, pool0, 32):
            add_clips(32)
        common.log(work, f"dit: pool of {len(pool_c)} clips, latent {tuple(pool_z.shape[1:])}, "
                         f"mean {float(pool_z.mean()):.3f} std {float(pool_z.std()):.3f}")
    n_t5 = sum(p.numel() for p in t5.parameters())
    n_dit = sum(p.numel() for p in dit.parameters())
    common.log(work, f"dit: T5 {n_t5} params, DiT {n_dit} params")
    while step < steps:
        cur = lr * min(1.0, (step + 1) / 50) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        for g in opt.param_groups:
            g["lr"] = cur * g.get("mult", 1.0)
        if fresh:
            add_clips(fresh)
        idx = torch.randint(len(pool_c), (batch,), generator=gen)
        x0 = pool_z[idx]
        ids, kept = [], []
        for i in idx.tolist():
            r = torch.rand(1, generator=gen).item()
            ids.append(cap[pool_c[i]] if r >= 0.1 else (empty_ids if r < 0.05 else neg_ids))
            kept.append(r >= 0.1)
        sig = sample_sigma(batch, gen, train_shift)
        noise = torch.randn(x0.shape, generator=gen)
        s = sig.view(-1, 1, 1, 1, 1)
        xt = (1 - s) * x0 + s * noise
        ctx = dit.embed_context(common.encode_text(t5, ids))
        v = dit(xt, sig * 1000, ctx)
        combos = [pool_c[i] for i in idx.tolist()]
        w = None
        if obj_weight != 1.0:
            w = object_weights(x0, combos, bg_latents, obj_weight)
            loss = (w * (v - (noise - x0)) ** 2).mean() / w.mean()
        else:
            loss = F.mse_loss(v, noise - x0)
        if contrast:
            rows, alt = dit_contrast.pick_swaps(combos, kept, sig, swaps, contrast["attrs"], contrast["frac"],
                                                contrast["sigma_min"], gen)
            if rows:
                r = torch.tensor(rows)
                tgt = (noise - x0)[r]
                wr = None if w is None else w[r]
                v_sw = dit(xt[r], sig[r] * 1000, dit.embed_context(common.encode_text(t5, [cap[c] for c in alt])))
                e_t = dit_contrast.per_sample_error(v[r], tgt, wr)
                e_s = dit_contrast.per_sample_error(v_sw, tgt, wr)
                h = dit_contrast.hinge(e_t, e_s, contrast["margin"])
                loss = loss + contrast["weight"] * h.mean()
                c_stats.append((float((e_s / e_t).mean()) - 1, float((h > 0).float().mean())))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        with torch.no_grad():
            for key, mod in (("t5", t5), ("dit", dit)):
                for k, v_ in mod.state_dict().items():
                    ema[key][k].mul_(ema_decay).add_(v_, alpha=1 - ema_decay)
        step += 1
        if step % 20 == 0:
            extra = ""
            if c_stats:
                gap = sum(a for a, _ in c_stats) / len(c_stats)
                act = sum(b for _, b in c_stats) / len(c_stats)
                extra = f" swap gap {gap:+.3f} hinge active {act:.2f}"
                c_stats = []
            common.log(work, f"dit step {step}/{steps} loss {loss.item():.4f} lr {cur:.2e} pool {len(pool_c)}{extra}")
        if step % 100 == 0 or step == steps:
            common.atomic_save({"t5": t5.state_dict(), "dit": dit.state_dict(), "opt": opt.state_dict(), "ema": ema,
                                "gen": gen.get_state(), "rng": torch.get_rng_state(), "step": step,
                                "pool_z": pool_z, "pool_c": pool_c, "dit_cfg": dit.cfg}, ck)
    common.atomic_save({"t5": ema["t5"], "dit": ema["dit"], "t5_cfg": t5.cfg, "dit_cfg": dit.cfg}, done)
    common.log(work, "dit done")


def nn_init_t5(t5):
    for name, p in t5.named_parameters():
        if name.endswith("token_embedding.weight"):
            torch.nn.init.normal_(p, std=1.0)
        elif "pos_embedding" in name:
            torch.nn.init.normal_(p, std=0.1)
        elif p.dim() == 2:
            torch.nn.init.normal_(p, std=p.shape[1] ** -0.5)

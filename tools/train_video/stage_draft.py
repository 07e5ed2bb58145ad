"""Stage 3: the draft-tier DiT, distilled for 2 Euler steps without CFG.

Teacher: the EMA DiT of stage 2, sampled with `teacher_steps` Euler steps (the schedule frugal's
`--sampler euler` uses: get_sampling_sigmas(N, shift), t = 1000 sigma, final sigma 0) and CFG
`cfg` against Wan's default negative prompt. Student (initialised from the teacher, T5 frozen and
shared) runs `frugal video --sampler euler --steps 2 --shift 1 --cfg 1`, i.e. sigmas 1 -> 0.5 -> 0;
both of its steps are unrolled and the loss is MSE to the teacher's final latent."""
import copy
from pathlib import Path

import torch
import torch.nn.functional as F

import common
import data
from stage_dit import build_for, caption_ids


def euler_sigmas(n, shift):
    s = torch.linspace(1.0, 0.0, n + 1, dtype=torch.float64)[:n]
    s = shift * s / (1 + (shift - 1) * s)
    return torch.cat([s, torch.zeros(1, dtype=torch.float64)]).float()


def sample(dit, ctx, uctx, noise, sigmas, cfg):
    x = noise
    for i in range(len(sigmas) - 1):
        t = torch.full((x.shape[0],), float(sigmas[i]) * 1000)
        v = dit(x, t, ctx)
        if cfg != 1:
            vu = dit(x, t, uctx)
            v = vu + cfg * (v - vu)
        x = x + (sigmas[i + 1] - sigmas[i]) * v
    return x


def run(work, steps=300, batch=8, lr=1e-4, teacher_steps=8, teacher_shift=3.0, cfg=4.0,
        student_steps=2, student_shift=1.0, seed=3):
    work = Path(work)
    ck = work / "draft.pt"
    done = work / "draft_final.pt"
    if done.exists():
        return
    torch.manual_seed(seed)
    st = torch.load(work / "dit_final.pt")
    t5, teacher = build_for(work, st["dit"])
    t5.load_state_dict(st["t5"])
    teacher.load_state_dict(st["dit"])
    for p in list(t5.parameters()) + list(teacher.parameters()):
        p.requires_grad_(False)
    student = copy.deepcopy(teacher)
    for p in student.parameters():
        p.requires_grad_(True)
    opt = torch.optim.AdamW(student.parameters(), lr=lr, weight_decay=0.0)
    gen = torch.Generator().manual_seed(seed)
    step = 0
    if ck.exists():
        s = torch.load(ck)
        student.load_state_dict(s["student"])
        opt.load_state_dict(s["opt"])
        gen.set_state(s["gen"])
        torch.set_rng_state(s["rng"])
        step = s["step"]
        common.log(work, f"draft: resumed at step {step}")
    train, _ = data.split_combos()
    cap, _, neg_ids = caption_ids(work)
    tsig = euler_sigmas(teacher_steps, teacher_shift)
    ssig = euler_sigmas(student_steps, student_shift)
    while step < steps:
        idx = torch.randint(len(train), (batch,), generator=gen).tolist()
        with torch.no_grad():
            ctx_t5 = common.encode_text(t5, [cap[train[i]] for i in idx])
            u_t5 = common.encode_text(t5, [neg_ids] * batch)
            noise = torch.randn(batch, 16, 5, 8, 8, generator=gen)
            target = sample(teacher, teacher.embed_context(ctx_t5), teacher.embed_context(u_t5), noise, tsig, cfg)
        x = sample(student, student.embed_context(ctx_t5), None, noise, ssig, 1.0)
        loss = F.mse_loss(x, target)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 10 == 0:
            common.log(work, f"draft step {step}/{steps} loss {loss.item():.4f}")
        if step % 50 == 0 or step == steps:
            common.atomic_save({"student": student.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(),
                                "rng": torch.get_rng_state(), "step": step}, ck)
    common.atomic_save({"dit": student.state_dict(), "dit_cfg": student.cfg}, done)
    common.log(work, "draft done")

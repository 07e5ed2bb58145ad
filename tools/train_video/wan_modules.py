"""Wan2.1's three networks as small PyTorch modules, written from the semantics in
tests/data/wan/README.md (no official code is copied). Module paths equal the official
state-dict names, so `state_dict()` exports as a real Wan2.1 release.

  WanVAE      3D causal VAE (WanVAE_ + the WanVAE mean/std wrapper); whole-sequence causal
              processing: frame 0 alone semantics, the rest as one chunk (equivalent to the
              official 1/4/4 chunking, see the README).
  T5Encoder   umT5 encoder layout (per-layer relative position bias, unscaled attention).
  WanModel    the t2v DiT.

Works on torch 1.13 (no scaled_dot_product_attention).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# WanVAE's fixed latent statistics (wan/modules/vae.py, also tests/data/wan/vae_a/meta.json).
VAE_MEAN = [-0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508,
            0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921]
VAE_STD = [2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743,
           3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.9160]


def softmax_attention(q, k, v, scale):
    """q [..., Lq, d], k/v [..., Lk, d]."""
    a = torch.matmul(q, k.transpose(-1, -2)) * scale
    return torch.matmul(a.softmax(dim=-1), v)


# ----------------------------------------------------------------------------------------- VAE
class CausalConv3d(nn.Conv3d):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        pt, ph, pw = self.padding
        self._pad = (pw, pw, ph, ph, 2 * pt, 0)
        self.padding = (0, 0, 0)

    def forward(self, x):
        return super().forward(F.pad(x, self._pad))


class RMS_norm(nn.Module):
    def __init__(self, dim, images=True):
        super().__init__()
        self.scale = dim ** 0.5
        self.gamma = nn.Parameter(torch.ones((dim, 1, 1) if images else (dim, 1, 1, 1)))

    # Training-only continuation: x / (rms(x) + soft). soft > 0 makes the net nearly linear so a
    # narrow VAE can learn at all (scale-invariant norms over 8 channels stall it: measured, see
    # stage_vae.py); it is annealed to 0, and every later step and every export use Wan's norm.
    soft = 0.0

    def forward(self, x):
        if RMS_norm.soft > 0:
            return x / (x.pow(2).mean(dim=1, keepdim=True).sqrt() + RMS_norm.soft) * self.gamma
        return F.normalize(x, dim=1) * self.scale * self.gamma


class Upsample2x(nn.Module):
    def forward(self, x):  # nearest-exact x2 == nearest x2
        return F.interpolate(x, scale_factor=2.0, mode="nearest")


class Resample(nn.Module):
    def __init__(self, dim, mode):
        super().__init__()
        self.mode = mode
        if mode == "upsample2d":
            self.resample = nn.Sequential(Upsample2x(), nn.Conv2d(dim, dim // 2, 3, padding=1))
        elif mode == "upsample3d":
            self.resample = nn.Sequential(Upsample2x(), nn.Conv2d(dim, dim // 2, 3, padding=1))
            self.time_conv = CausalConv3d(dim, dim * 2, (3, 1, 1), padding=(1, 0, 0))
        elif mode == "downsample2d":
            self.resample = nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(dim, dim, 3, stride=(2, 2)))
        elif mode == "downsample3d":
            self.resample = nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(dim, dim, 3, stride=(2, 2)))
            self.time_conv = CausalConv3d(dim, dim, (3, 1, 1), stride=(2, 1, 1), padding=(0, 0, 0))
        else:
            raise ValueError(mode)

    def forward(self, x):
        b, c, t, h, w = x.shape
        if self.mode == "upsample3d" and t > 1:
            # frame 0 (first chunk) skips time_conv; the rest see zero frames in front ('Rep').
            r = self.time_conv(x[:, :, 1:])
            r = r.reshape(b, 2, c, t - 1, h, w)
            r = torch.stack((r[:, 0], r[:, 1]), 3).reshape(b, c, 2 * (t - 1), h, w)
            x = torch.cat([x[:, :, :1], r], 2)
            t = x.shape[2]
        x = x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
        x = self.resample(x)
        x = x.reshape(b, t, x.shape[1], x.shape[2], x.shape[3]).permute(0, 2, 1, 3, 4)
        if self.mode == "downsample3d" and t > 1:
            # first chunk skips; later chunks prepend the previous chunk's last frame.
            x = torch.cat([x[:, :, :1], self.time_conv(x)], 2)
        return x


class ResidualBlock(nn.Module):
    def __init__(self, in_dim, out_dim):
        super().__init__()
        self.residual = nn.Sequential(
            RMS_norm(in_dim, images=False), nn.SiLU(), CausalConv3d(in_dim, out_dim, 3, padding=1),
            RMS_norm(out_dim, images=False), nn.SiLU(), nn.Dropout(0.0),
            CausalConv3d(out_dim, out_dim, 3, padding=1))
        self.shortcut = CausalConv3d(in_dim, out_dim, 1) if in_dim != out_dim else nn.Identity()

    def forward(self, x):
        return self.residual(x) + self.shortcut(x)


class AttentionBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = RMS_norm(dim)
        self.to_qkv = nn.Conv2d(dim, dim * 3, 1)
        self.proj = nn.Conv2d(dim, dim, 1)

    def forward(self, x):
        identity = x
        b, c, t, h, w = x.shape
        y = x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
        y = self.norm(y)
        qkv = self.to_qkv(y).reshape(b * t, 3 * c, h * w).permute(0, 2, 1)
        q, k, v = qkv.chunk(3, dim=-1)
        y = softmax_attention(q, k, v, 1.0 / math.sqrt(c))
        y = y.permute(0, 2, 1).reshape(b * t, c, h, w)
        y = self.proj(y)
        y = y.reshape(b, t, c, h, w).permute(0, 2, 1, 3, 4)
        return y + identity


class Encoder3d(nn.Module):
    def __init__(self, dim, z_dim, dim_mult, num_res_blocks, temperal_downsample):
        super().__init__()
        dims = [dim * u for u in [1] + dim_mult]
        self.conv1 = CausalConv3d(3, dims[0], 3, padding=1)
        layers = []
        for i, (in_dim, out_dim) in enumerate(zip(dims[:-1], dims[1:])):
            for _ in range(num_res_blocks):
                layers.append(ResidualBlock(in_dim, out_dim))
                in_dim = out_dim
            if i != len(dim_mult) - 1:
                layers.append(Resample(out_dim, "downsample3d" if temperal_downsample[i] else "downsample2d"))
        self.downsamples = nn.Sequential(*layers)
        self.middle = nn.Sequential(ResidualBlock(out_dim, out_dim), AttentionBlock(out_dim),
                                    ResidualBlock(out_dim, out_dim))
        self.head = nn.Sequential(RMS_norm(out_dim, images=False), nn.SiLU(),
                                  CausalConv3d(out_dim, z_dim, 3, padding=1))

    def forward(self, x):
        return self.head(self.middle(self.downsamples(self.conv1(x))))


class Decoder3d(nn.Module):
    def __init__(self, dim, z_dim, dim_mult, num_res_blocks, temperal_upsample):
        super().__init__()
        dims = [dim * u for u in [dim_mult[-1]] + dim_mult[::-1]]
        self.conv1 = CausalConv3d(z_dim, dims[0], 3, padding=1)
        self.middle = nn.Sequential(ResidualBlock(dims[0], dims[0]), AttentionBlock(dims[0]),
                                    ResidualBlock(dims[0], dims[0]))
        layers = []
        for i, (in_dim, out_dim) in enumerate(zip(dims[:-1], dims[1:])):
            if i in (1, 2, 3):
                in_dim = in_dim // 2
            for _ in range(num_res_blocks + 1):
                layers.append(ResidualBlock(in_dim, out_dim))
                in_dim = out_dim
            if i != len(dim_mult) - 1:
                layers.append(Resample(out_dim, "upsample3d" if temperal_upsample[i] else "upsample2d"))
        self.upsamples = nn.Sequential(*layers)
        self.head = nn.Sequential(RMS_norm(out_dim, images=False), nn.SiLU(),
                                  CausalConv3d(out_dim, 3, 3, padding=1))

    def forward(self, x):
        return self.head(self.upsamples(self.middle(self.conv1(x))))


class WanVAE(nn.Module):
    """WanVAE_ (state dict: encoder.*, decoder.*, conv1.*, conv2.*) + the WanVAE normalisation."""

    def __init__(self, dim=8, z_dim=16, dim_mult=(1, 2, 4, 4), num_res_blocks=2,
                 temperal_downsample=(False, True, True)):
        super().__init__()
        dim_mult = list(dim_mult)
        self.cfg = dict(dim=dim, z_dim=z_dim, dim_mult=dim_mult, num_res_blocks=num_res_blocks,
                        attn_scales=[], temperal_downsample=list(temperal_downsample))
        self.z_dim = z_dim
        self.encoder = Encoder3d(dim, z_dim * 2, dim_mult, num_res_blocks, list(temperal_downsample))
        self.conv1 = CausalConv3d(z_dim * 2, z_dim * 2, 1)
        self.conv2 = CausalConv3d(z_dim, z_dim, 1)
        self.decoder = Decoder3d(dim, z_dim, dim_mult, num_res_blocks, list(temperal_downsample)[::-1])
        self.register_buffer("mean", torch.tensor(VAE_MEAN).view(1, z_dim, 1, 1, 1), persistent=False)
        inv_std = (1.0 / torch.tensor(VAE_STD, dtype=torch.float32))  # float32 reciprocal, as WanVAE
        self.register_buffer("inv_std", inv_std.view(1, z_dim, 1, 1, 1), persistent=False)

    def encode(self, x):
        """x [B,3,1+4k,H,W] in [-1,1] -> normalised mu [B,16,1+k,H/8,W/8]."""
        t = x.shape[2]
        x = x[:, :, :1 + 4 * ((t - 1) // 4)]  # trailing frames are dropped, as WanVAE.encode
        mu = self.conv1(self.encoder(x))[:, :self.z_dim]
        return (mu - self.mean) * self.inv_std

    def decode_raw(self, z):
        """normalised z -> video before the clamp."""
        z = z / self.inv_std + self.mean
        return self.decoder(self.conv2(z))

    def decode(self, z):
        return self.decode_raw(z).clamp(-1, 1)


# ------------------------------------------------------------------------------------------ T5
class T5LayerNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + self.eps))


class T5Attention(nn.Module):
    def __init__(self, dim, dim_attn, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim_attn // num_heads
        self.q = nn.Linear(dim, dim_attn, bias=False)
        self.k = nn.Linear(dim, dim_attn, bias=False)
        self.v = nn.Linear(dim, dim_attn, bias=False)
        self.o = nn.Linear(dim_attn, dim, bias=False)

    def forward(self, x, mask, pos_bias):
        b, l, _ = x.shape
        n, c = self.num_heads, self.head_dim
        q = self.q(x).view(b, l, n, c).transpose(1, 2)
        k = self.k(x).view(b, l, n, c).transpose(1, 2)
        v = self.v(x).view(b, l, n, c).transpose(1, 2)
        bias = pos_bias.expand(b, n, l, l)
        if mask is not None:  # masked keys: the bias is replaced by float32 min
            bias = bias.masked_fill(mask.view(b, 1, 1, l) == 0, torch.finfo(torch.float32).min)
        a = torch.matmul(q, k.transpose(-1, -2)) + bias  # no 1/sqrt(d)
        y = torch.matmul(a.float().softmax(dim=-1), v)
        return self.o(y.transpose(1, 2).reshape(b, l, n * c))


class T5FeedForward(nn.Module):
    def __init__(self, dim, dim_ffn):
        super().__init__()
        self.gate = nn.Sequential(nn.Linear(dim, dim_ffn, bias=False), nn.GELU(approximate="tanh"))
        self.fc1 = nn.Linear(dim, dim_ffn, bias=False)
        self.fc2 = nn.Linear(dim_ffn, dim, bias=False)

    def forward(self, x):
        return self.fc2(self.fc1(x) * self.gate(x))


class T5RelativeEmbedding(nn.Module):
    def __init__(self, num_buckets, num_heads, max_dist=128):
        super().__init__()
        self.num_buckets = num_buckets
        self.max_dist = max_dist
        self.embedding = nn.Embedding(num_buckets, num_heads)

    def buckets(self, lq, lk, device=None):
        rel = torch.arange(lk, device=device).unsqueeze(0) - torch.arange(lq, device=device).unsqueeze(1)
        nb = self.num_buckets // 2
        out = (rel > 0).long() * nb
        rel = rel.abs()
        max_exact = nb // 2
        large = max_exact + (torch.log(rel.float() / max_exact) / math.log(self.max_dist / max_exact)
                             * (nb - max_exact)).long()
        large = torch.minimum(large, torch.full_like(large, nb - 1))
        return out + torch.where(rel < max_exact, rel, large)

    def forward(self, lq, lk):
        e = self.embedding(self.buckets(lq, lk, self.embedding.weight.device))  # [lq,lk,n]
        return e.permute(2, 0, 1).unsqueeze(0)


class T5SelfAttention(nn.Module):
    def __init__(self, dim, dim_attn, dim_ffn, num_heads, num_buckets):
        super().__init__()
        self.norm1 = T5LayerNorm(dim)
        self.attn = T5Attention(dim, dim_attn, num_heads)
        self.norm2 = T5LayerNorm(dim)
        self.ffn = T5FeedForward(dim, dim_ffn)
        self.pos_embedding = T5RelativeEmbedding(num_buckets, num_heads)

    def forward(self, x, mask):
        e = self.pos_embedding(x.size(1), x.size(1))
        x = x + self.attn(self.norm1(x), mask, e)
        return x + self.ffn(self.norm2(x))


class T5Encoder(nn.Module):
    def __init__(self, vocab, dim=64, dim_attn=64, dim_ffn=128, num_heads=4, num_layers=2, num_buckets=32):
        super().__init__()
        self.cfg = dict(vocab=vocab, dim=dim, dim_attn=dim_attn, dim_ffn=dim_ffn, num_heads=num_heads,
                        num_layers=num_layers, num_buckets=num_buckets, shared_pos=False)
        self.token_embedding = nn.Embedding(vocab, dim)
        self.blocks = nn.ModuleList([T5SelfAttention(dim, dim_attn, dim_ffn, num_heads, num_buckets)
                                     for _ in range(num_layers)])
        self.norm = T5LayerNorm(dim)

    def forward(self, ids, mask=None):
        x = self.token_embedding(ids)
        for blk in self.blocks:
            x = blk(x, mask)
        return self.norm(x)


# ----------------------------------------------------------------------------------------- DiT
def sinusoidal_embedding_1d(dim, t):
    half = dim // 2
    t = t.to(torch.float64)
    arg = torch.outer(t, torch.pow(10000.0, -torch.arange(half, dtype=torch.float64).div(half)))
    return torch.cat([torch.cos(arg), torch.sin(arg)], dim=1)


def rope_tables(head_dim, f, h, w, theta=10000.0):
    """cos/sin [f*h*w, head_dim/2] (float64) for the t/h/w bands c-2(c//3), c//3, c//3."""
    c = head_dim // 2
    bands = [c - 2 * (c // 3), c // 3, c // 3]
    angs = []
    for n, npos, axis in zip(bands, (f, h, w), range(3)):
        freqs = 1.0 / torch.pow(theta, torch.arange(0, 2 * n, 2, dtype=torch.float64) / (2 * n))
        ang = torch.outer(torch.arange(npos, dtype=torch.float64), freqs)  # [npos, n]
        shape = [1, 1, 1, n]
        shape[axis] = npos
        angs.append(ang.view(*shape).expand(f, h, w, n))
    ang = torch.cat(angs, dim=-1).reshape(f * h * w, c)
    return torch.cos(ang), torch.sin(ang)


def rope_apply(x, cos, sin):
    """x [B,L,N,D]; adjacent pairs rotated, in float64."""
    b, l, n, d = x.shape
    xd = x.to(torch.float64).reshape(b, l, n, d // 2, 2)
    re, im = xd[..., 0], xd[..., 1]
    cs, sn = cos.view(1, l, 1, d // 2), sin.view(1, l, 1, d // 2)
    out = torch.stack([re * cs - im * sn, re * sn + im * cs], dim=-1)
    return out.reshape(b, l, n, d).to(x.dtype)


class WanRMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class WanAttention(nn.Module):
    def __init__(self, dim, num_heads, eps=1e-6):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.o = nn.Linear(dim, dim)
        self.norm_q = WanRMSNorm(dim, eps)
        self.norm_k = WanRMSNorm(dim, eps)

    def forward(self, x, ctx=None, rope=None):
        src = x if ctx is None else ctx
        b, lq, _ = x.shape
        lk = src.shape[1]
        n, d = self.num_heads, self.head_dim
        q = self.norm_q(self.q(x)).view(b, lq, n, d)
        k = self.norm_k(self.k(src)).view(b, lk, n, d)
        v = self.v(src).view(b, lk, n, d)
        if rope is not None:
            q = rope_apply(q, *rope)
            k = rope_apply(k, *rope)
        y = softmax_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), 1.0 / math.sqrt(d))
        return self.o(y.transpose(1, 2).reshape(b, lq, n * d))


class WanAttentionBlock(nn.Module):
    def __init__(self, dim, ffn_dim, num_heads, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.self_attn = WanAttention(dim, num_heads, eps)
        self.norm3 = nn.LayerNorm(dim, eps=eps, elementwise_affine=True)
        self.cross_attn = WanAttention(dim, num_heads, eps)
        self.ffn = nn.Sequential(nn.Linear(dim, ffn_dim), nn.GELU(approximate="tanh"), nn.Linear(ffn_dim, dim))
        self.modulation = nn.Parameter(torch.randn(1, 6, dim) / dim ** 0.5)

    def forward(self, x, e0, ctx, rope):
        dim = x.shape[-1]
        m = (self.modulation + e0).chunk(6, dim=1)  # e0 [B,6,dim] -> 6 x [B,1,dim]
        ln = lambda z: F.layer_norm(z, (dim,), eps=self.eps)
        y = self.self_attn(ln(x) * (1 + m[1]) + m[0], rope=rope)
        x = x + y * m[2]
        x = x + self.cross_attn(self.norm3(x), ctx=ctx)
        y = self.ffn(ln(x) * (1 + m[4]) + m[3])
        return x + y * m[5]


class Head(nn.Module):
    def __init__(self, dim, out_dim, patch, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.head = nn.Linear(dim, out_dim * patch[0] * patch[1] * patch[2])
        self.modulation = nn.Parameter(torch.randn(1, 2, dim) / dim ** 0.5)

    def forward(self, x, e):
        m = (self.modulation + e.unsqueeze(1)).chunk(2, dim=1)
        return self.head(F.layer_norm(x, (x.shape[-1],), eps=self.eps) * (1 + m[1]) + m[0])


class WanModel(nn.Module):
    def __init__(self, dim=128, ffn_dim=512, freq_dim=64, text_dim=64, text_len=32, num_heads=4,
                 num_layers=4, in_dim=16, out_dim=16, eps=1e-6, patch_size=(1, 2, 2)):
        super().__init__()
        self.patch_size = tuple(int(p) for p in patch_size)
        self.cfg = {
            "_class_name": "WanModel", "_diffusers_version": "0.30.0", "model_type": "t2v",
            "patch_size": list(self.patch_size), "text_len": text_len, "in_dim": in_dim, "dim": dim,
            "ffn_dim": ffn_dim, "freq_dim": freq_dim, "text_dim": text_dim, "out_dim": out_dim,
            "num_heads": num_heads, "num_layers": num_layers, "window_size": [-1, -1],
            "qk_norm": True, "cross_attn_norm": True, "eps": eps}
        self.dim, self.freq_dim, self.text_len, self.out_dim = dim, freq_dim, text_len, out_dim
        self.num_heads = num_heads
        self.patch_embedding = nn.Conv3d(in_dim, dim, kernel_size=self.patch_size, stride=self.patch_size)
        self.text_embedding = nn.Sequential(nn.Linear(text_dim, dim), nn.GELU(approximate="tanh"),
                                            nn.Linear(dim, dim))
        self.time_embedding = nn.Sequential(nn.Linear(freq_dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.time_projection = nn.Sequential(nn.SiLU(), nn.Linear(dim, dim * 6))
        self.blocks = nn.ModuleList([WanAttentionBlock(dim, ffn_dim, num_heads, eps) for _ in range(num_layers)])
        self.head = Head(dim, out_dim, self.patch_size, eps)
        self._rope = {}

    def init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.xavier_uniform_(self.patch_embedding.weight.flatten(1))
        for m in list(self.text_embedding) + list(self.time_embedding):
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.02)
        nn.init.zeros_(self.head.head.weight)

    def rope(self, f, h, w):
        key = (f, h, w)
        if key not in self._rope:
            self._rope[key] = rope_tables(self.dim // self.num_heads, f, h, w)
        return self._rope[key]

    def embed_context(self, ctx):
        """ctx [B,L<=text_len,text_dim] (rows past each prompt's length already zero)."""
        b, l, c = ctx.shape
        if l < self.text_len:
            ctx = torch.cat([ctx, ctx.new_zeros(b, self.text_len - l, c)], dim=1)
        return self.text_embedding(ctx)

    def forward(self, x, t, ctx_emb):
        """x [B,16,F,H,W], t [B] (float timesteps 0..1000), ctx_emb from embed_context."""
        b = x.shape[0]
        x = self.patch_embedding(x)
        f, h, w = x.shape[2:]
        x = x.flatten(2).transpose(1, 2)
        e = self.time_embedding(sinusoidal_embedding_1d(self.freq_dim, t).float())
        e0 = self.time_projection(e).unflatten(1, (6, self.dim))
        rope = self.rope(f, h, w)
        for blk in self.blocks:
            x = blk(x, e0, ctx_emb, rope)
        x = self.head(x, e)  # [B, L, pt*ph*pw*c]
        c = self.out_dim
        pt, ph, pw = self.patch_size
        x = x.view(b, f, h, w, pt, ph, pw, c)
        x = torch.einsum("bfhwpqrc->bcfphqwr", x)
        return x.reshape(b, c, f * pt, h * ph, w * pw)

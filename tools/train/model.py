"""A Llama-architecture decoder in PyTorch with exactly frugal's `llama` GGUF semantics.

Offline training tool for frugal's bundled demo models:
- RMSNorm with eps 1e-5 and a learned scale, no biases anywhere;
- SwiGLU feed-forward: down(silu(gate(x)) * up(x));
- grouped-query attention (n_head_kv divides n_head), causal softmax with 1/sqrt(head_dim);
- RoPE in llama.cpp's NORM mode: the rotated pairs are ADJACENT elements (x[2i], x[2i+1]) of
  each head, with frequency theta^(-2i/head_dim), theta = 10000. Because the PyTorch model uses
  the same pairing as frugal, attn_q/attn_k are exported as they are: no Q/K row permutation
  (the one Hugging Face checkpoints need) is applied anywhere;
- tied embeddings: the output projection reuses token_embd (the GGUF then has no output.weight).
"""

import dataclasses
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclasses.dataclass
class Config:
    n_vocab: int = 4096
    n_embd: int = 256
    n_layer: int = 6
    n_head: int = 8
    n_head_kv: int = 4
    n_ff: int = 768
    n_ctx: int = 256
    rope_theta: float = 10000.0
    rms_eps: float = 1e-5


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(cfg):
    head_dim = cfg.n_embd // cfg.n_head
    inv_freq = cfg.rope_theta ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
    angles = torch.arange(cfg.n_ctx, dtype=torch.float64)[:, None] * inv_freq[None, :]  # [n_ctx, head_dim/2]
    return torch.cos(angles).float(), torch.sin(angles).float()


def apply_rope(x, cos, sin):
    """x: [batch, heads, T, head_dim]; rotates adjacent pairs (x[2i], x[2i+1]) (llama.cpp NORM mode)."""
    x0, x1 = x[..., 0::2], x[..., 1::2]  # [B, H, T, head_dim/2]
    c, s = cos[: x.shape[2]], sin[: x.shape[2]]
    y0 = x0 * c - x1 * s
    y1 = x0 * s + x1 * c
    return torch.stack((y0, y1), dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        hd = cfg.n_embd // cfg.n_head
        self.attn_norm = RMSNorm(cfg.n_embd, cfg.rms_eps)
        self.wq = nn.Linear(cfg.n_embd, cfg.n_head * hd, bias=False)
        self.wk = nn.Linear(cfg.n_embd, cfg.n_head_kv * hd, bias=False)
        self.wv = nn.Linear(cfg.n_embd, cfg.n_head_kv * hd, bias=False)
        self.wo = nn.Linear(cfg.n_head * hd, cfg.n_embd, bias=False)
        self.ffn_norm = RMSNorm(cfg.n_embd, cfg.rms_eps)
        self.w_gate = nn.Linear(cfg.n_embd, cfg.n_ff, bias=False)
        self.w_up = nn.Linear(cfg.n_embd, cfg.n_ff, bias=False)
        self.w_down = nn.Linear(cfg.n_ff, cfg.n_embd, bias=False)
        mask = torch.ones(cfg.n_ctx, cfg.n_ctx, dtype=torch.bool).triu(1)  # True above the diagonal
        self.register_buffer("causal_mask", mask, persistent=False)

    def forward(self, x, cos, sin):
        cfg = self.cfg
        B, T, _ = x.shape
        hd = cfg.n_embd // cfg.n_head
        h = self.attn_norm(x)
        q = self.wq(h).view(B, T, cfg.n_head, hd).transpose(1, 2)     # [B, n_head, T, hd]
        k = self.wk(h).view(B, T, cfg.n_head_kv, hd).transpose(1, 2)  # [B, n_head_kv, T, hd]
        v = self.wv(h).view(B, T, cfg.n_head_kv, hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        rep = cfg.n_head // cfg.n_head_kv
        if rep > 1:  # query head j reads kv head j // rep, as in frugal/llama.cpp
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))  # [B, n_head, T, T]
        scores = scores.masked_fill(self.causal_mask[:T, :T], float("-inf"))
        a = torch.softmax(scores, dim=-1) @ v                         # [B, n_head, T, hd]
        x = x + self.wo(a.transpose(1, 2).reshape(B, T, cfg.n_head * hd))
        h = self.ffn_norm(x)
        return x + self.w_down(F.silu(self.w_gate(h)) * self.w_up(h))


class Llama(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.token_embd = nn.Embedding(cfg.n_vocab, cfg.n_embd)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.output_norm = RMSNorm(cfg.n_embd, cfg.rms_eps)
        cos, sin = rope_tables(cfg)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)
        self.apply(self._init)
        for b in self.blocks:  # GPT-2 style: residual projections scaled by depth
            nn.init.normal_(b.wo.weight, std=0.02 / math.sqrt(2 * cfg.n_layer))
            nn.init.normal_(b.w_down.weight, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)

    def forward(self, ids):
        x = self.token_embd(ids)  # [B, T, n_embd]
        for b in self.blocks:
            x = b(x, self.rope_cos, self.rope_sin)
        return self.output_norm(x) @ self.token_embd.weight.t()  # [B, T, n_vocab] (tied output)

    def n_params(self):
        return sum(p.numel() for p in self.parameters())

    def gguf_tensors(self):
        """(gguf name, float32 numpy array in PyTorch [out, in] order) for every weight.

        A PyTorch [rows, cols] matrix is GGUF ne = {cols, rows}, which is what frugal expects
        (e.g. token_embd.weight ne = {n_embd, n_vocab}).
        """
        out = [("token_embd.weight", self.token_embd.weight), ("output_norm.weight", self.output_norm.weight)]
        for i, b in enumerate(self.blocks):
            p = f"blk.{i}."
            out += [(p + "attn_norm.weight", b.attn_norm.weight), (p + "attn_q.weight", b.wq.weight),
                    (p + "attn_k.weight", b.wk.weight), (p + "attn_v.weight", b.wv.weight),
                    (p + "attn_output.weight", b.wo.weight), (p + "ffn_norm.weight", b.ffn_norm.weight),
                    (p + "ffn_gate.weight", b.w_gate.weight), (p + "ffn_up.weight", b.w_up.weight),
                    (p + "ffn_down.weight", b.w_down.weight)]
        return [(n, t.detach().float().contiguous().numpy()) for n, t in out]

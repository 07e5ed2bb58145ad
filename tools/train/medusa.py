"""Trains Medusa heads on the frozen bundled target and exports them as a GGUF sidecar.

Offline tool (see tools/train/README.md). Run with Debian's interpreter, one thread:
  OMP_NUM_THREADS=1 nice -n 5 /usr/bin/python3 tools/train/medusa.py --frugal build/frugal --minutes 15
  (--resume continues a stopped run from <work>/medusa.pt; --export-only rewrites the GGUF)

Heads (Medusa-1): head k (k = 1..K) maps the target's last hidden state h_t (after output_norm,
the vector the output matrix multiplies) to
    z_k = h_t + SiLU(W_k h_t + b_k),   logits_k = z_k @ E^T   (E: the target's output matrix)
and predicts token t+k+1 (the target itself, h_t @ E^T, predicts t+1). W_k starts at zero, so a
fresh head is the target's own next-token head. The output matrix is the target's, frozen and
shared: a head then costs n_embd^2 + n_embd parameters (65,792 here) instead of also
n_vocab x n_embd (1 M), which trains in minutes on one core from little data, keeps the sidecar
small (~1 MiB for 4 heads) and lets the engine score all heads with one batched matmul.

Self-distillation: the label of head k at position t is the TARGET's argmax at position t+k
(what it predicts for token t+k+1), not the corpus token, because speculation is verified against
the target and greedy acceptance needs exactly that token. The target runs once per window; its
final hidden rows (f16) and argmaxes are cached (<work>/medusa-features.pt) and training steps
sample 512 random positions from the cache. Data: windows of the training split ([BOS] + 255 tokens, tokenized by frugal itself) and
windows of the target's own greedy text (`frugal run --temp 0`, what --temp 0 decoding verifies;
half of each batch). The target runs in PyTorch (model.py, frugal's exact llama semantics) on
weights read from the GGUF.

Reports held-out top-1 / top-r accuracy per head (against the target's argmax at t+k) on held-out
corpus windows and held-out greedy windows (stored in the GGUF as medusa.accuracy), and measures
the candidate tree on the held-out greedy windows from JOINT acceptance (how often a whole path of
candidates is right together, which the per-head marginals underestimate: the heads' errors are
correlated): the 64 most likely nodes, best first, stored as medusa.tree.*; the engine takes the
first --medusa-tree of them.

GGUF layout (docs/design/speculative.md, "Medusa heads"):
  general.architecture = "medusa"
  medusa.head_count (u32) K, medusa.top_ranks (u32) R
  medusa.base.embedding_length / vocab_size / block_count (u32): the base model's shape
  medusa.base.fingerprint (string): FNV-1a 64 (hex) of the base's output_norm.weight as f32 bytes
  medusa.base.name (string): the base's general.name (for messages)
  medusa.accuracy (f32 array [K * R]): cumulative top-r accuracy of head k at [k * R + r - 1]
  medusa.tree.parent / medusa.tree.rank (i32 arrays [N]), medusa.tree.chance (f32 [N]): the measured
    tree, most likely node first (parent -1 = the root, parents first; node i proposes head
    (depth_i - 1)'s rank_i-th candidate; chance = measured share of positions that accept it)
  medusa.<k>.weight F32 ne = {n_embd, n_embd} (W_k, [out, in] rows), medusa.<k>.bias F32 {n_embd}
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as llama  # noqa: E402

TOP_RANKS = 10
TREE_NODES = 64  # the measured tree's size stored in the file (the engine takes its first --medusa-tree nodes)
HELDOUT_EVERY, HELDOUT_PHASE = 40, 20  # prepare_corpus.py's split

# ---- minimal GGUF v3 reader / writer (F16/F32 tensors, scalar/string/array metadata) ----
_SCALAR = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


def _read_str(f):
    (n,) = struct.unpack("<Q", f.read(8))
    return f.read(n).decode("utf-8")


def _read_value(f, t):
    if t in _SCALAR:
        fmt = "<" + _SCALAR[t]
        return struct.unpack(fmt, f.read(struct.calcsize(fmt)))[0]
    if t == 8:
        return _read_str(f)
    if t == 9:
        (et,), (n,) = struct.unpack("<I", f.read(4)), struct.unpack("<Q", f.read(8))
        return [_read_value(f, et) for _ in range(n)]
    raise ValueError(f"gguf: unknown value type {t}")


def read_gguf(path):
    """(metadata dict, {name: float32 numpy array in [rows, cols] = reversed ne order})."""
    with open(path, "rb") as f:
        magic, version, n_tensors, n_kv = struct.unpack("<4sIQQ", f.read(24))
        assert magic == b"GGUF" and version == 3, (magic, version)
        meta = {}
        for _ in range(n_kv):
            key = _read_str(f)
            (t,) = struct.unpack("<I", f.read(4))
            meta[key] = _read_value(f, t)
        infos = []
        for _ in range(n_tensors):
            name = _read_str(f)
            (nd,) = struct.unpack("<I", f.read(4))
            ne = struct.unpack(f"<{nd}Q", f.read(8 * nd))
            ttype, offset = struct.unpack("<IQ", f.read(12))
            infos.append((name, ne, ttype, offset))
        align = meta.get("general.alignment", 32)
        base = (f.tell() + align - 1) // align * align
        tensors = {}
        for name, ne, ttype, offset in infos:
            count = int(np.prod(ne))
            dtype = {0: np.float32, 1: np.float16}.get(ttype)
            if dtype is None:
                raise ValueError(f"{path}: tensor {name} has type {ttype}; medusa.py reads F32/F16 models")
            f.seek(base + offset)
            arr = np.frombuffer(f.read(count * np.dtype(dtype).itemsize), dtype=dtype).astype(np.float32)
            tensors[name] = arr.reshape(tuple(reversed(ne)))
    return meta, tensors


def write_gguf(path, meta, tensors):
    """meta: list of (key, type, value) with type in u32/f32/str/f32arr/i32arr; tensors: (name, float32 array)."""
    def s(x):
        b = x.encode("utf-8")
        return struct.pack("<Q", len(b)) + b
    out = bytearray(struct.pack("<4sIQQ", b"GGUF", 3, len(tensors), len(meta)))
    for key, typ, val in meta:
        out += s(key)
        if typ == "u32":
            out += struct.pack("<II", 4, val)
        elif typ == "f32":
            out += struct.pack("<If", 6, val)
        elif typ == "str":
            out += struct.pack("<I", 8) + s(val)
        elif typ == "f32arr":
            out += struct.pack("<IIQ", 9, 6, len(val)) + struct.pack(f"<{len(val)}f", *val)
        elif typ == "i32arr":
            out += struct.pack("<IIQ", 9, 5, len(val)) + struct.pack(f"<{len(val)}i", *val)
    offset, blobs = 0, []
    for name, arr in tensors:
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        ne = tuple(reversed(arr.shape))
        out += s(name) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}Q", *ne) + struct.pack("<IQ", 0, offset)
        blobs.append((offset, arr.tobytes()))
        offset = (offset + arr.nbytes + 31) // 32 * 32
    out += b"\0" * ((-len(out)) % 32)
    data = bytearray(offset)
    for off, b in blobs:
        data[off:off + len(b)] = b
    with open(path + ".tmp", "wb") as f:
        f.write(out + data)
    os.replace(path + ".tmp", path)


def fingerprint(output_norm):
    """FNV-1a 64 of output_norm.weight as little-endian f32 bytes (src/engine/medusa_heads.cc)."""
    h = 0xcbf29ce484222325
    for byte in np.ascontiguousarray(output_norm, dtype="<f4").tobytes():
        h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def load_target(path):
    meta, t = read_gguf(path)
    cfg = llama.Config(n_vocab=meta["llama.vocab_size"], n_embd=meta["llama.embedding_length"],
                       n_layer=meta["llama.block_count"], n_head=meta["llama.attention.head_count"],
                       n_head_kv=meta["llama.attention.head_count_kv"], n_ff=meta["llama.feed_forward_length"],
                       n_ctx=meta["llama.context_length"], rope_theta=meta["llama.rope.freq_base"])
    net = llama.Llama(cfg)
    names = [n for n, _ in net.gguf_tensors()]
    mods = {"token_embd.weight": net.token_embd.weight, "output_norm.weight": net.output_norm.weight}
    for i, b in enumerate(net.blocks):
        p = f"blk.{i}."
        for n, prm in (("attn_norm", b.attn_norm.weight), ("attn_q", b.wq.weight), ("attn_k", b.wk.weight),
                       ("attn_v", b.wv.weight), ("attn_output", b.wo.weight), ("ffn_norm", b.ffn_norm.weight),
                       ("ffn_gate", b.w_gate.weight), ("ffn_up", b.w_up.weight), ("ffn_down", b.w_down.weight)):
            mods[p + n + ".weight"] = prm
    assert set(names) == set(mods), "model.py and medusa.py disagree on tensor names"
    with torch.no_grad():
        for name, prm in mods.items():
            prm.copy_(torch.from_numpy(t[name]).reshape(prm.shape))
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net, meta, t


@torch.no_grad()
def hidden_and_logits(net, ids):
    """ids [B, T] -> (h [B, T, n_embd] after output_norm, target logits [B, T, n_vocab])."""
    x = net.token_embd(ids)
    for b in net.blocks:
        x = b(x, net.rope_cos, net.rope_sin)
    h = net.output_norm(x)
    return h, h @ net.token_embd.weight.t()


class Heads(nn.Module):
    def __init__(self, k, d):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(k, d, d))  # [K, out, in]
        self.b = nn.Parameter(torch.zeros(k, d))

    def forward(self, h, emb):
        """h [B, T, d] -> logits [K, B, T, n_vocab]."""
        z = h.unsqueeze(0) + F.silu(torch.einsum("koi,bti->kbto", self.w, h) + self.b[:, None, None, :])
        return z @ emb.t()


# ---- data ----
def tokenize(frugal, model, text):
    out = subprocess.run([frugal, "tokenize", "-m", model, "--no-bos", text], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def corpus_streams(args, work):
    paths = [os.path.join(work, n) for n in ("medusa-train.npy", "medusa-heldout.npy")]
    if all(os.path.exists(p) for p in paths):
        return [np.load(p) for p in paths]
    raw = subprocess.run(["bible", "-l0", "gen1:1-rev22:21"], check=True, capture_output=True, text=True).stdout
    chapters, cur = [], None
    for line in raw.splitlines():
        if not line.strip():
            continue
        if line.startswith("  "):
            cur[1].append(line.strip().split(" ", 1)[1])
        else:
            cur = (line.strip(), [])
            chapters.append(cur)
    texts = ["\n".join([t] + v) + "\n\n" for t, v in chapters]
    streams = [[], []]
    for i, text in enumerate(texts):  # per chapter: one argv stays far below the 128 KiB limit
        streams[1 if i % HELDOUT_EVERY == HELDOUT_PHASE else 0] += tokenize(args.frugal, args.model, text)
        if i % 100 == 0:
            print(f"\rtokenizing: {i}/{len(texts)} chapters", end="", flush=True)
    print()
    out = [np.array(s, dtype=np.int64) for s in streams]
    for p, s in zip(paths, out):
        np.save(p, s)
    return out


def greedy_windows(args, work, n_ctx, bos, train_stream, vocab):
    path = os.path.join(work, "medusa-greedy.npy")
    if os.path.exists(path):
        return np.load(path)
    rng = np.random.default_rng(args.seed)
    rows, t0 = [], time.time()
    while len(rows) < args.greedy:
        s = int(rng.integers(0, len(train_stream) - 16))
        prompt = detok(vocab, train_stream[s:s + 16])
        # --spec off: the target's plain greedy text; stdout echoes the prompt, frugal re-tokenizes
        out = subprocess.run([args.frugal, "run", "-m", args.model, "-p", prompt, "-n", str(n_ctx),
                              "--temp", "0", "--ignore-eos", "-t", "1", "--spec", "off"], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(out.stderr)
        ids = [bos] + tokenize(args.frugal, args.model, out.stdout.rstrip("\n"))
        if len(ids) >= n_ctx:
            rows.append(ids[:n_ctx])
        print(f"\rgreedy windows: {len(rows)}/{args.greedy} ({time.time() - t0:.0f} s)", end="", flush=True)
    print()
    arr = np.array(rows, dtype=np.int64)
    np.save(path, arr)
    return arr


def detok(vocab, ids):
    """Byte-level BPE ids -> text (GPT-2's byte <-> printable-character map)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + list(range(ord("\xae"), ord("\xff") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    dec = {chr(c): b for b, c in zip(bs, cs)}
    return bytes(dec[ch] for i in ids for ch in vocab[int(i)]).decode("utf-8", errors="replace")


def corpus_windows(stream, n_ctx, bos):
    n = len(stream) // (n_ctx - 1)
    w = stream[: n * (n_ctx - 1)].reshape(n, n_ctx - 1)
    return np.concatenate([np.full((n, 1), bos, dtype=np.int64), w], axis=1)


@torch.no_grad()
def features(net, windows, chunk=4):
    """Target pass over windows [n, T]: (h [n, T, n_embd] f16 after output_norm, argmax [n, T] int64)."""
    hs, ams = [], []
    for i in range(0, len(windows), chunk):
        h, tl = hidden_and_logits(net, torch.from_numpy(windows[i:i + chunk]))
        hs.append(h.half())
        ams.append(tl.argmax(-1))
    return torch.cat(hs), torch.cat(ams)


def head_loss(heads, emb, h, am, rng, n_pos):
    """Cross-entropy of head k (0-based) at random positions t against the target's argmax at
    t + k + 1 (the token k + 2 after t's), averaged over the heads."""
    K = heads.w.shape[0]
    w = torch.from_numpy(rng.integers(0, h.shape[0], n_pos))
    t = torch.from_numpy(rng.integers(0, h.shape[1] - K - 1, n_pos))
    logits = heads(h[w, t].float()[None], emb)[:, 0]  # [K, n_pos, n_vocab]
    loss = 0.0
    for k in range(K):
        loss = loss + F.cross_entropy(logits[k], am[w, t + k + 1])
    return loss / K


def ranked(heads, emb, h, keep):
    """Each head's TOP_RANKS candidates [K, B, T, R], only among the tokens `keep` ([n_vocab] bool,
    the shortlist the engine scores) when given."""
    logits = heads(h.float(), emb)
    if keep is not None:
        logits = logits.masked_fill(~keep, float("-inf"))
    return logits.topk(TOP_RANKS, -1).indices


@torch.no_grad()
def accuracy(heads, emb, h, am, keep=None):
    """[K, TOP_RANKS] cumulative top-r accuracy against the target's argmax k + 1 positions later."""
    K = heads.w.shape[0]
    hits, total = torch.zeros(K, TOP_RANKS), torch.zeros(K)
    for i in range(0, len(h), 4):
        top = ranked(heads, emb, h[i:i + 4], keep)  # [K, B, T, R]
        want = am[i:i + 4]
        for k in range(K):
            s = k + 1
            eq = top[k, :, :-s] == want[:, s:, None]
            hits[k] += eq.cumsum(-1).clamp(max=1).float().sum((0, 1))
            total[k] += eq.shape[0] * eq.shape[1]
    return (hits / total[:, None]).numpy()


@torch.no_grad()
def joint_tree(heads, emb, h, am, keep=None, n_nodes=TREE_NODES):
    """The candidate tree from measured JOINT acceptance on windows (h, am), not from per-head
    marginals: a node is a path of ranks (r_1 .. r_d), head j-1's rank-r_j candidate at depth j; it
    is accepted at a position when every head on its path holds the target's argmax at its offset
    (the walk reaches it). Its chance is the share of positions whose per-head match ranks start
    with the path. Returns (parent, rank, chance) lists, most likely node first; a child is never
    likelier than its parent and ties go to the shallower node, so parents precede children."""
    K = heads.w.shape[0]
    counts, total = {}, 0
    for i in range(0, len(h), 4):
        top = ranked(heads, emb, h[i:i + 4], keep)  # [K, B, T, R]
        want = am[i:i + 4]
        B, T = want.shape
        match = torch.full((K, B, T), -1, dtype=torch.long)  # rank of the target's token, -1 = none
        for k in range(K):
            s = k + 1
            eq = top[k, :, :T - s] == want[:, s:, None]  # [B, T - s, R]
            match[k, :, :T - s] = torch.where(eq.any(-1), eq.float().argmax(-1), torch.full(eq.shape[:2], -1))
        rows = match[:, :, :T - K].reshape(K, -1).t().tolist()  # positions where every head has a label
        total += len(rows)
        for row in rows:
            path = ()
            for r in row:
                if r < 0:
                    break
                path += (r,)
                counts[path] = counts.get(path, 0) + 1
    best = sorted(counts.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[:n_nodes]
    index = {path: i for i, (path, _) in enumerate(best)}
    parent = [index[p[:-1]] if len(p) > 1 else -1 for p, _ in best]
    assert all(q < i for i, q in enumerate(parent)), "parents precede children"
    return parent, [p[-1] for p, _ in best], [c / total for _, c in best], total


def shortlist(am, n_vocab, size):
    """The `size` tokens the target picks most often on the training windows (argmax counts), as
    ascending ids, or None for size 0: the heads score only these (a fraction of the output matrix)."""
    if size <= 0 or size >= n_vocab:
        return None
    counts = torch.bincount(am.reshape(-1), minlength=n_vocab)
    return torch.sort(torch.argsort(counts, descending=True, stable=True)[:size]).values


def export(args, heads, meta, tensors, acc, tree, short):
    K, d = heads.w.shape[0], heads.w.shape[1]
    kv = [("general.architecture", "str", "medusa"), ("general.name", "str", meta.get("general.name", "") + "-medusa"),
          ("medusa.head_count", "u32", K), ("medusa.top_ranks", "u32", TOP_RANKS),
          ("medusa.base.embedding_length", "u32", d), ("medusa.base.vocab_size", "u32", meta["llama.vocab_size"]),
          ("medusa.base.block_count", "u32", meta["llama.block_count"]),
          ("medusa.base.fingerprint", "str", fingerprint(tensors["output_norm.weight"])),
          ("medusa.base.name", "str", meta.get("general.name", "")),
          ("medusa.accuracy", "f32arr", [float(x) for x in acc.reshape(-1)]),
          ("medusa.tree.parent", "i32arr", tree[0]), ("medusa.tree.rank", "i32arr", tree[1]),
          ("medusa.tree.chance", "f32arr", [float(x) for x in tree[2]])]
    if short is not None:
        kv.append(("medusa.shortlist", "i32arr", [int(x) for x in short]))
    ts = []
    for k in range(K):
        ts += [(f"medusa.{k}.weight", heads.w[k].detach().numpy()), (f"medusa.{k}.bias", heads.b[k].detach().numpy())]
    write_gguf(args.out, kv, ts)
    print(f"wrote {args.out} ({os.path.getsize(args.out):,} bytes)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="models/kjv-target-f16.gguf")
    ap.add_argument("--out", default="models/kjv-target-medusa.gguf")
    ap.add_argument("--frugal", default="build/frugal")
    ap.add_argument("--work", default="build/medusa-train")
    ap.add_argument("--heads", type=int, default=5)
    ap.add_argument("--minutes", type=float, default=15)
    ap.add_argument("--positions", type=int, default=512, help="positions per training step")
    ap.add_argument("--fill", type=float, default=0.4, help="share of the budget that adds new windows")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--greedy", type=int, default=320, help="greedy windows to generate (the last --heldout-greedy are held out)")
    ap.add_argument("--heldout-greedy", type=int, default=32, help="held-out greedy windows (accuracy table, measured tree)")
    ap.add_argument("--seed", type=int, default=1613)
    ap.add_argument("--shortlist", type=int, default=1024,
                    help="the heads score only the N tokens the target picks most often (0 = the whole vocabulary)")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--export-only", action="store_true")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    os.makedirs(args.work, exist_ok=True)
    net, meta, tensors = load_target(args.model)
    n_ctx, bos = net.cfg.n_ctx, meta["tokenizer.ggml.bos_token_id"]
    train_s, held_s = corpus_streams(args, args.work)
    greedy = greedy_windows(args, args.work, n_ctx, bos, train_s, meta["tokenizer.ggml.tokens"])
    g_train, g_held = greedy[:-args.heldout_greedy], greedy[-args.heldout_greedy:]
    c_train, c_held = corpus_windows(train_s, n_ctx, bos), corpus_windows(held_s, n_ctx, bos)[:32]
    print(f"data: {len(c_train)} corpus + {len(g_train)} greedy training windows; held out {len(c_held)} + {len(g_held)}")

    heads = Heads(args.heads, net.cfg.n_embd)
    emb = net.token_embd.weight
    opt = torch.optim.AdamW(heads.parameters(), lr=args.lr, weight_decay=0.0)
    ckpt_path = os.path.join(args.work, "medusa.pt")
    feat_path = os.path.join(args.work, "medusa-features.pt")
    # Training windows in a fixed order, alternating greedy and corpus ones; their target features
    # are computed during the first --fill of the budget (cached in the work dir), then replayed.
    rng0 = np.random.default_rng(args.seed)
    c_pick = c_train[rng0.permutation(len(c_train))[:len(g_train) * 3]]
    order, g_next = [], 0
    for i in range(len(c_pick)):  # two greedy windows, then one corpus window, until the greedy ones run out
        take_greedy = g_next < len(g_train) and i % 3 != 2
        order.append(g_train[g_next] if take_greedy else c_pick[i])
        g_next += take_greedy
    step, spent, h, am = 0, 0.0, None, None
    if os.path.exists(feat_path) and (args.resume or args.export_only):
        h, am = torch.load(feat_path)
    if args.resume or args.export_only:
        ck = torch.load(ckpt_path)
        heads.load_state_dict(ck["heads"])
        opt.load_state_dict(ck["opt"])
        step, spent = ck["step"], ck["spent"]
        print(f"resumed at step {step} ({spent / 60:.1f} min spent, {0 if h is None else len(h)} windows cached)")
    budget = args.minutes * 60
    rng = np.random.default_rng(args.seed + step)
    t0, last_ckpt = time.time() - spent, time.time()

    def save():
        torch.save({"heads": heads.state_dict(), "opt": opt.state_dict(), "step": step, "spent": time.time() - t0}, ckpt_path)
        torch.save((h, am), feat_path)

    while not args.export_only and time.time() - t0 < budget:
        frac = (time.time() - t0) / budget
        done = 0 if h is None else len(h)
        if done < len(order) and (frac < args.fill or done < 8):
            nh, nam = features(net, np.stack(order[done:done + 4]))
            h, am = (nh, nam) if h is None else (torch.cat([h, nh]), torch.cat([am, nam]))
        for g in opt.param_groups:
            g["lr"] = args.lr * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * frac)))
        loss = head_loss(heads, emb, h, am, rng, args.positions)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        el = time.time() - t0
        print(f"\rstep {step} loss {loss.item():.3f} windows {len(h)} lr {opt.param_groups[0]['lr']:.2e} "
              f"{el / 60:.1f}/{args.minutes:.0f} min", end="", flush=True)
        if time.time() - last_ckpt > 120:
            save()
            last_ckpt = time.time()
    print()
    if not args.export_only:
        save()
    hc, amc = features(net, c_held)
    hg, amg = features(net, g_held)
    short = shortlist(am, net.cfg.n_vocab, args.shortlist)
    keep = None
    if short is not None:
        keep = torch.zeros(net.cfg.n_vocab, dtype=torch.bool)
        keep[short] = True
    acc_c, acc_g = accuracy(heads, emb, hc, amc, keep), accuracy(heads, emb, hg, amg, keep)
    report = {"steps": step, "heads": args.heads, "train_windows": 0 if h is None else len(h),
              "heldout_corpus_top1": acc_c[:, 0].round(4).tolist(), "heldout_corpus_top5": acc_c[:, 4].round(4).tolist(),
              "heldout_greedy_top1": acc_g[:, 0].round(4).tolist(), "heldout_greedy_top5": acc_g[:, 4].round(4).tolist()}
    if keep is not None:  # how much of the target's choices the shortlist holds
        report["shortlist"] = args.shortlist
        report["shortlist_coverage_heldout_greedy"] = round(keep[amg].float().mean().item(), 4)
        report["shortlist_coverage_heldout_corpus"] = round(keep[amc].float().mean().item(), 4)
    tree = joint_tree(heads, emb, hg, amg, keep)
    def on_chain(i):  # every node on the path is a rank-0 candidate
        return i < 0 or (tree[1][i] == 0 and on_chain(tree[0][i]))
    chain = [c for i, c in enumerate(tree[2]) if on_chain(i)]  # the top-1 chain, in depth order
    report["tree_positions"] = tree[3]
    report["tree_chance_first16"] = [round(c, 4) for c in tree[2][:16]]
    report["tree_expected_tokens"] = {n: round(1 + sum(tree[2][:n]), 3) for n in (1, 2, 3, 4, 5, 6, 8, 12, 16)}
    report["chain_joint_acceptance"] = [round(c, 4) for c in chain[:args.heads]]
    print(json.dumps(report, indent=1))
    with open(os.path.join(args.work, "medusa-report.json"), "w") as f:
        json.dump(report, f, indent=1)
    export(args, heads, meta, tensors, acc_g, tree, short)


if __name__ == "__main__":
    main()

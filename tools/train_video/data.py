"""Procedural clips for the wan-shapes model: one solid shape moving over a plain background.

Caption grammar (exactly): "a {colour} {shape} moving {direction} on a {background} background".
Directions are as seen on screen (up = towards row 0). Videos are [3, F, H, W] in [-1, 1].
"""
import random

import torch

COLOURS = {"red": (255, 0, 0), "green": (0, 128, 0), "blue": (0, 0, 255), "yellow": (255, 255, 0),
           "white": (255, 255, 255), "orange": (255, 165, 0), "purple": (128, 0, 128), "cyan": (0, 255, 255)}
SHAPES = ["circle", "square", "triangle"]
DIRECTIONS = ["left", "right", "up", "down"]
BACKGROUNDS = {"black": (0, 0, 0), "white": (255, 255, 255), "gray": (128, 128, 128), "brown": (165, 42, 42)}
HELDOUT_SEED = 19
HELDOUT_FRACTION = 0.2


def caption(c, s, d, b):
    return f"a {c} {s} moving {d} on a {b} background"


def all_combos():
    return [(c, s, d, b) for c in COLOURS for s in SHAPES for d in DIRECTIONS for b in BACKGROUNDS if c != b]


def split_combos():
    """(train, heldout): a seeded 20 % of the 372 combinations is held out, re-drawn until every
    pair of attribute values (colour/shape, colour/background, ...) still occurs in training."""
    combos = all_combos()
    n_hold = -(-len(combos) * 2 // 10)  # ceil(20 %)
    rng = random.Random(HELDOUT_SEED)
    while True:
        held = set(rng.sample(combos, n_hold))
        train = [c for c in combos if c not in held]
        pairs = lambda cs: {(i, j, x[i], x[j]) for x in cs for i in range(4) for j in range(i + 1, 4)}
        if pairs(train) == pairs(combos):
            return train, sorted(held, key=combos.index)


def render(combos, frames=17, size=64, gen=None, ss=2):
    """Renders one clip per combination -> [B, 3, frames, size, size] in [-1, 1].

    Shape extent 14..26 px; travel >= size/4 (16 px) along the direction, <= what keeps the shape
    fully inside the frame; the other coordinate is uniform within the frame. Motion is linear over
    the clip. Edges are anti-aliased with ss x ss supersampling."""
    g = gen if gen is not None else torch.Generator().manual_seed(0)
    B = len(combos)
    u = lambda: torch.rand(B, generator=g)
    ext = 14 + 12 * u()  # full extent in px
    half = ext / 2
    span = size - ext  # room for the centre: centre in [half, size - half]
    dist = 16 + (span - 16).clamp(min=0) * u()
    start = half + (span - dist) * u()  # along the motion axis
    perp = half + span * u()
    sgn = torch.tensor([1.0 if d in ("right", "down") else -1.0 for _, _, d, _ in combos])
    horiz = torch.tensor([d in ("left", "right") for _, _, d, _ in combos])
    start = torch.where(sgn > 0, start, start + dist)
    t = torch.linspace(0, 1, frames)
    along = start[:, None] + sgn[:, None] * dist[:, None] * t[None]  # [B, F]
    cx = torch.where(horiz[:, None], along, perp[:, None].expand(-1, frames))
    cy = torch.where(horiz[:, None], perp[:, None].expand(-1, frames), along)
    n = size * ss
    coords = (torch.arange(n, dtype=torch.float32) + 0.5) / ss
    yy, xx = coords.view(1, 1, n, 1), coords.view(1, 1, 1, n)
    dx = xx - cx[:, :, None, None]
    dy = yy - cy[:, :, None, None]
    h = half[:, None, None, None]
    masks = []
    for i, (_, s, _, _) in enumerate(combos):
        if s == "circle":
            m = dx[i] ** 2 + dy[i] ** 2 <= h[i] ** 2
        elif s == "square":
            m = (dx[i].abs() <= h[i]) & (dy[i].abs() <= h[i])
        else:  # isosceles triangle, apex up, base at the bottom; bbox fill 1/2
            v = (dy[i] + h[i]) / (2 * h[i])  # 0 at apex, 1 at base
            m = (v >= 0) & (v <= 1) & (dx[i].abs() <= v * h[i])
        masks.append(m.float())
    m = torch.stack(masks)  # [B, F, n, n]
    m = torch.nn.functional.avg_pool2d(m, ss) if ss > 1 else m
    fg = torch.tensor([COLOURS[c] for c, _, _, _ in combos], dtype=torch.float32) / 127.5 - 1
    bg = torch.tensor([BACKGROUNDS[b] for _, _, _, b in combos], dtype=torch.float32) / 127.5 - 1
    m = m[:, None]  # [B,1,F,H,W]
    return m * fg.view(B, 3, 1, 1, 1) + (1 - m) * bg.view(B, 3, 1, 1, 1)

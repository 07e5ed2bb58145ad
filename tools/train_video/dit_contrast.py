"""Caption-contrast term for the DiT (issue #19: the direction word barely moves the velocity).

Flow matching alone lets the DiT ignore a word whose information is a small part of the loss: the
direction decides where the shape goes, but at high noise every direction's clip is a blob somewhere,
and at low noise x_t shows the motion already. This term makes the word matter: for some samples of a
batch it predicts again on the same x_t and t with the caption's direction (or shape) word swapped
for another value whose combination is also a *training* combination (held-out captions never enter
training, not even as negatives), and penalises, per sample,

    hinge = relu((1 + margin) * err_true - err_swap) / err_true.detach()

where err_* is the (object-weighted) squared error of that prediction against the true target
noise - x0. Zero once the true caption's prediction is `margin` (relative) better than the swapped
one's; the division makes it scale-free across sigmas. Only samples with sigma >= `sigma_min` are
used: at low noise x_t already shows the motion and the word carries (almost) nothing.
"""
import torch

import data

ATTR_INDEX = {"colour": 0, "shape": 1, "direction": 2, "background": 3}
ATTR_VALUES = {"colour": list(data.COLOURS), "shape": data.SHAPES, "direction": data.DIRECTIONS,
               "background": list(data.BACKGROUNDS)}


def swap_options(train, attrs):
    """{(combo, attr): [combos of `train` that differ from combo only in attr]} for every training combo."""
    train_set = set(train)
    out = {}
    for c in train:
        for a in attrs:
            i = ATTR_INDEX[a]
            alts = [c[:i] + (v,) + c[i + 1:] for v in ATTR_VALUES[a] if v != c[i]]
            out[(c, a)] = [x for x in alts if x in train_set]
    return out


def pick_swaps(combos, kept, sig, options, attrs, frac, sigma_min, gen):
    """(rows, swapped combos): up to round(frac * B) rows whose caption was kept (not dropped), whose
    sigma >= sigma_min and which have a training combination to swap to; the attribute is drawn
    uniformly from `attrs`, the new value uniformly among the training alternatives."""
    want = int(round(frac * len(combos)))
    rows, swapped = [], []
    for i, c in enumerate(combos):
        if len(rows) >= want:
            break
        if not kept[i] or float(sig[i]) < sigma_min:
            continue
        a = attrs[int(torch.randint(len(attrs), (1,), generator=gen))]
        alts = options.get((c, a), [])
        if not alts:
            continue
        rows.append(i)
        swapped.append(alts[int(torch.randint(len(alts), (1,), generator=gen))])
    return rows, swapped


def per_sample_error(v, target, w):
    """[B] object-weighted mean squared error; v, target [B,16,T,h,w], w [B,1,T,h,w] or None."""
    d2 = (v - target) ** 2
    if w is None:
        return d2.flatten(1).mean(1)
    return (w * d2).flatten(1).mean(1) / w.expand_as(d2).flatten(1).mean(1)


def hinge(err_true, err_swap, margin):
    """[n] relu((1 + margin) err_true - err_swap) / err_true (detached denominator)."""
    return torch.relu((1 + margin) * err_true - err_swap) / err_true.detach().clamp(min=1e-6)

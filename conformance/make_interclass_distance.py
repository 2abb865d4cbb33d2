#!/usr/bin/python3
"""Reference vectors for interclass_distance (cross-entropy weighted by the distance between the
predicted and the true class, for ordinal labels), in the case format of conformance/FORMAT.md.

Run:  /usr/bin/python3 conformance/make_interclass_distance.py
Needs Debian's python3-torch (PyTorch 1.13) and numpy; nothing else.

Semantics, for logits x [N, C] and targets y [N] in [0, C), a_i = torch.argmax(x_i) (the first
index of the largest logit):
    w_i = (|a_i - y_i| + 1) / M,  M = sum_{k < C} (|y_i - k| + 1)
    loss_i = w_i * -log softmax(x_i)[y_i]
with w_i held constant in the gradient (the argmax has none): d loss_i / d x_ij = w_i (p_ij - [j == y_i]).
sum adds the rows; mean divides that by N (0 for no rows). Expected values are the formula written
out in numpy in float64 (a plain argmax loop, M as a sum, log1p for a row whose target leads), and
each case is cross-checked against autograd on F.cross_entropy(reduction="none") times the detached
torch.argmax weights, to 1e-12 of each tensor's norm (1e-6 for the confident rows' tiny losses,
which PyTorch's log-softmax gives to 1e-16 absolute only).
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

from case_io import (RTOL, case_rng, check_common, check_reduction, close, draw_grad_output, fail_loss_grad, int_tensor,
                     make_case, num_in, num_out, on_grid, tensor, unbatched, write_cases)
from make_zero_one import plain_argmax
from softmax_rows import neginf_some, neginf_target, scaled_to_1e4
from torch_ref import grad_of, leaf, reduce_rows

LOSS = "interclass_distance"


def make_cases():
    cases = []

    def case(name, n, c, reduction, scale=2.0, quantize=16, edit=None, unbatched=False):
        cases.append(dict(name=name, n=n, c=c, reduction=reduction, scale=scale, quantize=quantize, edit=edit,
                          unbatched=unbatched))

    for r in ("none", "sum", "mean"):
        case(f"icd_{r}_37x10", 37, 10, r)
        case(f"icd_{r}_n0", 0, 5, r)
        case(f"icd_{r}_ties_7x6", 7, 6, r, quantize=1, edit="ties")
    case("icd_mean_unquantized_24x100", 24, 100, "mean", quantize=None)
    case("icd_none_unquantized_33x7", 33, 7, "none", quantize=None)
    case("icd_sum_one_class_8x1", 8, 1, "sum")
    case("icd_mean_two_classes_50x2", 50, 2, "mean")
    case("icd_sum_extreme_targets_40x9", 40, 9, "sum", edit="extreme_targets")
    # the warp path's last width, the 256-thread block path (and its scalar tail), the 512-thread
    # one; ties for the largest logit far apart in the row, across the threads of the group
    case("icd_mean_3x1024", 3, 1024, "mean", quantize=1, edit="wide_ties")
    case("icd_none_3x1025", 3, 1025, "none", quantize=1, edit="wide_ties")
    case("icd_sum_2x2051", 2, 2051, "sum", quantize=1, edit="wide_ties")
    case("icd_mean_1x16400", 1, 16400, "mean", quantize=1, edit="wide_ties")
    case("icd_sum_1x16387", 1, 16387, "sum", quantize=1, edit="wide_ties")  # 512 threads, scalar loads
    # confident rows (p_y near 1): the small loss keeps its digits
    case("icd_none_confident_6x5", 6, 5, "none", edit="confident")
    # -inf logits (masked classes); a -inf target logit (an infinite loss); logits near +-1e4
    case("icd_mean_neginf_12x8", 12, 8, "mean", edit="neginf")
    case("icd_none_neginf_target_6x5", 6, 5, "none", edit="neginf_target")
    case("icd_sum_1e4_16x12", 16, 12, "sum", quantize=1, edit="1e4")
    # a NaN logit (a NaN row), a row of -inf (NaN: no class has any probability), +inf logits
    case("icd_none_non_finite_5x4", 5, 4, "none", edit="non_finite")
    # PyTorch's unbatched form: logits [C], a target []
    case("icd_none_unbatched_12", 1, 12, "none", unbatched=True)
    case("icd_mean_unbatched_5", 1, 5, "mean", unbatched=True)
    return cases


def edit_ties(x, y):
    """Small-integer logits: rows where the largest logit ties between classes on both sides of
    the target, at the target and after it, and a constant row (argmax 0)."""
    x[0] = [0, 3, 1, 3, 0, 0]
    y[0] = 2
    x[1] = [1, 1, 2, 0, 2, 1]
    y[1] = 2
    x[2] = [2, 2, 2, 2, 2, 2]
    y[2] = 5
    x[3] = [0, 0, 0, 0, 1, 1]
    y[3] = 0
    return x, y


def edit_extreme_targets(x, y):
    """Targets at the ends of the label scale only (the largest distances)."""
    y[:] = np.where(np.arange(len(y)) % 2 == 0, 0, x.shape[1] - 1)
    return x, y


def edit_wide_ties(x, y):
    """Integer logits in [-2, 2] and two places tied for the largest (5) far apart: the first, at
    a place each row's group reaches late, is the argmax; the target sits at a different distance
    from each, so that the other choice gives another weight."""
    n, c = x.shape
    x = np.clip(x, -2, 2)
    for i in range(n):
        first = c - 1 - 37 * (i + 1) if i % 2 == 0 else 5 + 3 * i
        second = c - 1 - i
        x[i, first] = x[i, second] = 5.0
        y[i] = second - 2 if i % 2 == 0 else c // 2  # far from the one, near the other
    return x, y


def edit_confident(x, y):
    """The target leads by 20 to 30: p_y within 1e-9 of 1."""
    for i in range(len(y)):
        x[i, y[i]] = x[i].max() + 20 + 2 * i
    return x, y


def edit_1e4(x, y):
    return scaled_to_1e4(x, y), y


def edit_non_finite(x, y):
    """Row 0: a NaN logit; 1: all -inf; 2: +inf at a non-target; 3: +inf at the target; 4: finite."""
    x[0, 2] = np.nan
    x[1, :] = -np.inf
    x[2, (y[2] + 1) % x.shape[1]] = np.inf
    x[3, y[3]] = np.inf
    return x, y


EDITS = {"ties": edit_ties, "extreme_targets": edit_extreme_targets, "wide_ties": edit_wide_ties,
         "confident": edit_confident, "neginf": neginf_some, "neginf_target": neginf_target, "1e4": edit_1e4,
         "non_finite": edit_non_finite}


def build(spec):
    rng = case_rng(spec)
    n, c = spec["n"], spec["c"]
    x = rng.standard_normal((n, c)) * spec["scale"]
    if spec["quantize"]:
        x = on_grid(x, spec["quantize"])
    x = x.astype(np.float32)
    y = rng.integers(0, c, size=n)
    if spec["edit"]:
        x, y = EDITS[spec["edit"]](x, y)
        x = np.asarray(x, dtype=np.float32)
    g = draw_grad_output(rng, spec["reduction"], (n,), quantize=True)
    return x, np.asarray(y, dtype=np.int64), g


def distance_weights(x, y):
    """w_i, from torch.argmax."""
    n, c = x.shape
    if n == 0:
        return torch.zeros(0, dtype=torch.float64)
    a = torch.argmax(x, dim=1)
    k = torch.arange(c, dtype=torch.float64)
    m = ((y.double()[:, None] - k[None, :]).abs() + 1).sum(dim=1)
    return ((a - y).abs().double() + 1) / m


def torch_reference(x, y, reduction, g):
    xt = leaf(x)
    yt = torch.tensor(y, dtype=torch.int64)
    w = distance_weights(xt.detach(), yt)
    ce = F.cross_entropy(xt, yt, reduction="none") if len(y) else xt.sum(dim=1)
    loss, upstream = reduce_rows(w * ce, reduction, len(y), g)
    if len(y):
        loss.backward(upstream)
    return loss.detach().numpy(), grad_of(xt).numpy()


def explicit(x, y, reduction, g):
    """The formula written out in numpy, float64."""
    n, c = x.shape
    xd = x.astype(np.float64)
    rows = np.zeros(n)
    grad = np.zeros((n, c))
    up = np.ones(n) if reduction != "none" else g.astype(np.float64)
    if reduction == "mean" and n:
        up = up / n
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        for i in range(n):
            yi = int(y[i])
            w = (abs(plain_argmax(list(xd[i])) - yi) + 1) / sum(abs(yi - k) + 1 for k in range(c))
            mx = np.max(xd[i])
            lse = mx + np.log(np.sum(np.exp(xd[i] - mx)))
            p = np.exp(xd[i] - lse)
            others = np.delete(xd[i], yi)
            if np.isfinite(xd[i, yi]) and xd[i, yi] == mx:  # log1p keeps a confident row's digits
                rows[i] = w * np.log1p(np.sum(np.exp(others - xd[i, yi])))
            else:
                rows[i] = w * (lse - xd[i, yi])
            d = p.copy()
            d[yi] = -(np.sum(p) - p[yi])  # p_y - 1 as minus the others: exact where p_y rounds to 1
            grad[i] = up[i] * w * d
    if reduction == "none":
        loss = rows
    else:
        loss = np.float64(rows.sum() / n if reduction == "mean" and n else rows.sum())
    return loss, grad


def run_case(spec):
    x, y, g = build(spec)
    r = spec["reduction"]
    tloss, tgrad = torch_reference(x, y, r, g)
    loss, grad = explicit(x, y, r, g)
    # PyTorch's float64 log-softmax gives a confident row's loss (1e-10 .. 1e-17, from log(1 + s))
    # and its target's gradient (p_y - 1) to about 1e-16 absolute only: there the explicit log1p
    # and minus-the-others are the reference, and PyTorch is held to 1e-6 of them
    rtol = 1e-6 if spec["edit"] == "confident" else RTOL
    if not close(loss, tloss, rtol) or not close(grad, tgrad, rtol):
        fail_loss_grad(spec["name"], loss, tloss, grad, tgrad)
    inputs = {"logits": tensor(x, num_in), "targets": int_tensor(y)}
    expected = {"loss": tensor(loss, num_out), "grad_logits": tensor(grad, num_out)}
    case = make_case(LOSS, spec["name"], {"reduction": r}, inputs, expected, g)
    if spec["unbatched"]:
        case = unbatched(case, {"logits", "targets", "grad_logits"})
    note = "a mean of no rows is 0 (PyTorch's own mean of nothing is NaN)" if r == "mean" and spec["n"] == 0 else None
    return case, note


def check_file(path):
    d = check_common(path, LOSS, {"reduction"})
    shape = d["inputs"]["logits"]["shape"]
    assert len(shape) in (1, 2)
    rows = shape[:-1]
    assert d["inputs"]["targets"]["shape"] == rows and set(d["expected"]) == {"loss", "grad_logits"}
    assert all(0 <= t < shape[-1] for t in d["inputs"]["targets"]["data"])
    assert d["expected"]["grad_logits"]["shape"] == shape
    check_reduction(d, rows)


if __name__ == "__main__":
    write_cases(os.path.join(os.path.dirname(os.path.abspath(__file__)), LOSS), make_cases(), run_case, check_file)

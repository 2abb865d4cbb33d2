#!/usr/bin/python3
"""Reference vectors for logistic (binary cross-entropy with logits), in the case format of
conformance/FORMAT.md.

Run:  /usr/bin/python3 conformance/make_logistic.py
Needs Debian's python3-torch (PyTorch 1.13) and numpy; nothing else.

Semantics: F.binary_cross_entropy_with_logits(x, t, pos_weight=p) with a scalar pos_weight p (the
format's float; null: none), lw = (p - 1) t + 1:
    loss = (1 - t) x + lw (log1p(exp(-|x|)) + max(-x, 0)),  d loss / d x = lw sigmoid(x) - p t
Targets are any real (PyTorch does not restrict them); most cases draw soft labels in [0, 1].

Expected values come from those formulas in float64 written without cancellation (as culoss
computes them), e = exp(-|x|), s = e / (1 + e), u = 1 - t:
    loss = lw log1p(e) + (x >= 0 ? u x : -p t x),  grad = x >= 0 ? u - lw s : lw s - p t
(autograd is not used: torch.abs has gradient 0 at x = 0, where this form's branches meet).
Each case is cross-checked against PyTorch's own function in float64, loss and gradient (its
autograd), to 1e-12 relative to each tensor's norm; PyTorch forms 1 - sigmoid(x) and log(1 +
tiny) by subtraction, which loses digits only on elements far below the tensor's norm. The mean
of no elements (N = 0): culoss gives 0, PyTorch NaN.
"""
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

from case_io import (case_rng, check_common, check_reduction, close, draw_grad_output, fail_loss_grad, make_case,
                     num_in, num_out, on_grid, tensor, write_cases)
from torch_ref import grad_of, leaf

torch.set_default_dtype(torch.float64)
LOSS = "logistic"


def make_cases():
    cases = []

    def case(name, shape, reduction, pos_weight=None, scale=2.5, soft=0.5, quantize=64, x=None, t=None):
        cases.append(dict(name=name, shape=list(shape), reduction=reduction, pos_weight=pos_weight, scale=scale,
                          soft=soft, quantize=quantize, x=x, t=t))

    for r in ("none", "sum", "mean"):
        case(f"logistic_{r}_n37", [37], r)
        case(f"logistic_{r}_n0", [0], r)
        case(f"logistic_{r}_pos_weight3_n40", [40], r, pos_weight=3.0)
    case("logistic_mean_pos_weight_quarter_8x5", [8, 5], "mean", pos_weight=0.25)
    case("logistic_sum_pos_weight1_n20", [20], "sum", pos_weight=1.0)
    case("logistic_mean_hard_labels_16x3", [16, 3], "mean", soft=0.0)
    case("logistic_none_soft_labels_shape_2x3x4", [2, 3, 4], "none", soft=1.0)
    case("logistic_mean_n1", [1], "mean")
    case("logistic_sum_n4099", [4099], "sum", quantize=16)
    case("logistic_mean_n2048_unquantized", [2048], "mean", quantize=None)
    # saturated logits, every sign x target: the loss and gradient of a confident logit are tiny
    sat_x, sat_t = [], []
    for mag in (17.0, 30.0, 100.0, 1e4):
        for sign in (1.0, -1.0):
            for tv in (0.0, 1.0, 0.25):
                sat_x.append(sign * mag)
                sat_t.append(tv)
    case("logistic_none_saturated", [len(sat_x)], "none", x=sat_x, t=sat_t)
    case("logistic_sum_saturated_pos_weight2", [len(sat_x)], "sum", pos_weight=2.0, x=sat_x, t=sat_t)
    # zero and tiny logits, where the two branches meet
    case("logistic_none_zero_and_tiny_logits", [8], "none", pos_weight=1.5,
         x=[0.0, -0.0, 1e-30, -1e-30, 1e-3, -1e-3, 1e-7, -1e-7], t=[0.5, 0.25, 1.0, 0.0, 0.75, 0.0, 1.0, 1.0])
    # targets outside [0, 1], which PyTorch takes as they are
    case("logistic_none_targets_outside_0_1", [8], "none", pos_weight=2.0,
         x=[1.0, -1.0, 0.5, -2.5, 3.0, -0.25, 0.0, 4.0], t=[2.0, -1.0, 1.5, -0.5, 3.0, 1.25, -2.0, -0.75])
    case("logistic_mean_targets_outside_0_1", [6], "mean",
         x=[1.0, -1.0, 0.5, -2.5, 3.0, -0.25], t=[2.0, -1.0, 1.5, -0.5, 3.0, 1.25])
    return cases


def build(spec):
    rng = case_rng(spec)
    shape = tuple(spec["shape"])
    n = math.prod(shape)
    if spec["x"] is not None:
        x = np.asarray(spec["x"], dtype=np.float32)
    else:
        x = rng.standard_normal(n) * spec["scale"]
        if spec["quantize"]:
            x = on_grid(x, spec["quantize"])
        x = x.astype(np.float32)
    if spec["t"] is not None:
        t = np.asarray(spec["t"], dtype=np.float32)
    else:
        t = (rng.uniform(size=n) < 0.4).astype(np.float64)
        soft = rng.uniform(size=n) < spec["soft"]
        t = np.where(soft, np.round(rng.uniform(size=n) * 64) / 64, t).astype(np.float32)
    g = draw_grad_output(rng, spec["reduction"], n, quantize=True)
    return x, t, g


def stable(x, t, p):
    """Per-element loss and d loss / dx, float64, the forms without cancellation."""
    e = np.exp(-np.abs(x))
    s = e / (1 + e)
    u = 1 - t
    lw = (p - 1) * t + 1
    pos = x >= 0
    loss = lw * np.log1p(e) + np.where(pos, u * x, -p * t * x)
    grad = np.where(pos, u - lw * s, lw * s - p * t)
    return loss, grad


def reduced(loss, grad, reduction, g):
    n = loss.size
    if reduction == "none":
        return loss, grad * g
    if reduction == "sum":
        return np.array(loss.sum()), grad
    return np.array(loss.sum() / n if n else 0.0), grad / n if n else grad


def pytorch(x, t, p, reduction, g):
    xx = leaf(x)
    pw = None if p is None else torch.tensor([p])
    loss = F.binary_cross_entropy_with_logits(xx, torch.tensor(t), pos_weight=pw, reduction=reduction)
    loss.backward(torch.tensor(g) if reduction == "none" else torch.tensor(1.0))
    return loss.detach().numpy(), grad_of(xx).numpy()


def run_case(spec):
    x, t, g = build(spec)
    r, shape, p = spec["reduction"], spec["shape"], spec["pos_weight"]
    x64, t64 = x.astype(np.float64), t.astype(np.float64)
    g64 = None if g is None else g.astype(np.float64)
    loss, grad = reduced(*stable(x64, t64, 1.0 if p is None else p), r, g64)
    tl, tg = pytorch(x64, t64, p, r, g64)
    note = None
    if r == "mean" and x.size == 0:
        assert np.isnan(tl), tl
        note = "PyTorch's mean of no elements is NaN: culoss gives 0 (documented deviation)"
    elif not (close(loss, tl) and close(grad, tg)):
        fail_loss_grad(spec["name"], loss, tl, grad, tg)
    inputs = {"logits": tensor(x.reshape(shape), num_in), "targets": tensor(t.reshape(shape), num_in)}
    loss_out = loss.reshape(shape) if r == "none" else loss
    expected = {"loss": tensor(loss_out, num_out), "grad_logits": tensor(grad.reshape(shape), num_out)}
    return make_case(LOSS, spec["name"], {"reduction": r, "pos_weight": p}, inputs, expected,
                     None if g is None else g.reshape(shape)), note


def check_file(path):
    d = check_common(path, LOSS, {"reduction", "pos_weight"})
    shape = d["inputs"]["logits"]["shape"]
    assert d["inputs"]["targets"]["shape"] == shape and d["expected"]["grad_logits"]["shape"] == shape
    check_reduction(d, shape)


if __name__ == "__main__":
    write_cases(os.path.join(os.path.dirname(os.path.abspath(__file__)), LOSS), make_cases(), run_case, check_file)

#!/usr/bin/python3
"""Reference vectors for logistic (binary cross-entropy with logits), in the case format of
conformance/FORMAT.md.

Run:  /usr/bin/python3 conformance/make_logistic.py
Needs Debian's python3-torch (PyTorch 1.13) and numpy; nothing else.

Semantics: F.binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=p) with a scalar pos_weight
p (the format's float; null: none) or a per-class one (the input `pos_weight` [C] over the last
dimension, the float then null), an optional per-element weight w (the input `weight`, the logits'
shape), lw = (p - 1) t + 1:
    loss = w ((1 - t) x + lw (log1p(exp(-|x|)) + max(-x, 0))),  d loss / d x = w (lw sigmoid(x) - p t)
The mean divides by the element count whatever the weights.
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

    def case(name, shape, reduction, pos_weight=None, scale=2.5, soft=0.5, quantize=64, x=None, t=None,
             weight=False, pos_weights=None):
        cases.append(dict(name=name, shape=list(shape), reduction=reduction, pos_weight=pos_weight, scale=scale,
                          soft=soft, quantize=quantize, x=x, t=t, weight=weight, pos_weights=pos_weights))

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
    # PyTorch's tensor weights: a per-element weight, a pos_weight per class of the last dimension
    for r in ("none", "sum", "mean"):
        case(f"logistic_{r}_weight_7x5", [7, 5], r, weight=True)
        case(f"logistic_{r}_pos_weights_9x4", [9, 4], r, pos_weights=[3.0, 0.5, 1.0, 2.25])
        case(f"logistic_{r}_weight_pos_weights_3x2x6", [3, 2, 6], r, weight=True,
             pos_weights=[0.25, 4.0, 1.0, 1.5, 0.0, 2.0])
    case("logistic_mean_weight_scalar_pos_weight3_n50", [50], "mean", pos_weight=3.0, weight=True)
    case("logistic_sum_pos_weights_one_class_12x1", [12, 1], "sum", pos_weights=[2.5])
    case("logistic_mean_pos_weights_n6", [6], "mean", pos_weights=[0.5, 1.0, 1.5, 2.0, 2.5, 3.0])
    case("logistic_none_weight_pos_weights_0x3", [0, 3], "none", weight=True, pos_weights=[1.0, 2.0, 3.0])
    case("logistic_mean_weight_pos_weights_0x3", [0, 3], "mean", weight=True, pos_weights=[1.0, 2.0, 3.0])
    case("logistic_sum_weight_pos_weights_4500x3", [1500, 3], "sum", weight=True, pos_weights=[0.75, 1.25, 5.0],
         quantize=16)
    case("logistic_none_weight_pos_weights_saturated", [len(sat_x) // 3, 3], "none", weight=True,
         pos_weights=[2.0, 0.5, 1.0], x=sat_x, t=sat_t)
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
    # weights on a 1/16 grid, some 0 and some negative (PyTorch restricts neither)
    w = np.round(rng.uniform(-0.5, 3.0, size=n) * 16).astype(np.float32) / 16 if spec["weight"] else None
    return x, t, g, w


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


def pytorch(x, t, p, w, reduction, g):
    xx = leaf(x)
    pw = None if p is None else torch.tensor(np.atleast_1d(p))
    ww = None if w is None else torch.tensor(w)
    loss = F.binary_cross_entropy_with_logits(xx, torch.tensor(t), weight=ww, pos_weight=pw, reduction=reduction)
    loss.backward(torch.tensor(g) if reduction == "none" else torch.tensor(1.0))
    return loss.detach().numpy(), grad_of(xx).numpy()


def run_case(spec):
    x, t, g, w = build(spec)
    r, shape, p, pws = spec["reduction"], spec["shape"], spec["pos_weight"], spec["pos_weights"]
    shape_t = tuple(shape)
    x64, t64 = x.astype(np.float64).reshape(shape_t), t.astype(np.float64).reshape(shape_t)
    w64 = None if w is None else w.astype(np.float64).reshape(shape_t)
    g64 = None if g is None else g.astype(np.float64).reshape(shape_t)
    p_torch = np.asarray(pws, dtype=np.float64) if pws is not None else p
    per_element, grad = stable(x64, t64, p_torch if p_torch is not None else 1.0)  # broadcast over the last axis
    if w64 is not None:
        per_element, grad = per_element * w64, grad * w64
    loss, grad = reduced(per_element.reshape(-1), grad.reshape(-1), r, None if g64 is None else g64.reshape(-1))
    tl, tg = pytorch(x64, t64, p_torch, w64, r, g64)
    tg = tg.reshape(-1)
    note = None
    if r == "mean" and x.size == 0:
        assert np.isnan(tl), tl
        note = "PyTorch's mean of no elements is NaN: culoss gives 0 (documented deviation)"
    elif not (close(loss, tl) and close(grad, tg)):
        fail_loss_grad(spec["name"], loss, tl, grad, tg)
    inputs = {"logits": tensor(x.reshape(shape_t), num_in), "targets": tensor(t.reshape(shape_t), num_in)}
    if w is not None:
        inputs["weight"] = tensor(w.reshape(shape_t), num_in)
    if pws is not None:
        inputs["pos_weight"] = tensor(np.asarray(pws, dtype=np.float32), num_in)
    loss_out = loss.reshape(shape_t) if r == "none" else loss
    expected = {"loss": tensor(loss_out, num_out), "grad_logits": tensor(grad.reshape(shape_t), num_out)}
    return make_case(LOSS, spec["name"], {"reduction": r, "pos_weight": None if pws is not None else p}, inputs,
                     expected, None if g is None else g.reshape(shape_t)), note


def check_file(path):
    d = check_common(path, LOSS, {"reduction", "pos_weight"})
    shape = d["inputs"]["logits"]["shape"]
    assert d["inputs"]["targets"]["shape"] == shape and d["expected"]["grad_logits"]["shape"] == shape
    if "weight" in d["inputs"]:
        assert d["inputs"]["weight"]["shape"] == shape
    if "pos_weight" in d["inputs"]:
        assert d["params"]["pos_weight"] is None
        assert d["inputs"]["pos_weight"]["shape"] == [shape[-1] if shape else 1]
    check_reduction(d, shape)


if __name__ == "__main__":
    write_cases(os.path.join(os.path.dirname(os.path.abspath(__file__)), LOSS), make_cases(), run_case, check_file)

#!/usr/bin/python3
"""Reference vectors for l1, in the case format of conformance/FORMAT.md.

Run:  /usr/bin/python3 conformance/make_l1.py
Needs Debian's python3-torch (PyTorch 1.13) and numpy; nothing else.

Semantics, with d = input - target: loss = |d|, gradient sign(d) (0 at d = 0, as torch.sign),
inputs of any shape (the same for both). Expected values come from autograd on that formula in
float64, and each case is cross-checked against F.l1_loss (float64) to 1e-12, except the mean of
no elements (N = 0): culoss gives 0, PyTorch NaN.
"""
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

from case_io import (case_rng, check_common, check_reduction, close, draw_grad_output, fail_loss_grad, make_case,
                     num_in, num_out, on_grid, tensor, write_cases)
from torch_ref import grad_of, leaf, reduce_rows

torch.set_default_dtype(torch.float64)


def make_cases():
    cases = []

    def case(name, shape, reduction, quantize=64, scale=2.0, dscale=1.5, equal=0.0):
        cases.append(dict(name=name, shape=list(shape), reduction=reduction, quantize=quantize, scale=scale,
                          dscale=dscale, equal=equal))

    for r in ("none", "sum", "mean"):
        case(f"l1_{r}_n37", [37], r)
        case(f"l1_{r}_n0", [0], r)
        case(f"l1_{r}_some_equal_n24", [24], r, equal=0.3)  # d = 0: loss 0, gradient 0
    case("l1_mean_n1", [1], "mean")
    case("l1_sum_n4099", [4099], "sum", quantize=16)
    case("l1_mean_n2048_unquantized", [2048], "mean", quantize=None)
    case("l1_none_large_differences", [16], "none", scale=1e4, dscale=1e3)
    case("l1_none_shape_4x5", [4, 5], "none")
    case("l1_mean_shape_2x3x4", [2, 3, 4], "mean")
    case("l1_sum_shape_3x1x2", [3, 1, 2], "sum")
    return cases


def build(spec):
    rng = case_rng(spec)
    n = math.prod(spec["shape"])
    x = rng.standard_normal(n) * spec["scale"]
    d = rng.standard_normal(n) * spec["dscale"]
    if spec["quantize"]:
        x, d = on_grid(x, spec["quantize"]), on_grid(d, spec["quantize"])
    d = np.where(rng.uniform(size=n) < spec["equal"], 0.0, d)
    x = x.astype(np.float32)
    t = (x.astype(np.float64) - d).astype(np.float32)
    g = draw_grad_output(rng, spec["reduction"], n, quantize=bool(spec["quantize"]))
    return x, t, g


def reference(x, t, reduction, grad_output):
    xx = leaf(x)
    rows = (xx - torch.tensor(t)).abs()
    loss, upstream = reduce_rows(rows, reduction, rows.numel(), grad_output)
    loss.backward(upstream)
    return loss.detach().numpy(), grad_of(xx).numpy()


def pytorch(x, t, reduction, grad_output):
    xx = leaf(x)
    loss = F.l1_loss(xx, torch.tensor(t), reduction=reduction)
    loss.backward(torch.tensor(grad_output) if reduction == "none" else torch.tensor(1.0))
    return loss.detach().numpy(), grad_of(xx).numpy()


def run_case(spec):
    x, t, g = build(spec)
    r, shape = spec["reduction"], spec["shape"]
    args = (x.astype(np.float64), t.astype(np.float64), r, None if g is None else g.astype(np.float64))
    loss, grad = reference(*args)
    tl, tg = pytorch(*args)
    note = None
    if r == "mean" and x.size == 0:
        assert np.isnan(tl), tl
        note = "PyTorch's mean of no elements is NaN: culoss gives 0 (documented deviation)"
    elif not (close(loss, tl) and close(grad, tg)):
        fail_loss_grad(spec["name"], loss, tl, grad, tg)
    inputs = {"input": tensor(x.reshape(shape), num_in), "target": tensor(t.reshape(shape), num_in)}
    loss_out = loss.reshape(shape) if r == "none" else loss
    expected = {"loss": tensor(loss_out, num_out), "grad_input": tensor(grad.reshape(shape), num_out)}
    return make_case("l1", spec["name"], {"reduction": r}, inputs, expected,
                     None if g is None else g.reshape(shape)), note


def check_file(path):
    d = check_common(path, "l1", {"reduction"})
    shape = d["inputs"]["input"]["shape"]
    assert d["inputs"]["target"]["shape"] == shape and d["expected"]["grad_input"]["shape"] == shape
    check_reduction(d, shape)


if __name__ == "__main__":
    write_cases(os.path.join(os.path.dirname(os.path.abspath(__file__)), "l1"), make_cases(), run_case, check_file)

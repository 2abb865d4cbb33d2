"""The shared part of make_mse.py and make_l1.py: losses of d = input - target, inputs of any shape
(the same for both). Expected values come from autograd on the loss's float64 formula of d; each
case is cross-checked against PyTorch's own function (float64) to 1e-12, except the mean of no
elements (N = 0): culoss gives 0, PyTorch NaN."""
import math

import numpy as np
import torch

from case_io import (case_rng, check_common, check_reduction, close, draw_grad_output, fail_loss_grad, make_case,
                     num_in, num_out, on_grid, tensor)
from torch_ref import grad_of, leaf, reduce_rows


def spec(name, shape, reduction, quantize=64, scale=2.0, dscale=1.5, equal=0.0):
    """A case: x ~ N(0, scale), d ~ N(0, dscale) (on a grid of 1/quantize), a share `equal` of d set to 0."""
    return dict(name=name, shape=list(shape), reduction=reduction, quantize=quantize, scale=scale, dscale=dscale,
                equal=equal)


def build(s):
    rng = case_rng(s)
    n = math.prod(s["shape"])
    x = rng.standard_normal(n) * s["scale"]
    d = rng.standard_normal(n) * s["dscale"]
    if s["quantize"]:
        x, d = on_grid(x, s["quantize"]), on_grid(d, s["quantize"])
    if s["equal"]:
        d = np.where(rng.uniform(size=n) < s["equal"], 0.0, d)
    x = x.astype(np.float32)
    t = (x.astype(np.float64) - d).astype(np.float32)
    g = draw_grad_output(rng, s["reduction"], n, quantize=bool(s["quantize"]))
    return x, t, g


def run(loss_name, s, of_d, torch_loss):
    """One case of loss_name: of_d(d) is the per-element loss in torch ops, torch_loss PyTorch's function."""
    x, t, g = build(s)
    r, shape = s["reduction"], s["shape"]
    x64, t64 = x.astype(np.float64), t.astype(np.float64)
    g64 = None if g is None else g.astype(np.float64)
    xx = leaf(x64)
    rows = of_d(xx - torch.tensor(t64))
    loss, upstream = reduce_rows(rows, r, rows.numel(), g64)
    loss.backward(upstream)
    loss, grad = loss.detach().numpy(), grad_of(xx).numpy()
    xt = leaf(x64)
    tl = torch_loss(xt, torch.tensor(t64), reduction=r)
    tl.backward(torch.tensor(g64) if r == "none" else torch.tensor(1.0))
    tl, tg = tl.detach().numpy(), grad_of(xt).numpy()
    note = None
    if r == "mean" and x.size == 0:
        assert np.isnan(tl), tl
        note = "PyTorch's mean of no elements is NaN: culoss gives 0 (documented deviation)"
    elif not (close(loss, tl) and close(grad, tg)):
        fail_loss_grad(s["name"], loss, tl, grad, tg)
    inputs = {"input": tensor(x.reshape(shape), num_in), "target": tensor(t.reshape(shape), num_in)}
    loss_out = loss.reshape(shape) if r == "none" else loss
    expected = {"loss": tensor(loss_out, num_out), "grad_input": tensor(grad.reshape(shape), num_out)}
    return make_case(loss_name, s["name"], {"reduction": r}, inputs, expected,
                     None if g is None else g.reshape(shape)), note


def check(path, loss_name):
    d = check_common(path, loss_name, {"reduction"})
    shape = d["inputs"]["input"]["shape"]
    assert d["inputs"]["target"]["shape"] == shape and d["expected"]["grad_input"]["shape"] == shape
    check_reduction(d, shape)

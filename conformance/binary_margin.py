"""The shared part of make_exponential.py and make_hinge.py: losses of scores s [N] and targets y
in {-1, 1}, whose expected values come from autograd in float64 on the loss's formula (PyTorch
has no function of its own for either)."""
import math

import numpy as np
import torch

from case_io import (case_rng, check_common, check_reduction, draw_grad_output, make_case, num_in, num_out, on_grid,
                     tensor)
from torch_ref import grad_of, leaf, reduce_rows


def build(spec):
    """Scores on a grid of 1/64 (spec["scores"] if given), targets +-1 (spec["targets"] if given)."""
    rng = case_rng(spec)
    n = math.prod(spec["shape"])
    if spec.get("scores") is not None:
        s = np.asarray(spec["scores"], dtype=np.float64)
    else:
        s = rng.standard_normal(n) * spec.get("scale", 1.5)
        if spec.get("quantize", 64):
            s = on_grid(s, spec.get("quantize", 64))
    if spec.get("targets") is not None:
        y = np.asarray(spec["targets"], dtype=np.float64)
    else:
        y = np.where(rng.uniform(size=n) < 0.5, -1.0, 1.0)
    g = draw_grad_output(rng, spec["reduction"], n, quantize=True)
    return s.astype(np.float32), y.astype(np.float32), g


def run(loss_name, spec, per_element, params):
    """A case of loss_name: per_element(s, y) is the float64 per-element loss in torch ops."""
    s, y, g = build(spec)
    r, shape = spec["reduction"], spec["shape"]
    ss = leaf(s.astype(np.float64))
    rows = per_element(ss, torch.tensor(y.astype(np.float64)))
    loss, upstream = reduce_rows(rows, r, rows.numel(), None if g is None else g.astype(np.float64))
    loss.backward(upstream)
    loss, grad = loss.detach().numpy(), grad_of(ss).numpy()
    assert np.isfinite(loss).all() and np.isfinite(grad).all(), spec["name"]
    inputs = {"scores": tensor(s.reshape(shape), num_in), "targets": tensor(y.reshape(shape), num_in)}
    loss_out = loss.reshape(shape) if r == "none" else loss
    expected = {"loss": tensor(loss_out, num_out), "grad_scores": tensor(grad.reshape(shape), num_out)}
    note = "PyTorch's mean of no elements is NaN: culoss gives 0 (documented deviation)" \
        if r == "mean" and s.size == 0 else None
    return make_case(loss_name, spec["name"], dict(params, reduction=r), inputs, expected,
                     None if g is None else g.reshape(shape)), note


def check(path, loss_name, params):
    d = check_common(path, loss_name, params)
    shape = d["inputs"]["scores"]["shape"]
    assert d["inputs"]["targets"]["shape"] == shape and d["expected"]["grad_scores"]["shape"] == shape
    assert all(v in (-1.0, 1.0) for v in d["inputs"]["targets"]["data"])
    check_reduction(d, shape)

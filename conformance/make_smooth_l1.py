#!/usr/bin/python3
"""Reference vectors for smooth_l1, in the case format of conformance/FORMAT.md.
make_huber.py reuses this file for huber.

Run:  /usr/bin/python3 conformance/make_smooth_l1.py
Needs Debian's python3-torch (PyTorch 1.13) and numpy; nothing else.

Semantics, with d = input - target, z = |d|:
    smooth_l1: z < beta  ? 0.5 z^2 / beta : z - 0.5 beta        (beta = 0: z, the L1 loss)
    huber:     z < delta ? 0.5 z^2        : delta (z - 0.5 delta)
and PyTorch's gradient at the kinks: |d| == beta takes the linear branch
(d <= -beta gives -1, d >= beta gives 1; Huber: -delta, delta), and beta = 0
is the L1 loss with gradient sign(d), sign(0) = 0.

Expected values come from autograd on those formulas in float64, and each case
is cross-checked against F.smooth_l1_loss / F.huber_loss (float64) to 1e-12,
except where culoss deviates on purpose:
  * smooth_l1 with beta = 0 at d == 0: PyTorch 1.13's kernel gives the gradient
    -1 there (its test is d <= -beta); PyTorch 2.1 and later compute beta = 0 as
    l1_loss, whose gradient there is 0, as culoss does (pytorch/pytorch#96813).
    A mismatch is accepted only at those elements and only if it is exactly -1
    times the upstream gradient;
  * mean of no elements (N = 0): culoss gives 0, PyTorch NaN.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

from case_io import (case_rng, check_common, check_reduction, close, draw_grad_output, fail_loss_grad, make_case,
                     num_in, num_out, on_grid, tensor, write_cases)
from torch_ref import grad_of, leaf, upstream_of

torch.set_default_dtype(torch.float64)

SMOOTH_L1 = dict(loss="smooth_l1", option="beta", prefix="sl1", options=(1.0, 0.0, 0.5, 2.5))
HUBER = dict(loss="huber", option="delta", prefix="hub", options=(1.0, 0.5, 2.5))


def formula(cfg, d, option):
    """The loss of each difference d (a tensor that requires grad), float64."""
    z = torch.abs(d)
    if cfg["loss"] == "huber":
        return torch.where(z < option, 0.5 * z * z, option * (z - 0.5 * option))
    if option == 0:
        return z  # the L1 loss; |d|'s gradient at 0 is 0
    return torch.where(z < option, 0.5 * z * z / option, z - 0.5 * option)


def reference(cfg, x, t, option, reduction, grad_output):
    xx = leaf(x)
    tt = torch.tensor(t, dtype=torch.float64)
    loss = formula(cfg, xx - tt, option)
    if reduction == "none":
        loss.backward(upstream_of(reduction, loss.shape, grad_output))
    else:
        loss = loss.sum() if reduction == "sum" or loss.numel() == 0 else loss.mean()
        loss.backward()  # the mean of nothing is 0 here (PyTorch: NaN)
    return loss.detach().numpy(), grad_of(xx).numpy()


def pytorch(cfg, x, t, option, reduction, grad_output):
    xx = leaf(x)
    tt = torch.tensor(t, dtype=torch.float64)
    if cfg["loss"] == "huber":
        loss = F.huber_loss(xx, tt, reduction=reduction, delta=option)
    else:
        loss = F.smooth_l1_loss(xx, tt, reduction=reduction, beta=option)
    loss.backward(upstream_of(reduction, xx.shape, grad_output))
    return loss.detach().numpy(), grad_of(xx).numpy()


def make_cases(cfg):
    cases = []
    p, opt = cfg["prefix"], cfg["option"]

    def case(name, n, reduction, option, quantize=64, exact_kinks=True, scale=2.0, dscale=1.0, x=None, t=None):
        cases.append(dict(name=name, n=n, reduction=reduction, option=option, quantize=quantize,
                          exact_kinks=exact_kinks, scale=scale, dscale=dscale, x=x, t=t))

    for r in ("none", "sum", "mean"):
        for o in cfg["options"]:
            tag = str(o).replace(".", "_")
            case(f"{p}_{r}_{opt}{tag}_n37", 37, r, o)
    default = cfg["options"][0]
    case(f"{p}_mean_n1", 1, "mean", default)
    case(f"{p}_none_n3", 3, "none", cfg["options"][1])
    for r in ("none", "sum", "mean"):
        case(f"{p}_{r}_n0", 0, r, default)
    case(f"{p}_sum_n4099", 4099, "sum", default, quantize=16)
    case(f"{p}_mean_n2048_unquantized", 2048, "mean", cfg["options"][-1], quantize=None, exact_kinks=False)
    case(f"{p}_none_large_differences", 16, "none", cfg["options"][-1], scale=1e4, dscale=1e3)
    # every kink on its own: d = 0, +-option, just inside and outside, for each option
    for o in cfg["options"]:
        tag = str(o).replace(".", "_")
        ds = [0.0, o, -o, o / 2, -o / 2, 2 * o + 1, -(2 * o + 1), o + 1 / 64, -(o + 1 / 64)]
        if o > 0:
            ds += [o - 1 / 64, -(o - 1 / 64)]
        xs = [1.5 + v for v in ds]
        case(f"{p}_none_kinks_{opt}{tag}", len(xs), "none", o, x=xs, t=[1.5] * len(xs))
    return cases


def build(spec):
    rng = case_rng(spec)
    n, o = spec["n"], spec["option"]
    if spec["x"] is not None:
        x = np.asarray(spec["x"], dtype=np.float32)
        t = np.asarray(spec["t"], dtype=np.float32)
    else:
        x = rng.standard_normal(n) * spec["scale"]
        d = rng.standard_normal(n) * max(o, 0.5) * 1.5 * spec["dscale"]
        if spec["quantize"]:
            x, d = on_grid(x, spec["quantize"]), on_grid(d, spec["quantize"])
        if spec["exact_kinks"] and n >= 8:
            d[rng.choice(n, size=n // 8, replace=False)] = 0.0
            d[rng.choice(n, size=n // 8, replace=False)] = o
            d[rng.choice(n, size=n // 8, replace=False)] = -o
        x = x.astype(np.float32)
        t = (x.astype(np.float64) - d).astype(np.float32)
    return x, t, draw_grad_output(rng, spec["reduction"], n, quantize=bool(spec["quantize"]))


def run_case(cfg, spec):
    x, t, g = build(spec)
    r, o = spec["reduction"], spec["option"]
    args = (x.astype(np.float64), t.astype(np.float64), o, r, None if g is None else g.astype(np.float64))
    loss, grad = reference(cfg, *args)
    tl, tg = pytorch(cfg, *args)
    note = None
    if r == "mean" and x.size == 0:
        assert np.isnan(tl), tl
        note = "PyTorch's mean of no elements is NaN: culoss gives 0 (documented deviation)"
    elif not (close(loss, tl) and close(grad, tg)):
        zero = (x.astype(np.float64) - t.astype(np.float64)) == 0
        up = np.ones_like(grad) if r != "none" else g.astype(np.float64)
        if r == "mean":
            up = up / x.size
        quirk = cfg["loss"] == "smooth_l1" and o == 0 and zero.any()
        if quirk and close(loss, tl) and close(grad[~zero], tg[~zero]) and np.array_equal(tg[zero], -up[zero]) \
                and not grad[zero].any():
            note = (f"PyTorch 1.13 gives the gradient -1 at d == 0 with beta = 0 ({int(zero.sum())} element(s)); "
                    f"culoss 0, as PyTorch >= 2.1 (documented deviation)")
        else:
            fail_loss_grad(spec["name"], loss, tl, grad, tg)
    params = {cfg["option"]: o, "reduction": r}
    inputs = {"input": tensor(x, num_in), "target": tensor(t, num_in)}
    expected = {"loss": tensor(loss, num_out), "grad_input": tensor(grad, num_out)}
    return make_case(cfg["loss"], spec["name"], params, inputs, expected, g), note


def check_file(cfg, path):
    d = check_common(path, cfg["loss"], {cfg["option"], "reduction"})
    shape = d["inputs"]["input"]["shape"]
    assert len(shape) == 1 and d["inputs"]["target"]["shape"] == shape
    assert d["expected"]["grad_input"]["shape"] == shape
    check_reduction(d, shape)


def generate(cfg):
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), cfg["loss"])
    write_cases(out_dir, make_cases(cfg), lambda s: run_case(cfg, s), lambda p: check_file(cfg, p))


if __name__ == "__main__":
    generate(SMOOTH_L1)

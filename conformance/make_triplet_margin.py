#!/usr/bin/python3
"""Reference vectors for triplet_margin, in the case format of conformance/FORMAT.md.

Run:  /usr/bin/python3 conformance/make_triplet_margin.py
Needs Debian's python3-torch (PyTorch 1.13) and numpy; nothing else.

Inputs are float32 values (what the backends under test consume), written so they round-trip
exactly. Expected values are computed in float64 from culoss's semantics written out explicitly
(culoss.h):

  dist(u, v) = ||u - v + eps||_p,  d_neg = dist(a, n), or min(dist(a, n), dist(p, n)) with swap,
  loss_i = max(margin + dist(a, p) - d_neg, 0),

with the gradient written out too, by the rules PyTorch's autograd applies at the kinks (clamp_min
passes the gradient where its input is exactly 0; a distance or a component of 0 has gradient 0,
sign(0) = 0 for p = 1; p = inf splits the gradient among the largest |x_j|; a swap tie splits it
half and half). On every case the explicit values are asserted equal to
torch.nn.functional.triplet_margin_loss and its autograd gradient to 1e-12, and where no kink is
near, also to autograd on the plain formula (x.abs().pow(p).sum().pow(1/p)). The one deviation:
  * mean over N = 0 rows: culoss gives 0, PyTorch NaN.
"""
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

from case_io import (case_rng, check_common, check_reduction, close, draw_grad_output, fail, make_case, num_in,
                     num_out, on_grid, tensor, unbatched, write_cases)

LOSS = "triplet_margin"
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), LOSS)
PARAMS = {"margin", "p", "eps", "swap", "reduction"}

torch.set_default_dtype(torch.float64)


# ---------------------------------------------------------------- reference

def norm_and_grad(x, p):
    """||x||_p of each row of x (float64 [n, d]) and d||x||_p/dx by PyTorch's norm_backward rules."""
    ax = np.abs(x)
    if math.isinf(p):
        dist = ax.max(axis=1) if x.shape[1] else np.zeros(x.shape[0])
        top = (ax == dist[:, None]) & (x != 0)
        count = (ax == dist[:, None]).sum(axis=1)
        grad = np.where(top, np.sign(x) / np.maximum(count, 1)[:, None], 0.0)
        return dist, grad
    dist = (ax ** p).sum(axis=1) ** (1.0 / p)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(dist[:, None] > 0, ax / np.where(dist > 0, dist, 1)[:, None], 0.0)
        mag = np.ones_like(r) if p == 1 else np.where(r > 0, r ** (p - 1), 0.0)
    grad = np.where((x != 0) & (dist[:, None] > 0), np.sign(x) * mag, 0.0)
    return dist, grad


def reference(a, pos, neg, margin, p, eps, swap, reduction, grad_output):
    """culoss semantics in float64: (loss, grad_anchor, grad_positive, grad_negative)."""
    n = a.shape[0]
    d_ap, g_ap = norm_and_grad(a - pos + eps, p)
    d_an, g_an = norm_and_grad(a - neg + eps, p)
    w_an = np.ones(n)
    w_pn = np.zeros(n)
    d_neg = d_an
    g_pn = np.zeros_like(a)
    if swap:
        d_pn, g_pn = norm_and_grad(pos - neg + eps, p)
        d_neg = np.minimum(d_an, d_pn)
        w_an = np.where(d_pn < d_an, 0.0, np.where(d_pn == d_an, 0.5, 1.0))
        w_pn = 1.0 - w_an
    v = (margin + d_ap) - d_neg
    rows = np.maximum(v, 0.0)
    if reduction == "none":
        loss = rows
        up = np.asarray(grad_output, dtype=np.float64)
    elif reduction == "sum":
        loss = np.array(rows.sum())
        up = np.ones(n)
    else:
        loss = np.array(rows.sum() / n if n else 0.0)
        up = np.full(n, 1.0 / n) if n else np.zeros(0)
    scale = np.where(v >= 0, up, 0.0)[:, None]
    ga = scale * (g_ap - w_an[:, None] * g_an)
    gp = scale * (-g_ap - w_pn[:, None] * g_pn)
    gn = scale * (w_an[:, None] * g_an + w_pn[:, None] * g_pn)
    return loss, ga, gp, gn


def autograd_plain(a, pos, neg, margin, p, eps, swap, reduction, grad_output):
    """Autograd on the formula written with elementwise ops (valid away from the kinks)."""
    t = [torch.tensor(v, requires_grad=True) for v in (a, pos, neg)]

    def dist(u, w):
        x = (u - w + eps).abs()
        return x.max(dim=1).values if math.isinf(p) else x.pow(p).sum(dim=1).pow(1.0 / p)

    d_neg = dist(t[0], t[2])
    if swap:
        d_neg = torch.minimum(d_neg, dist(t[1], t[2]))
    rows = torch.clamp(margin + dist(t[0], t[1]) - d_neg, min=0.0)
    n = a.shape[0]
    if reduction == "none":
        loss, up = rows, torch.tensor(grad_output)
    else:
        loss, up = (rows.sum() if reduction == "sum" else rows.mean()), torch.tensor(1.0)
    loss.backward(up)
    return (loss.detach().numpy(),) + tuple(v.grad.numpy() for v in t)


def pytorch(a, pos, neg, margin, p, eps, swap, reduction, grad_output):
    t = [torch.tensor(v, requires_grad=True) for v in (a, pos, neg)]
    loss = F.triplet_margin_loss(t[0], t[1], t[2], margin=margin, p=p, eps=eps, swap=swap, reduction=reduction)
    up = torch.tensor(grad_output) if reduction == "none" else torch.tensor(1.0)
    if loss.requires_grad:
        loss.backward(up)
    grads = tuple(v.grad.numpy() if v.grad is not None else np.zeros_like(a) for v in t)
    return (loss.detach().numpy(),) + grads


def near_kink(a, pos, neg, margin, p, eps, swap):
    """True when a row sits within 1e-3 of a kink (where the plain formula's autograd is not PyTorch's)."""
    xs = [a - pos + eps, a - neg + eps] + ([pos - neg + eps] if swap else [])
    ds = [norm_and_grad(x, p)[0] for x in xs]
    if any((np.abs(x) < 1e-3).any() for x in xs):
        return True
    if math.isinf(p):
        for x in xs:
            s = np.sort(np.abs(x), axis=1)
            if x.shape[1] > 1 and (s[:, -1] - s[:, -2] < 1e-3).any():
                return True
    d_neg = np.minimum(ds[1], ds[2]) if swap else ds[1]
    if (np.abs(margin + ds[0] - d_neg) < 1e-3).any():
        return True
    return swap and bool((np.abs(ds[1] - ds[2]) < 1e-3).any())


# ---------------------------------------------------------------- cases

CASES = []


def case(name, n, d, reduction="mean", margin=1.0, p=2.0, eps=1e-6, swap=False, data="random",
         a=None, pos=None, neg=None, quantize=None, unbatched=False):
    CASES.append(dict(name=name, n=n, d=d, reduction=reduction, margin=margin, p=p, eps=eps, swap=swap,
                      data=data, a=a, pos=pos, neg=neg, quantize=quantize, unbatched=unbatched))


def build(spec):
    rng = case_rng(spec)
    n, d = spec["n"], spec["d"]
    if spec["a"] is not None:
        f = lambda v: np.asarray(v, dtype=np.float32).reshape(n, d)
        a, pos, neg = f(spec["a"]), f(spec["pos"]), f(spec["neg"])
    else:
        a = rng.standard_normal((n, d))
        pos = a + 0.6 * rng.standard_normal((n, d))
        neg = a + 0.9 * rng.standard_normal((n, d))
        kind = spec["data"]
        if kind == "swap":  # every other row: negative near the positive, where swap picks dist(p, n)
            neg[::2] = pos[::2] + 0.3 * rng.standard_normal((len(neg[::2]), d))
        elif kind == "inactive":  # most rows far beyond the margin
            neg[: (2 * n) // 3] = a[: (2 * n) // 3] + 6.0 * rng.standard_normal(((2 * n) // 3, d))
        elif kind == "same":  # identical anchor and positive in every other row
            pos[::2] = a[::2]
        if spec["quantize"]:
            a, pos, neg = (on_grid(v, spec["quantize"]) for v in (a, pos, neg))
        a, pos, neg = (v.astype(np.float32) for v in (a, pos, neg))
        if kind == "same":
            pos[::2] = a[::2]
    return a, pos, neg, draw_grad_output(rng, spec["reduction"], n)


REDS = ("none", "sum", "mean")
PS = (1.0, 1.5, 2.0, 3.0, math.inf, 0.5)


def pname(p):
    return "inf" if math.isinf(p) else f"{p:g}".replace(".", "_")


# every reduction x every p, swap on and off
for r in REDS:
    for k, p in enumerate(PS):
        swap = (k + REDS.index(r)) % 2 == 1
        case(f"tm_{r}_p{pname(p)}{'_swap' if swap else ''}_d5", 8, 5, r, p=p, swap=swap,
             data="swap" if swap else "random")

# shapes
for r in REDS:
    case(f"tm_{r}_d1", 9, 1, r, swap=(r == "sum"))
    case(f"tm_{r}_n0_d4", 0, 4, r, swap=True)
case("tm_mean_d3_swap", 10, 3, "mean", p=1.0, swap=True, data="swap")
case("tm_none_d4", 6, 4, "none", p=3.0)
case("tm_sum_n1_d7", 1, 7, "sum", p=1.5, swap=True)
case("tm_none_d64_swap", 6, 64, "none", swap=True, data="swap", quantize=16)
case("tm_mean_d512", 3, 512, "mean", p=1.0, quantize=16)
case("tm_sum_d1100_swap", 2, 1100, "sum", swap=True, data="swap", quantize=16)
case("tm_mean_n300_d8", 300, 8, "mean", swap=True, data="swap", quantize=16)

# options
case("tm_none_inactive_rows", 12, 6, "none", data="inactive")
case("tm_mean_inactive_rows_swap", 12, 6, "mean", p=1.0, swap=True, data="inactive")
case("tm_none_same_anchor_positive", 8, 6, "none", data="same")
case("tm_sum_same_anchor_positive_pinf", 8, 6, "sum", p=math.inf, swap=True, data="same")
case("tm_none_swap_matters_p3", 10, 6, "none", p=3.0, swap=True, data="swap")
case("tm_mean_negative_margin", 10, 5, "mean", margin=-0.5, swap=True, data="swap")
case("tm_none_margin_0", 10, 5, "none", margin=0.0, p=1.5)
case("tm_sum_eps_0", 8, 5, "sum", eps=0.0, p=1.0)
case("tm_none_eps_0_25", 8, 5, "none", eps=0.25, swap=True, data="swap")
case("tm_mean_negative_eps", 8, 5, "mean", eps=-0.1, p=0.5)
case("tm_sum_margin_2_p1_5_swap", 8, 9, "sum", margin=2.0, p=1.5, swap=True, data="swap")

# the kinks, with values where float32 and float64 agree exactly
case("tm_sum_kink_loss_exactly_0", 1, 2, "sum", eps=0.0, a=[0, 0], pos=[1, 0], neg=[2, 0])
case("tm_none_kink_loss_exactly_0_p1", 2, 2, "none", eps=0.0, p=1.0,
     a=[0, 0, 1, 1], pos=[1, 0, 1, 2], neg=[2, 0, 3, 1])
case("tm_sum_kink_swap_tie", 1, 2, "sum", eps=0.0, swap=True, a=[1, 0], pos=[0, 1], neg=[0, 0])
case("tm_none_kink_swap_tie_p1", 2, 3, "none", eps=0.0, p=1.0, swap=True, margin=3.0,
     a=[1, 0, 2, 0, 0, 0], pos=[0, 1, 2, 4, 4, 4], neg=[0, 0, 2, 2, 2, 2])
for p in (1.0, 1.5, 2.0, 3.0, math.inf, 0.5):
    case(f"tm_sum_kink_zero_distance_p{pname(p)}", 1, 2, "sum", margin=10.0, eps=0.5, p=p,
         a=[1, 2], pos=[1.5, 2.5], neg=[3, 0])
    case(f"tm_sum_kink_zero_component_p{pname(p)}", 1, 2, "sum", margin=10.0, eps=0.5, p=p,
         a=[1, 2], pos=[1.5, 0.5], neg=[3, 0])
case("tm_sum_kink_inf_tie", 1, 3, "sum", margin=10.0, eps=0.0, p=math.inf,
     a=[0, 0, 0], pos=[1, -1, 0.5], neg=[3, 0, 0])
case("tm_none_kink_identical_rows", 2, 3, "none", eps=0.0, swap=True,
     a=[1, 2, 3, 0, 0, 0], pos=[1, 2, 3, 0, 0, 0], neg=[1, 2, 3, 0.25, 0.25, 0.25])
# PyTorch's unbatched triplet: anchor, positive and negative [D] (a none loss [])
for r in ("none", "mean"):
    case(f"tm_{r}_unbatched_d16", 1, 16, r, unbatched=True)
case("tm_sum_unbatched_swap_p1_d9", 1, 9, "sum", p=1.0, swap=True, unbatched=True)


def run_case(spec):
    a, pos, neg, g = build(spec)
    args = (a.astype(np.float64), pos.astype(np.float64), neg.astype(np.float64), spec["margin"], spec["p"],
            spec["eps"], spec["swap"], spec["reduction"], None if g is None else g.astype(np.float64))
    ref = reference(*args)
    torch_out = pytorch(*args)
    n = a.shape[0]
    note = None
    if spec["reduction"] == "mean" and n == 0:
        assert np.isnan(torch_out[0]), torch_out[0]
        note = f"PyTorch mean of no rows gives {float(torch_out[0])}: culoss gives 0 (documented deviation)"
    else:
        for name, mine, theirs in zip(("loss", "grad_anchor", "grad_positive", "grad_negative"), ref, torch_out):
            if not close(mine, theirs):
                fail(f"{spec['name']} {name}: ours {mine} pytorch {theirs}")
    if n > 0 and not near_kink(*args[:7]):
        for name, mine, theirs in zip(("loss", "grad_anchor", "grad_positive", "grad_negative"), ref,
                                      autograd_plain(*args)):
            if not close(mine, theirs):
                fail(f"{spec['name']} {name} vs plain autograd")

    inputs = {"anchor": tensor(a, num_in), "positive": tensor(pos, num_in), "negative": tensor(neg, num_in)}
    p = spec["p"]
    params = {"margin": spec["margin"], "p": "inf" if math.isinf(p) else p, "eps": spec["eps"],
              "swap": spec["swap"], "reduction": spec["reduction"]}
    expected = {"loss": tensor(ref[0], num_out), "grad_anchor": tensor(ref[1], num_out),
                "grad_positive": tensor(ref[2], num_out), "grad_negative": tensor(ref[3], num_out)}
    out = make_case(LOSS, spec["name"], params, inputs, expected, g)
    if spec["unbatched"]:
        check_unbatched(a, pos, neg, spec, g, ref)
        out = unbatched(out, {"anchor", "positive", "negative", "grad_anchor", "grad_positive", "grad_negative"})
    return out, note


def check_unbatched(a, pos, neg, spec, g, ref):
    """F.triplet_margin_loss on the unbatched [D] vectors themselves agrees with the one-row case."""
    xs = [torch.tensor(v[0].astype(np.float64), requires_grad=True) for v in (a, pos, neg)]
    loss = F.triplet_margin_loss(*xs, margin=spec["margin"], p=spec["p"], eps=spec["eps"], swap=spec["swap"],
                                 reduction=spec["reduction"])
    loss.backward(torch.tensor(float(g[0])) if spec["reduction"] == "none" else None)
    assert close(np.reshape(ref[0], -1), np.reshape(loss.detach().numpy(), -1)), spec["name"]
    for mine, t in zip(ref[1:], xs):
        assert close(mine[0], t.grad.numpy()), spec["name"]


def check_file(path):
    d = check_common(path, LOSS, PARAMS)
    shape = d["inputs"]["anchor"]["shape"]  # [N, D], or [D] unbatched
    assert len(shape) in (1, 2)
    for k in ("positive", "negative"):
        assert d["inputs"][k]["shape"] == shape, (path, k)
    for k in ("grad_anchor", "grad_positive", "grad_negative"):
        assert d["expected"][k]["shape"] == shape, (path, k)
    check_reduction(d, shape[:-1])
    assert isinstance(d["params"]["swap"], bool)


def main():
    write_cases(OUT_DIR, CASES, run_case, check_file)


if __name__ == "__main__":
    main()

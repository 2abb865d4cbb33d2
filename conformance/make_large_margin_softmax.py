#!/usr/bin/python3
"""Reference vectors for large_margin_softmax (L-Softmax, Liu et al., ICML 2016), in the case format
of conformance/FORMAT.md.

Run:  /usr/bin/python3 conformance/make_large_margin_softmax.py
Needs Debian's python3-torch (PyTorch 1.13) and numpy; nothing else.

Semantics, for features x [N, D], class weights W [D, C] (column j is class j's weight vector),
targets y [N] in [0, C), an integer margin m >= 1 and the annealing lambda >= 0:
    f_ij = x_i . W_j                                  (the plain logits)
    cos(theta_i) = f_iy / (|x_i| |W_y|)                (clamped to [-1, 1])
    psi(theta) = (-1)^k cos(m theta) - 2k,  theta in [k pi / m, (k + 1) pi / m]
    f'_iy = (lambda f_iy + |x_i| |W_y| psi(theta_i)) / (1 + lambda), the other f'_ij = f_ij
    loss_i = -log softmax(f'_i)[y_i]                  (the modified_logits are f')
cos(m theta) is the Chebyshev polynomial T_m(cos theta) and k counts the boundaries cos(j pi / m),
0 < j < m, that cos(theta) lies at or below, so neither acos nor a division by sin(theta) is
needed; psi is continuous across the boundaries and so is its derivative in cos(theta)
(T_m' = m U_{m-1} vanishes there). A row with |x_i| |W_y| = 0 has no angle: its target logit is
lambda f_iy / (1 + lambda) = 0 and the psi term adds nothing to the gradient.
sum adds the rows; mean divides that by N (0 for no rows). grad_features and grad_weights are the
gradients of the reduced loss.

Expected values are the formula written out in numpy float64 (the Chebyshev recurrences; the
gradient by the chain rule through f'), cross-checked to 1e-10 against autograd in float64 on the
paper's own form, theta = acos(cos theta) and k = floor(m theta / pi). The cases: margins 1 to 4
and 6, each reduction, annealing on and off, angles within 1e-4 of every boundary k pi / m (from
both sides), a zero feature row and a zero weight column, one class, many rows of one class, and
shapes across the 16-wide tiles of the kernels.
"""
import math
import os

import numpy as np
import torch

from case_io import (case_rng, check_common, check_reduction, close, draw_grad_output, fail, int_tensor, make_case,
                     num_in, num_out, on_grid, tensor, write_cases)
from torch_ref import grad_of, leaf, reduce_rows

LOSS = "large_margin_softmax"
TORCH_RTOL = 1e-10  # autograd through acos loses a few digits where sin(theta) is small


def make_cases():
    cases = []

    def case(name, n, d, c, m, reduction, lam=0.0, edit=None):
        cases.append(dict(name=name, n=n, d=d, c=c, m=m, reduction=reduction, lam=lam, edit=edit))

    for r in ("none", "sum", "mean"):
        for m in (1, 2, 3, 4):
            case(f"lsm_{r}_m{m}_9x5x6", 9, 5, 6, m, r)
        case(f"lsm_{r}_m2_lambda5_9x5x6", 9, 5, 6, 2, r, lam=5.0)
        case(f"lsm_{r}_n0", 0, 4, 3, 2, r)
    case("lsm_mean_m6_lambda0.5_12x8x7", 12, 8, 7, 6, "mean", lam=0.5)
    # angles near every boundary k pi / m, both sides, for m = 2, 3, 4
    for m in (2, 3, 4):
        case(f"lsm_sum_m{m}_boundaries", 4 * m, 6, 5, m, "sum", edit="boundaries")
        case(f"lsm_none_m{m}_lambda1_boundaries", 4 * m, 6, 5, m, "none", lam=1.0, edit="boundaries")
    case("lsm_none_m3_zero_norms_6x4x5", 6, 4, 5, 3, "none", edit="zero_norms")
    case("lsm_mean_m2_one_class_7x3x1", 7, 3, 1, 2, "mean")
    case("lsm_sum_m4_one_target_40x6x9", 40, 6, 9, 4, "sum", edit="one_target")
    # shapes across the kernels' 16 x 16 tiles: not multiples of 16, and several tiles each way
    case("lsm_mean_m2_37x33x19", 37, 33, 19, 2, "mean")
    case("lsm_none_m3_lambda2_70x20x50", 70, 20, 50, 3, "none", lam=2.0)
    case("lsm_sum_m4_130x9x40", 130, 9, 40, 4, "sum")
    case("lsm_mean_m1_17x64x3", 17, 64, 3, 1, "mean")
    return cases


def build(spec):
    rng = case_rng(spec)
    n, d, c = spec["n"], spec["d"], spec["c"]
    x = on_grid(rng.standard_normal((n, d)), 64)
    w = on_grid(rng.standard_normal((d, c)) * 0.5, 64)
    y = rng.integers(0, c, size=n)
    edit = spec["edit"]
    if edit == "boundaries":
        x, w, y = boundary_rows(rng, spec["m"], n, d, c)
    elif edit == "zero_norms":
        x[1] = 0.0
        w[:, int(y[3])] = 0.0
        y[4] = y[3]
    elif edit == "one_target":
        y[:] = 2
        y[::7] = 5
    g = draw_grad_output(rng, spec["reduction"], (n,), quantize=True)
    return x.astype(np.float32), w.astype(np.float32), np.asarray(y, dtype=np.int64), g


def boundary_rows(rng, m, n, d, c):
    """Rows whose target angle lies within 1e-4 (relative in theta) of each boundary k pi / m,
    0 < k < m, on both sides, and of 0 and pi: x_i = cos(t) u + sin(t) v for W_y's direction u
    and a unit v orthogonal to it, scaled."""
    w = rng.standard_normal((d, c)) * 0.5
    y = rng.integers(0, c, size=n)
    x = np.zeros((n, d))
    angles = []
    for k in range(0, m + 1):
        for side in (-1, 1):
            t = k * math.pi / m + side * 1e-4
            if 0 < t < math.pi:
                angles.append(t)
    angles += [math.pi / (3 * m), math.pi - math.pi / (5 * m)]
    for i in range(n):
        t = angles[i % len(angles)]
        u = w[:, y[i]] / np.linalg.norm(w[:, y[i]])
        v = rng.standard_normal(d)
        v -= v.dot(u) * u
        v /= np.linalg.norm(v)
        x[i] = (math.cos(t) * u + math.sin(t) * v) * (0.5 + i % 3)
    return x, w, y


# ---------------------------------------------------------------- the formula, numpy float64

def chebyshev(m, c):
    """T_m(c) and U_{m-1}(c) by their recurrences (T_0 = U_0 = 1, T_1 = c, U_1 = 2c)."""
    t_prev, t = 1.0, c
    u_prev, u = 0.0, 1.0  # U_{-1}, U_0
    for _ in range(1, m):
        t_prev, t = t, 2 * c * t - t_prev
        u_prev, u = u, 2 * c * u - u_prev
    return (t if m >= 1 else 1.0), u


def psi_of(m, c):
    """psi and d psi / d cos(theta), from cos(theta) alone."""
    k = sum(1 for j in range(1, m) if c <= math.cos(j * math.pi / m))
    t, u = chebyshev(m, c)
    sign = -1.0 if k % 2 else 1.0
    return sign * t - 2 * k, sign * m * u


def explicit(x, w, y, m, lam, reduction, g):
    xd, wd = x.astype(np.float64), w.astype(np.float64)
    n, c = xd.shape[0], wd.shape[1]
    f = xd @ wd
    up = np.ones(n) if reduction != "none" else g.astype(np.float64)
    if reduction == "mean" and n:
        up = up / n
    rows = np.zeros(n)
    dfy = np.zeros((n, 2))  # per row: d f'_y / d f_y, and the psi term's coefficient r
    gf = np.zeros_like(f)
    for i in range(n):
        yi = int(y[i])
        nx, nw = np.linalg.norm(xd[i]), np.linalg.norm(wd[:, yi])
        u = f[i, yi]
        if nx * nw > 0:
            cos = min(1.0, max(-1.0, u / (nx * nw)))
            p, dp = psi_of(m, cos)
            f[i, yi] = (lam * u + nx * nw * p) / (1 + lam)
            dfy[i] = ((lam + dp) / (1 + lam), (p - cos * dp) / (1 + lam))
        else:
            f[i, yi] = lam * u / (1 + lam)
            dfy[i] = (lam / (1 + lam), 0.0)
        mx = np.max(f[i])
        lse = mx + np.log(np.sum(np.exp(f[i] - mx)))
        rows[i] = lse - f[i, yi]
        prob = np.exp(f[i] - lse)
        gf[i] = up[i] * prob
        gf[i, yi] -= up[i]
    # through f': the target column's gradient goes to f_y by d f'_y / d f_y, and the psi term
    # reaches x_i along x_i and W_y along W_y (see the module docstring)
    gx = np.zeros_like(xd)
    gw = np.zeros_like(wd)
    for i in range(n):
        yi = int(y[i])
        gy = gf[i, yi]
        gf[i, yi] = gy * dfy[i, 0]
        nx, nw = np.linalg.norm(xd[i]), np.linalg.norm(wd[:, yi])
        if nx * nw > 0:
            gx[i] += gy * dfy[i, 1] * nw / nx * xd[i]
            gw[:, yi] += gy * dfy[i, 1] * nx / nw * wd[:, yi]
    gx += gf @ wd.T
    gw += xd.T @ gf
    if reduction == "none":
        loss = rows
    else:
        loss = np.float64(rows.sum() / n if reduction == "mean" and n else rows.sum())
    return loss, f, gx, gw


# ---------------------------------------------------------------- the paper's form, autograd

def torch_reference(x, y, w, m, lam, reduction, g):
    xt, wt = leaf(x), leaf(w)
    n = x.shape[0]
    if n == 0:
        return np.float64(0.0) if reduction != "none" else np.zeros(0), np.zeros((0, w.shape[1])), \
            np.zeros_like(x, dtype=np.float64), np.zeros_like(w, dtype=np.float64)
    yt = torch.tensor(y, dtype=torch.int64)
    f = xt @ wt
    wy = wt[:, yt].t()  # [N, D]
    nx = torch.sqrt((xt * xt).sum(dim=1) + (xt.detach().abs().sum(dim=1) == 0).double())
    nw = torch.sqrt((wy * wy).sum(dim=1) + (wy.detach().abs().sum(dim=1) == 0).double())
    alive = ((xt.detach().abs().sum(dim=1) > 0) & (wy.detach().abs().sum(dim=1) > 0)).double()
    u = f.gather(1, yt[:, None])[:, 0]
    cos = torch.clamp(u / (nx * nw), -1.0, 1.0)
    theta = torch.acos(cos)
    k = torch.clamp(torch.floor(theta.detach() * m / math.pi), 0, m - 1)
    psi = (-1.0) ** k * torch.cos(m * theta) - 2 * k
    fy = (lam * u + alive * nx * nw * psi) / (1 + lam)
    onehot = torch.nn.functional.one_hot(yt, w.shape[1]).bool()
    fm = torch.where(onehot, fy[:, None], f)  # not a blend: inf * 0 would put NaN at the others
    ce = torch.nn.functional.cross_entropy(fm, yt, reduction="none")
    loss, upstream = reduce_rows(ce, reduction, n, g)
    loss.backward(upstream)
    return loss.detach().numpy(), fm.detach().numpy(), grad_of(xt).numpy(), grad_of(wt).numpy()


def run_case(spec):
    x, w, y, g = build(spec)
    r, m, lam = spec["reduction"], spec["m"], spec["lam"]
    loss, f, gx, gw = explicit(x, w, y, m, lam, r, g)
    tl, tf, tgx, tgw = torch_reference(x, y, w, m, lam, r, g)
    for what, a, b in (("loss", loss, tl), ("modified_logits", f, tf), ("grad_features", gx, tgx),
                       ("grad_weights", gw, tgw)):
        if not close(a, b, TORCH_RTOL):
            fail(f"{spec['name']}: {what} differs from autograd on the acos form by "
                 f"{np.max(np.abs(np.asarray(a) - np.asarray(b)))}")
    params = {"margin": m, "reduction": r, "lambda": lam}
    inputs = {"features": tensor(x, num_in), "weights": tensor(w, num_in), "targets": int_tensor(y)}
    expected = {"loss": tensor(loss, num_out), "modified_logits": tensor(f, num_out),
                "grad_features": tensor(gx, num_out), "grad_weights": tensor(gw, num_out)}
    note = "a mean of no rows is 0 (PyTorch's own mean of nothing is NaN)" if r == "mean" and spec["n"] == 0 else None
    return make_case(LOSS, spec["name"], params, inputs, expected, g), note


def check_file(path):
    d = check_common(path, LOSS, {"margin", "reduction", "lambda"})
    n, dim = d["inputs"]["features"]["shape"]
    dim2, c = d["inputs"]["weights"]["shape"]
    assert dim == dim2 and d["inputs"]["targets"]["shape"] == [n]
    assert set(d["expected"]) == {"loss", "modified_logits", "grad_features", "grad_weights"}
    assert d["expected"]["modified_logits"]["shape"] == [n, c]
    assert d["expected"]["grad_features"]["shape"] == [n, dim]
    assert d["expected"]["grad_weights"]["shape"] == [dim, c]
    assert all(0 <= t < c for t in d["inputs"]["targets"]["data"])
    check_reduction(d, [n])


if __name__ == "__main__":
    write_cases(os.path.join(os.path.dirname(os.path.abspath(__file__)), LOSS), make_cases(), run_case, check_file)

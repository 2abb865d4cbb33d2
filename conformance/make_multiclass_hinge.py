#!/usr/bin/python3
"""Reference vectors for multiclass_hinge (torch.nn.functional.multi_margin_loss), in the case
format of conformance/FORMAT.md.

Run:  /usr/bin/python3 conformance/make_multiclass_hinge.py
Needs Debian's python3-torch (PyTorch 1.13) and numpy; nothing else.

Semantics, for scores x [N, C], targets y [N] in [0, C), a margin m, p in {1, 2} and class
weights w (all 1 when absent), z_ij = m - x_{i,y_i} + x_ij:
    loss_i = w[y_i] / C * sum_{j != y_i, z_ij > 0} z_ij^p
(z > 0 strict: the kink passes no gradient, a NaN z adds nothing); mean divides the sum by N
whatever the weights. Expected values come from autograd on that formula in float64, and are
cross-checked against F.multi_margin_loss to 1e-12 of each tensor's norm (its mean of no rows is
NaN, culoss's 0: the one documented deviation).
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

from case_io import (case_rng, check_common, check_reduction, close, draw_grad_output, fail_loss_grad, int_tensor,
                     make_case, num_in, num_out, on_grid, tensor, unbatched, write_cases)
from torch_ref import grad_of, leaf, reduce_rows, upstream_of

LOSS = "multiclass_hinge"


def make_cases():
    cases = []

    def case(name, n, c, reduction, p=1, margin=1.0, weights=False, scale=1.0, quantize=16, edit=None,
             unbatched=False):
        cases.append(dict(name=name, n=n, c=c, reduction=reduction, p=p, margin=margin, weights=weights,
                          scale=scale, quantize=quantize, edit=edit, unbatched=unbatched))

    for p in (1, 2):
        for r in ("none", "sum", "mean"):
            case(f"mmh_p{p}_{r}_37x10", 37, 10, r, p=p)
            case(f"mmh_p{p}_{r}_weighted_29x7", 29, 7, r, p=p, weights=True)
            case(f"mmh_p{p}_{r}_n0", 0, 5, r, p=p)
    case("mmh_p1_mean_margin_half_40x12", 40, 12, "mean", margin=0.5)
    case("mmh_p2_sum_margin0_33x9", 33, 9, "sum", p=2, margin=0.0)
    case("mmh_p1_mean_negative_margin_20x6", 20, 6, "mean", margin=-0.75)
    case("mmh_p2_mean_margin3_weighted_16x5", 16, 5, "mean", p=2, margin=3.0, weights=True)
    case("mmh_p1_sum_one_class_8x1", 8, 1, "sum")
    case("mmh_p1_mean_unquantized_64x100", 64, 100, "mean", quantize=None)
    case("mmh_p2_none_unquantized_weighted_32x33", 32, 33, "none", p=2, weights=True, quantize=None)
    # the warp-per-row path's last width and the block-per-row path
    case("mmh_p1_mean_3x1024", 3, 1024, "mean")
    case("mmh_p2_sum_weighted_3x1025", 3, 1025, "sum", p=2, weights=True)
    case("mmh_p1_none_2x1536", 2, 1536, "none", quantize=16, scale=0.25)
    # scores around 1e4: z^2 near 1e8, the row sums in double
    case("mmh_p2_mean_large_scores_24x16", 24, 16, "mean", p=2, scale=1e4, quantize=1)
    # the kink: z = 0 exactly passes no gradient (PyTorch's z > 0)
    case("mmh_p1_none_at_the_kink", 2, 4, "none", edit="kink")
    case("mmh_p2_sum_at_the_kink", 2, 4, "sum", p=2, edit="kink")
    # NaN and infinite scores: a NaN z adds nothing; an infinite one an infinite loss
    case("mmh_p1_none_non_finite", 4, 5, "none", edit="non_finite")
    case("mmh_p2_none_non_finite", 4, 5, "none", p=2, edit="non_finite")
    case("mmh_p1_sum_non_finite_weighted", 4, 5, "sum", weights=True, edit="non_finite")
    # PyTorch's unbatched input: one row [C] and a target [] (a none loss [])
    case("mmh_p1_none_unbatched_c9", 1, 9, "none", unbatched=True)
    case("mmh_p2_mean_unbatched_weighted_c6", 1, 6, "mean", p=2, weights=True, unbatched=True)
    return cases


def edit_kink(x, y):
    """Row 0: target 0 scores 1, others 0 and 0.5 and -2: z = 0 at class 1 for margin 1.
    Row 1: target 3 at 2.5, class 0 at 1.5 (z = 0), class 1 at 2 (z = 0.5)."""
    x[0] = [1.0, 0.0, 0.5, -2.0]
    x[1] = [1.5, 2.0, -1.0, 2.5]
    y[:] = [0, 3]
    return x, y


def edit_non_finite(x, y):
    """Row 0: a NaN non-target; row 1: +inf non-target; row 2: NaN target; row 3: -inf target."""
    y[:] = [0, 1, 2, 3]
    x[0, 2] = np.nan
    x[1, 4] = np.inf
    x[2, 2] = np.nan
    x[3, 3] = -np.inf
    return x, y


EDITS = {"kink": edit_kink, "non_finite": edit_non_finite}


def build(spec):
    rng = case_rng(spec)
    n, c = spec["n"], spec["c"]
    x = rng.standard_normal((n, c)) * spec["scale"]
    if spec["quantize"]:
        x = on_grid(x, spec["quantize"])
    x = x.astype(np.float32)
    y = rng.integers(0, c, size=n)
    w = on_grid(rng.uniform(0.25, 2.0, size=c), 16).astype(np.float32) if spec["weights"] else None
    if spec["edit"]:
        x, y = EDITS[spec["edit"]](x, y)
    g = draw_grad_output(rng, spec["reduction"], n, quantize=True)
    return x, y, w, g


def reference(x, y, w, p, margin, reduction, grad_output):
    """The formula above in float64, autograd for the gradient."""
    xs = leaf(x.astype(np.float64))
    n, c = xs.shape
    yy = torch.tensor(y, dtype=torch.int64)
    ww = torch.tensor(w, dtype=torch.float64) if w is not None else torch.ones(c, dtype=torch.float64)
    xt = xs.gather(1, yy[:, None])
    z = margin - xt + xs
    others = torch.ones(n, c, dtype=torch.bool)
    others[torch.arange(n), yy] = False
    active = others & (z > 0)
    # z is masked before the power, so that a NaN or infinite z outside the mask sends no 0 * NaN
    # back through the power's gradient
    terms = torch.where(active, z, torch.zeros_like(z)) ** p * active
    rows = ww[yy] / c * terms.sum(dim=1)
    loss, upstream = reduce_rows(rows, reduction, n, grad_output)
    loss.backward(upstream)
    return loss.detach().numpy(), grad_of(xs).numpy()


def pytorch(x, y, w, p, margin, reduction, grad_output):
    xs = leaf(x.astype(np.float64))
    ww = torch.tensor(w, dtype=torch.float64) if w is not None else None
    loss = F.multi_margin_loss(xs, torch.tensor(y, dtype=torch.int64), p=p, margin=margin, weight=ww,
                               reduction=reduction)
    loss.backward(upstream_of(reduction, xs.shape[0], grad_output))
    return loss.detach().numpy(), grad_of(xs).numpy()


def pytorch_unbatched(row, y0, w, p, margin, reduction, grad_output):
    """F.multi_margin_loss on one [C] row and a [] target, PyTorch's unbatched form."""
    xs = leaf(row.astype(np.float64))
    ww = torch.tensor(w, dtype=torch.float64) if w is not None else None
    loss = F.multi_margin_loss(xs, torch.tensor(int(y0)), p=p, margin=margin, weight=ww, reduction=reduction)
    loss.backward(torch.tensor(float(grad_output[0])) if reduction == "none" else None)
    return loss.detach().numpy(), grad_of(xs).numpy()


def run_case(spec):
    x, y, w, g = build(spec)
    r, p, m = spec["reduction"], spec["p"], spec["margin"]
    loss, grad = reference(x, y, w, p, m, r, g)
    note = None
    if r == "mean" and spec["n"] == 0:
        note = "PyTorch's mean of no rows is NaN: culoss gives 0 (documented deviation)"
    else:
        t_loss, t_grad = pytorch(x, y, w, p, m, r, g)
        if not (close(loss, t_loss) and close(grad, t_grad)):
            fail_loss_grad(spec["name"], loss, t_loss, grad, t_grad)
    inputs = {"scores": tensor(x, num_in), "targets": int_tensor(y)}
    if w is not None:
        inputs["class_weights"] = tensor(w, num_in)
    expected = {"loss": tensor(loss, num_out), "grad_scores": tensor(grad, num_out)}
    params = {"margin": m, "p": p, "reduction": r}
    out = make_case(LOSS, spec["name"], params, inputs, expected, g)
    if spec["unbatched"]:
        t_loss, t_grad = pytorch_unbatched(x[0], y[0], w, p, m, r, g)
        if not (close(np.reshape(loss, -1), np.reshape(t_loss, -1)) and close(grad[0], t_grad)):
            fail_loss_grad(spec["name"] + " unbatched", loss, t_loss, grad, t_grad)
        out = unbatched(out, {"scores", "targets", "grad_scores"})
    return out, note


def check_file(path):
    d = check_common(path, LOSS, {"margin", "p", "reduction"})
    shape = d["inputs"]["scores"]["shape"]  # [N, C], or [C] unbatched
    assert len(shape) in (1, 2)
    c = shape[-1]
    assert d["inputs"]["targets"]["shape"] == shape[:-1] and d["expected"]["grad_scores"]["shape"] == shape
    assert all(0 <= t < c for t in d["inputs"]["targets"]["data"])
    assert d["params"]["p"] in (1, 2)
    if "class_weights" in d["inputs"]:
        assert d["inputs"]["class_weights"]["shape"] == [c]
    check_reduction(d, shape[:-1])


if __name__ == "__main__":
    write_cases(os.path.join(os.path.dirname(os.path.abspath(__file__)), LOSS), make_cases(), run_case, check_file)

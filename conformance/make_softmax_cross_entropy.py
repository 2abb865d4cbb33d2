#!/usr/bin/python3
"""Reference vectors for softmax_cross_entropy, in the case format of conformance/FORMAT.md.

Run:  /usr/bin/python3 conformance/make_softmax_cross_entropy.py
Needs Debian's python3-torch (PyTorch 1.13) and numpy; nothing else.

Inputs are float32 values (what the backends under test consume), written so
they round-trip exactly. Expected values are computed in float64 by autograd
on an explicit implementation of culoss's semantics (culoss.h)
and cross-checked against torch.nn.functional.cross_entropy to 1e-12, except
where culoss deviates on purpose:
  * mean with no non-ignored rows (all ignored, or N = 0): culoss gives loss 0
    and zero gradient, PyTorch NaN;
  * some PyTorch versions, with label_smoothing > 0, mean, no class weights and
    some ignored rows, divide the smoothing term by N instead of by the number
    of non-ignored rows. A mismatch there is accepted only if PyTorch matches
    that quirk exactly (Debian's 1.13.0a0 was checked and does not have it).
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

from case_io import case_rng, check_common, close, draw_grad_output, fail_loss_grad, on_grid, unbatched, write_cases
from softmax_rows import (check_rows_file, check_spatial_file, spatial_case, to_spatial, draw_logits_targets, neginf_some, neginf_target, rows_case,
                          scaled_to_1e4, torch_targets)
from torch_ref import grad_of, leaf, log_softmax_rows, reduce_rows, upstream_of

LOSS = "softmax_cross_entropy"
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), LOSS)

torch.set_default_dtype(torch.float64)


# ---------------------------------------------------------------- reference

def reference(logits, targets, weights, ignore_index, reduction, eps, grad_output):
    """culoss semantics in float64, explicit formulas, autograd for the gradient.

    loss_i = (1-e) w_{y_i} (-log p_{i,y_i}) + e/C sum_c w_c (-log p_{i,c}),
    0 for ignored rows; mean divides the sum by sum_i w_{y_i} over non-ignored
    rows (loss 0, gradient 0 when there are none).
    """
    x = leaf(logits)
    n, c = x.shape
    y = torch.tensor(targets, dtype=torch.int64).reshape(n)
    w = (torch.tensor(weights, dtype=torch.float64) if weights is not None
         else torch.ones(c, dtype=torch.float64))
    ignored = (y == ignore_index) if ignore_index is not None else torch.zeros(n, dtype=torch.bool)
    ysafe = torch.where(ignored, torch.zeros_like(y), y)
    logp = log_softmax_rows(x)

    wy = w[ysafe]
    row = (1.0 - eps) * wy * (-logp.gather(1, ysafe[:, None]).squeeze(1))
    if eps > 0:
        row = row + (eps / c) * (-(logp * w).sum(dim=1))
    row = torch.where(ignored, torch.zeros_like(row), row)

    denom = 0  # no non-ignored rows: the mean is the sum, 0, with gradient 0
    if reduction == "mean" and bool((~ignored).any()):
        denom = wy[~ignored].sum()
        assert float(denom) != 0.0, "sum of w[y_i] over non-ignored rows is 0: semantics not defined"
    loss, upstream = reduce_rows(row, reduction, denom, grad_output)
    loss.backward(upstream)
    return loss.detach().numpy(), grad_of(x).numpy()


def pytorch(logits, targets, weights, ignore_index, reduction, eps, grad_output):
    x = leaf(logits)
    n, c = x.shape
    y, ii = torch_targets(targets, n, ignore_index)
    w = torch.tensor(weights, dtype=torch.float64) if weights is not None else None
    loss = F.cross_entropy(x, y, weight=w, ignore_index=ii, reduction=reduction, label_smoothing=eps)
    loss.backward(upstream_of(reduction, n, grad_output))
    return loss.detach().numpy(), grad_of(x).numpy()


def pytorch113_quirk(logits, targets, ignore_index, eps):
    """What PyTorch 1.13 computes for mean + smoothing + no weights + ignored rows:
    (1-e) * nll_mean + e/C * smooth_sum / N (N counts ignored rows too)."""
    x = leaf(logits)
    n, c = x.shape
    y = torch.tensor(targets, dtype=torch.int64).reshape(n)
    ignored = y == ignore_index
    ysafe = torch.where(ignored, torch.zeros_like(y), y)
    logp = torch.log_softmax(x, dim=1)
    nll = torch.where(ignored, torch.zeros(n), -logp.gather(1, ysafe[:, None]).squeeze(1))
    smooth = torch.where(ignored, torch.zeros(n), -logp.sum(dim=1))
    loss = (1 - eps) * nll.sum() / (~ignored).sum() + (eps / c) * smooth.sum() / n
    loss.backward()
    return loss.detach().numpy(), x.grad.numpy()


# ---------------------------------------------------------------- cases

CASES = []


def case(name, n, c, reduction="mean", eps=0.0, ignore_index=-100, weights=False,
         n_ignored=0, logits=None, targets=None, class_weights=None, quantize=None,
         edit=None, scale=2.0, unbatched=False, spatial=None):
    CASES.append(dict(name=name, n=n, c=c, reduction=reduction, eps=eps,
                      ignore_index=ignore_index, weights=weights, n_ignored=n_ignored,
                      logits=logits, targets=targets, class_weights=class_weights,
                      quantize=quantize, edit=edit, scale=scale, unbatched=unbatched, spatial=spatial))


def build(spec):
    rng = case_rng(spec)
    x, y = draw_logits_targets(spec, rng, spec["ignore_index"])
    w = None
    if spec["class_weights"] is not None:
        w = np.asarray(spec["class_weights"], dtype=np.float32)
    elif spec["weights"]:
        w = rng.uniform(0.25, 2.0, size=spec["c"]).astype(np.float32)
        if spec["quantize"]:
            w = on_grid(w, 16).astype(np.float32)
    if spec["edit"] is not None:  # edits change logits only
        x, y = spec["edit"](x.copy(), y.copy())
        x = np.asarray(x, dtype=np.float32)
    return x, y, w, draw_grad_output(rng, spec["reduction"], spec["n"])


def neginf_ignored_row(x, y):
    """The only -inf logits sit in the ignored rows: the loss stays finite."""
    for i in range(x.shape[0]):
        if y[i] == -100:
            x[i, ::2] = -np.inf
    return x, y


def big_magnitude(x, y):
    """Logits around +-1e4; row 0 is 1e4 but for one -1e4."""
    x = scaled_to_1e4(x, y)
    x[0, :] = 1e4
    x[0, 1] = -1e4
    return x, y


REDS = ("none", "sum", "mean")

# every reduction x {plain, weights, smoothing, weights+smoothing, ignore -100, ignore a real class}
for r in REDS:
    case(f"ce_{r}_plain_c5", 12, 5, r)
    case(f"ce_{r}_weights_c7", 12, 7, r, weights=True)
    case(f"ce_{r}_smoothing_c3", 12, 3, r, eps=0.1)
    case(f"ce_{r}_weights_smoothing_c7", 12, 7, r, eps=0.2, weights=True)
    case(f"ce_{r}_ignore_index_c5", 12, 5, r, n_ignored=4)
    case(f"ce_{r}_ignore_real_class_c5", 12, 5, r, ignore_index=2, n_ignored=3, weights=(r == "mean"))

# ignore_index combined with smoothing (the PyTorch 1.13 quirk when unweighted)
case("ce_mean_smoothing_ignore_index_c33", 16, 33, "mean", eps=0.15, n_ignored=5)
case("ce_mean_weights_smoothing_ignore_index_c31", 16, 31, "mean", eps=0.15, weights=True, n_ignored=5)
case("ce_sum_smoothing_ignore_real_class_c31", 16, 31, "sum", eps=0.3, ignore_index=0, n_ignored=4)
case("ce_none_weights_smoothing_ignore_index_c33", 16, 33, "none", eps=0.1, weights=True, n_ignored=3)
case("ce_mean_ignore_null_c5", 12, 5, "mean", ignore_index=None)
case("ce_mean_weights_with_zero_c5", 12, 5, "mean",
     class_weights=[1.0, 0.0, 2.5, 0.5, 1.25], targets=[0, 1, 2, 3, 4, 1, 1, 0, 2, 3, 4, 1])
case("ce_mean_smoothing_1_c5", 8, 5, "mean", eps=1.0, weights=True)

# class counts
case("ce_mean_c1", 6, 1, "mean")
case("ce_none_weights_smoothing_c1", 6, 1, "none", eps=0.1, weights=True)
case("ce_sum_weights_c2", 9, 2, "sum", weights=True)
case("ce_mean_smoothing_c2", 9, 2, "mean", eps=0.05)
case("ce_sum_weights_smoothing_c4097", 3, 4097, "sum", eps=0.1, weights=True, quantize=16)
case("ce_none_c4097", 1, 4097, "none", quantize=16)
case("ce_mean_smoothing_c50000", 2, 50000, "mean", eps=0.1, quantize=8)

# row counts
case("ce_mean_n1_c7", 1, 7, "mean", eps=0.1, weights=True)
case("ce_none_n1_c7", 1, 7, "none")
for r in REDS:
    case(f"ce_{r}_n0_c5", 0, 5, r, eps=0.1, weights=True)
case("ce_mean_n1000_c10", 1000, 10, "mean", eps=0.1, quantize=16)

# non-finite logits
case("ce_mean_neginf_c7", 8, 7, "mean", edit=neginf_some)
case("ce_none_neginf_c7", 8, 7, "none", weights=True, edit=neginf_some)
case("ce_mean_target_neginf_c7", 8, 7, "mean", edit=neginf_target)
case("ce_none_target_neginf_c7", 8, 7, "none", edit=neginf_target)
case("ce_mean_smoothing_neginf_c7", 8, 7, "mean", eps=0.1, edit=neginf_some)
case("ce_none_weights_smoothing_neginf_c7", 8, 7, "none", eps=0.1, weights=True, edit=neginf_some)
case("ce_sum_smoothing_neginf_in_ignored_row_c7", 8, 7, "sum", eps=0.1, n_ignored=2, edit=neginf_ignored_row)

# large magnitudes
case("ce_mean_logits_1e4_c5", 8, 5, "mean", edit=big_magnitude)
case("ce_none_weights_smoothing_logits_1e4_c5", 8, 5, "none", eps=0.1, weights=True, edit=big_magnitude)

# all rows ignored
for r in REDS:
    case(f"ce_{r}_all_ignored_c5", 6, 5, r, n_ignored=6)
case("ce_mean_weights_smoothing_all_ignored_c5", 6, 5, "mean", eps=0.1, weights=True, n_ignored=6)
case("ce_mean_all_ignored_real_class_c3", 5, 3, "mean", eps=0.1, ignore_index=1, n_ignored=5)
# PyTorch's unbatched input: one row [C] and a target [] (a none loss [], the gradient [C])
for r in ("none", "sum", "mean"):
    case(f"ce_{r}_unbatched_c7", 1, 7, r, eps=0.1, weights=True, unbatched=True)
case("ce_mean_unbatched_c1500", 1, 1500, "mean", quantize=16, unbatched=True)
# Logits [N, C, d1..dk], the class dimension second (per pixel, per token): the rows of a case of
# N * d1 * ... * dk rows, laid out so (spatial = (N, [d1..dk])) and checked against F.cross_entropy
# on that layout. Classes from 1 to past the kernels' warp width (the strided-class paths), with
# weights, smoothing and ignored positions.
for r in ("none", "sum", "mean"):
    case(f"ce_{r}_spatial_2x5x3x4", 24, 5, r, eps=0.1, weights=True, n_ignored=5, spatial=(2, [3, 4]))
case("ce_mean_spatial_3x7x11", 33, 7, "mean", spatial=(3, [11]))
case("ce_none_spatial_2x3x2x2x3", 24, 3, "none", ignore_index=1, n_ignored=4, spatial=(2, [2, 2, 3]))
case("ce_sum_spatial_1x1x5", 5, 1, "sum", spatial=(1, [5]))
case("ce_mean_spatial_2x40x9", 18, 40, "mean", eps=0.2, weights=True, spatial=(2, [9]))
case("ce_sum_spatial_2x1030x3", 6, 1030, "sum", quantize=16, spatial=(2, [3]))
case("ce_mean_spatial_4x3x1", 4, 3, "mean", spatial=(4, [1]))
case("ce_none_spatial_2x3x0", 0, 3, "none", spatial=(2, [0]))
case("ce_sum_spatial_2x3x4x0", 0, 3, "sum", weights=True, spatial=(2, [4, 0]))


def run_case(spec):
    x, y, w, g = build(spec)
    n, c = x.shape
    r, e, ii = spec["reduction"], spec["eps"], spec["ignore_index"]
    args = (x.astype(np.float64), y, None if w is None else w.astype(np.float64), ii, r, e,
            None if g is None else g.astype(np.float64))
    loss, grad = reference(*args)
    tl, tg = pytorch(*args)

    ignored = (y == ii) if ii is not None else np.zeros(n, dtype=bool)
    note = None
    if r == "mean" and not (~ignored).any():
        note = f"PyTorch mean with no non-ignored rows gives loss {float(tl)}: culoss gives 0 (documented deviation)"
        assert np.isnan(tl), tl
    elif r == "mean" and e > 0 and w is None and ignored.any() and not (close(tl, loss) and close(tg, grad)):
        # Only excuse a mismatch that is exactly the 1.13 quirk.
        ql, qg = pytorch113_quirk(x.astype(np.float64), y, ii, e)
        assert close(tl, ql) and close(tg, qg), f"{spec['name']}: PyTorch differs from ours and from the 1.13 quirk model"
        note = f"PyTorch smoothing-term quirk (divides by N): loss {float(tl)!r} vs ours {float(loss)!r}; skipped"
    else:
        ok = close(loss, tl) and close(grad, tg)
        if not ok:
            fail_loss_grad(spec["name"], loss, tl, grad, tg)
        if r == "mean" and e > 0 and w is None and ignored.any():
            note = "quirk conditions (mean, smoothing, no weights, ignored rows) but this PyTorch agrees with ours"

    params = {"reduction": r, "label_smoothing": e, "ignore_index": ii}
    weights = None if w is None else ("class_weights", w)
    out = rows_case(LOSS, spec, params, x, y, weights, g, loss, grad)
    if spec["unbatched"]:
        check_unbatched(x, y, w, ii, r, e, g, loss, grad)
        out = unbatched(out, {"logits", "targets", "grad_logits"})
    if spec["spatial"]:
        out = spatial(out, spec["spatial"], x, y, w, ii, r, e, g)
    return out, note


def spatial(out, layout, x, y, w, ii, r, e, g):
    """The case of N * inner rows as [N, C, d1..dk] (softmax_rows.spatial_case), checked against
    F.cross_entropy on the spatial tensors themselves."""
    nb, dims = layout
    xt = leaf(to_spatial(x, nb, dims).astype(np.float64))
    tl = F.cross_entropy(xt, torch.tensor(np.asarray(y).reshape([nb] + dims), dtype=torch.int64),
                         weight=None if w is None else torch.tensor(w, dtype=torch.float64),
                         ignore_index=-100 if ii is None else ii, reduction=r, label_smoothing=e)
    tl.backward(torch.tensor(g.astype(np.float64).reshape([nb] + dims)) if r == "none" else None)
    res = spatial_case(out, layout, x.shape)
    assert close(np.asarray(res["expected"]["loss"]["data"], dtype=np.float64),
                 np.reshape(tl.detach().numpy(), -1), 1e-9), "spatial PyTorch loss differs"
    assert close(np.asarray(res["expected"]["grad_logits"]["data"], dtype=np.float64),
                 np.reshape(xt.grad.numpy(), -1), 1e-9), "spatial PyTorch gradient differs"
    return res


def check_unbatched(x, y, w, ii, r, e, g, loss, grad):
    """F.cross_entropy on the unbatched row itself agrees with the one-row case."""
    xs = leaf(x[0].astype(np.float64))
    tl = F.cross_entropy(xs, torch.tensor(int(y[0])), weight=None if w is None else torch.tensor(w, dtype=torch.float64),
                         ignore_index=-100 if ii is None else ii, reduction=r, label_smoothing=e)
    tl.backward(torch.tensor(float(g[0])) if r == "none" else None)
    assert close(np.reshape(loss, -1), np.reshape(tl.detach().numpy(), -1)) and close(grad[0], xs.grad.numpy()), \
        "unbatched PyTorch differs"


def check_file(path):
    d = check_common(path, LOSS, {"reduction", "label_smoothing", "ignore_index"})
    if len(d["inputs"]["logits"]["shape"]) >= 3:
        return check_spatial_file(d)
    check_rows_file(d, "class_weights")


def main():
    write_cases(OUT_DIR, CASES, run_case, check_file)


if __name__ == "__main__":
    main()

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
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F

from case_io import RTOL, check_common, close, int_tensor, num_in, num_out, tensor, write_cases

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
    x = torch.tensor(logits, dtype=torch.float64).requires_grad_(True)
    n, c = x.shape
    y = torch.tensor(targets, dtype=torch.int64).reshape(n)
    w = (torch.tensor(weights, dtype=torch.float64) if weights is not None
         else torch.ones(c, dtype=torch.float64))
    ignored = (y == ignore_index) if ignore_index is not None else torch.zeros(n, dtype=torch.bool)
    ysafe = torch.where(ignored, torch.zeros_like(y), y)

    # log p = x - (m + log sum exp(x - m)), m the row max (a constant for autograd)
    if n > 0:
        m = x.detach().max(dim=1, keepdim=True).values
    else:
        m = torch.zeros(0, 1)
    lse = m + torch.log(torch.exp(x - m).sum(dim=1, keepdim=True))
    logp = x - lse

    wy = w[ysafe]
    row = (1.0 - eps) * wy * (-logp.gather(1, ysafe[:, None]).squeeze(1))
    if eps > 0:
        row = row + (eps / c) * (-(logp * w).sum(dim=1))
    row = torch.where(ignored, torch.zeros_like(row), row)

    if reduction == "none":
        loss = row
        upstream = torch.tensor(grad_output, dtype=torch.float64).reshape(n)
    elif reduction == "sum":
        loss = row.sum()
        upstream = torch.tensor(1.0)
    elif reduction == "mean":
        denom = wy[~ignored].sum()
        if bool((~ignored).any()):
            assert float(denom) != 0.0, "sum of w[y_i] over non-ignored rows is 0: semantics not defined"
            loss = row.sum() / denom
        else:
            loss = row.sum()  # == 0, gradient 0
        upstream = torch.tensor(1.0)
    else:
        raise ValueError(reduction)
    loss.backward(upstream)
    grad = x.grad if x.grad is not None else torch.zeros_like(x)
    return loss.detach().numpy(), grad.numpy()


def pytorch(logits, targets, weights, ignore_index, reduction, eps, grad_output):
    x = torch.tensor(logits, dtype=torch.float64).requires_grad_(True)
    n, c = x.shape
    y = torch.tensor(targets, dtype=torch.int64).reshape(n)
    w = torch.tensor(weights, dtype=torch.float64) if weights is not None else None
    ii = ignore_index if ignore_index is not None else -100
    if ignore_index is None:
        assert not bool((y == -100).any())
    loss = F.cross_entropy(x, y, weight=w, ignore_index=ii, reduction=reduction, label_smoothing=eps)
    upstream = (torch.tensor(grad_output, dtype=torch.float64).reshape(n)
                if reduction == "none" else torch.tensor(1.0))
    loss.backward(upstream)
    grad = x.grad if x.grad is not None else torch.zeros_like(x)
    return loss.detach().numpy(), grad.numpy()


def pytorch113_quirk(logits, targets, ignore_index, eps):
    """What PyTorch 1.13 computes for mean + smoothing + no weights + ignored rows:
    (1-e) * nll_mean + e/C * smooth_sum / N (N counts ignored rows too)."""
    x = torch.tensor(logits, dtype=torch.float64).requires_grad_(True)
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
         edit=None, scale=2.0):
    CASES.append(dict(name=name, n=n, c=c, reduction=reduction, eps=eps,
                      ignore_index=ignore_index, weights=weights, n_ignored=n_ignored,
                      logits=logits, targets=targets, class_weights=class_weights,
                      quantize=quantize, edit=edit, scale=scale))


def build(spec):
    rng = np.random.default_rng(zlib.crc32(spec["name"].encode()))
    n, c = spec["n"], spec["c"]
    if spec["logits"] is not None:
        x = np.asarray(spec["logits"], dtype=np.float32).reshape(n, c)
    else:
        x = (rng.standard_normal((n, c)) * spec["scale"]).astype(np.float32)
        if spec["quantize"]:  # multiples of 1/q: exact float32, short in JSON
            q = spec["quantize"]
            x = (np.round(x.astype(np.float64) * q) / q).astype(np.float32)
    ii = spec["ignore_index"]
    if spec["targets"] is not None:
        y = np.asarray(spec["targets"], dtype=np.int64)
    else:
        if ii is not None and 0 <= ii < c:
            # ignore_index is a real class: draw others, then set n_ignored rows to it
            choices = np.array([k for k in range(c) if k != ii])
            y = rng.choice(choices, size=n) if len(choices) else np.zeros(n, dtype=np.int64)
        else:
            y = rng.integers(0, c, size=n)
        if spec["n_ignored"]:
            rows = rng.choice(n, size=spec["n_ignored"], replace=False)
            y[rows] = ii
    w = None
    if spec["class_weights"] is not None:
        w = np.asarray(spec["class_weights"], dtype=np.float32)
    elif spec["weights"]:
        w = rng.uniform(0.25, 2.0, size=c).astype(np.float32)
        if spec["quantize"]:
            w = (np.round(w.astype(np.float64) * 16) / 16).astype(np.float32)
    if spec["edit"] is not None:
        x, y, w = spec["edit"](x.copy(), y.copy(), None if w is None else w.copy())
        x = np.asarray(x, dtype=np.float32)
    g = None
    if spec["reduction"] == "none":
        g = rng.standard_normal(n).astype(np.float32)
    return x, y, w, g


def neginf_some(x, y, w):
    """-inf in a few non-target logits, never a whole row."""
    n, c = x.shape
    for i in range(n):
        for k in range(c):
            if k != y[i] and (i + k) % 3 == 0:
                x[i, k] = -np.inf
    return x, y, w


def neginf_target(x, y, w):
    """Like neginf_some, and the target logit of row 1 is -inf (that row's loss is inf)."""
    x, y, w = neginf_some(x, y, w)
    x[1, y[1]] = -np.inf
    return x, y, w


def neginf_ignored_row(x, y, w):
    """The only -inf logits sit in the ignored rows: the loss stays finite."""
    for i in range(x.shape[0]):
        if y[i] == -100:
            x[i, ::2] = -np.inf
    return x, y, w


def big_magnitude(x, y, w):
    """Logits around +-1e4 (exp overflows in float32 and float64 alike)."""
    n, c = x.shape
    x = x * np.float32(1e4) / np.float32(3.0)
    x[0, :] = 1e4
    x[0, 1] = -1e4
    x[1, :] = -1e4
    x[1, y[1]] = -1e4 + 1.5
    x[2, :] = 1e4
    x[2, y[2]] = 1e4 - 0.5
    return x, y, w


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
            print(f"MISMATCH {spec['name']}: ours loss {loss} pytorch {tl}; "
                  f"grad max diff {np.nanmax(np.abs(grad - tg))}", file=sys.stderr)
            raise SystemExit(1)
        if r == "mean" and e > 0 and w is None and ignored.any():
            note = "quirk conditions (mean, smoothing, no weights, ignored rows) but this PyTorch agrees with ours"

    inputs = {"logits": tensor(x, num_in), "targets": int_tensor(y)}
    if w is not None:
        inputs["class_weights"] = tensor(w, num_in)
    if g is not None:
        inputs["grad_output"] = tensor(g, num_in)
    out = {
        "loss": LOSS,
        "name": spec["name"],
        "params": {"reduction": r, "label_smoothing": e, "ignore_index": ii},
        "inputs": inputs,
        "expected": {"loss": tensor(loss, num_out), "grad_logits": tensor(grad, num_out)},
    }
    return out, note


def check_file(path):
    d = check_common(path, LOSS, {"reduction", "label_smoothing", "ignore_index"})
    n, c = d["inputs"]["logits"]["shape"]
    assert d["inputs"]["targets"]["shape"] == [n]
    assert all(isinstance(v, int) for v in d["inputs"]["targets"]["data"])
    assert d["expected"]["grad_logits"]["shape"] == [n, c]
    red = d["params"]["reduction"]
    assert d["expected"]["loss"]["shape"] == ([n] if red == "none" else [])
    assert ("grad_output" in d["inputs"]) == (red == "none")
    if "grad_output" in d["inputs"]:
        assert d["inputs"]["grad_output"]["shape"] == [n]
    if "class_weights" in d["inputs"]:
        assert d["inputs"]["class_weights"]["shape"] == [c]


def main():
    write_cases(OUT_DIR, CASES, run_case, check_file)


if __name__ == "__main__":
    main()

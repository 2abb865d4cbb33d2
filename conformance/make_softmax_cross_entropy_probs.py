#!/usr/bin/python3
"""Reference vectors for softmax_cross_entropy with soft targets (`target_probs`, the class
probabilities F.cross_entropy takes), in the case format of conformance/FORMAT.md.

Run:  /usr/bin/python3 conformance/make_softmax_cross_entropy_probs.py
Needs Debian's python3-torch (PyTorch 1.13) and numpy; nothing else.

The cases go to softmax_cross_entropy/target_probs/ (a directory of their own: each make_*.py owns
its directory and removes the .json files there it did not write). Expected values come from the explicit formula
in float64, with autograd for the gradient, and are checked against F.cross_entropy with
probability targets to 1e-12:
    a_{i,c} = w_c ((1 - e) t_{i,c} + e / C),   loss_i = -sum_c a_{i,c} log p_{i,c},
mean = sum_i loss_i / N whatever the weights (PyTorch's), the rows of t any real values. The one
deviation: a mean over N = 0 rows is 0 here, NaN in PyTorch.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

from case_io import (case_rng, check_common, check_reduction, close, draw_grad_output, fail_loss_grad,
                     make_case, num_in, num_out, on_grid, tensor, unbatched, write_cases)
from softmax_rows import to_spatial
from torch_ref import grad_of, leaf, log_softmax_rows, reduce_rows, upstream_of

LOSS = "softmax_cross_entropy"
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), LOSS, "target_probs")

torch.set_default_dtype(torch.float64)

CASES = []


def case(name, n, c, reduction="mean", eps=0.0, weights=False, probs="softmax", scale=2.0, quantize=None,
         edit=None, unbatched=False, spatial=None):
    CASES.append(dict(name=name, n=n, c=c, reduction=reduction, eps=eps, weights=weights, probs=probs,
                      scale=scale, quantize=quantize, edit=edit, unbatched=unbatched, spatial=spatial))


def draw_probs(kind, rng, n, c):
    """Rows of targets: "softmax" (a distribution), "onehot", "unnormalized" (in [0, 1.5), rows
    that do not sum to 1), "signed" (in [-0.5, 1): PyTorch takes any real), "sparse" (a
    distribution over a few classes, zeros elsewhere)."""
    if kind == "softmax":
        z = rng.standard_normal((n, c)) * 1.5
        t = np.exp(z - z.max(axis=1, keepdims=True)) if c else z
        return (t / t.sum(axis=1, keepdims=True)).astype(np.float32) if c else t.astype(np.float32)
    if kind == "onehot":
        t = np.zeros((n, c), dtype=np.float32)
        t[np.arange(n), rng.integers(0, c, size=n)] = 1.0
        return t
    if kind == "unnormalized":
        return on_grid(rng.uniform(0.0, 1.5, size=(n, c)), 64).astype(np.float32)
    if kind == "signed":
        return on_grid(rng.uniform(-0.5, 1.0, size=(n, c)), 64).astype(np.float32)
    if kind == "sparse":
        t = np.zeros((n, c), dtype=np.float32)
        for i in range(n):
            k = rng.choice(c, size=min(3, c), replace=False)
            t[i, k] = np.float32(1.0 / len(k))
        return t
    raise ValueError(kind)


def neginf_zero_target(x, t):
    """-inf logits: row 0 where the target is 0 (0 * -inf: a NaN loss, a finite gradient, as in
    PyTorch), row 1 where the target is positive (an infinite loss)."""
    t[0, 1] = 0.0
    x[0, 1] = -np.inf
    x[1, 2] = -np.inf
    t[1, 2] = 0.25
    return x, t


def masked(x, t):
    """Masked classes: -FLT_MAX and -1e9 logits under a positive row max, with target 0 there
    (a_j (max - x_j) overflows a float: the terms are summed in double)."""
    x[:, 0] = np.abs(x[:, 0]) + 1
    x[0, 1] = -np.finfo(np.float32).max
    x[1, 2] = np.float32(-1e9)
    t[0, 1] = 0.0
    t[1, 2] = 0.0
    return x, t


def big_magnitude(x, t):
    """Logits around +-1e4: e^x overflows in float32 and float64 alike."""
    x = x * np.float32(1e4) / np.float32(3.0)
    x[1, :] = np.float32(1e4)
    x[1, 0] = np.float32(1e4 - 0.5)
    return x, t


REDS = ("none", "sum", "mean")

for r in REDS:
    case(f"ce_probs_{r}_c5", 12, 5, r)
    case(f"ce_probs_{r}_weights_c7", 12, 7, r, weights=True)
    case(f"ce_probs_{r}_smoothing_c3", 12, 3, r, eps=0.1)
    case(f"ce_probs_{r}_weights_smoothing_c7", 12, 7, r, eps=0.2, weights=True)
    case(f"ce_probs_{r}_unnormalized_c6", 10, 6, r, probs="unnormalized", weights=(r != "none"))
    case(f"ce_probs_{r}_n0_c5", 0, 5, r, eps=0.1, weights=True)
case("ce_probs_mean_signed_c9", 10, 9, "mean", probs="signed", eps=0.1)
case("ce_probs_none_signed_weights_c9", 10, 9, "none", probs="signed", weights=True)
case("ce_probs_mean_onehot_c10", 16, 10, "mean")
case("ce_probs_sum_onehot_weights_smoothing_c10", 16, 10, "sum", probs="onehot", eps=0.1, weights=True)
case("ce_probs_mean_sparse_c64", 8, 64, "mean", probs="sparse")
case("ce_probs_mean_smoothing_1_c5", 8, 5, "mean", eps=1.0, weights=True)

# class counts: one class, two, the block-per-row paths (> 1024, > 16384)
case("ce_probs_mean_c1", 6, 1, "mean")
case("ce_probs_none_weights_c1", 6, 1, "none", probs="unnormalized", weights=True)
case("ce_probs_sum_c2", 9, 2, "sum", eps=0.05)
case("ce_probs_mean_weights_smoothing_c1025", 3, 1025, "mean", eps=0.1, weights=True, quantize=16)
case("ce_probs_none_c4097", 2, 4097, "none", quantize=16, probs="unnormalized")
case("ce_probs_sum_smoothing_c20000", 1, 20000, "sum", eps=0.1, quantize=8, probs="sparse")
case("ce_probs_mean_n1000_c10", 1000, 10, "mean", eps=0.1, quantize=16, probs="unnormalized")

# non-finite and huge logits
case("ce_probs_none_neginf_c5", 4, 5, "none", edit=neginf_zero_target)
case("ce_probs_sum_neginf_c5", 4, 5, "sum", edit=neginf_zero_target)
case("ce_probs_mean_logits_1e4_c5", 6, 5, "mean", edit=big_magnitude)
case("ce_probs_none_masked_c5", 4, 5, "none", edit=masked)
case("ce_probs_sum_masked_smoothing_c70", 4, 70, "sum", eps=0.1, edit=masked)
case("ce_probs_none_weights_smoothing_logits_1e4_c5", 6, 5, "none", eps=0.1, weights=True, edit=big_magnitude)

# PyTorch's unbatched input: one row [C], target_probs [C] (a none loss [], the gradient [C])
for r in REDS:
    case(f"ce_probs_{r}_unbatched_c7", 1, 7, r, eps=0.1, weights=True, unbatched=True)

# [N, C, d1..dk] logits with target_probs of the same shape (class dimension 1, as PyTorch): the
# N * d1 * ... * dk rows laid out so (spatial = (N, [d1..dk])), checked against F.cross_entropy on
# the spatial tensors themselves
for r in REDS:
    case(f"ce_probs_{r}_spatial_2x5x3x4", 24, 5, r, eps=0.1, weights=True, probs="unnormalized", spatial=(2, [3, 4]))
case("ce_probs_mean_spatial_3x7x11", 33, 7, "mean", spatial=(3, [11]))
case("ce_probs_none_spatial_2x3x2x2x3_signed", 24, 3, "none", probs="signed", spatial=(2, [2, 2, 3]))
case("ce_probs_sum_spatial_2x1030x3", 6, 1030, "sum", probs="sparse", quantize=16, spatial=(2, [3]))
case("ce_probs_mean_spatial_4x3x1_onehot", 4, 3, "mean", probs="onehot", spatial=(4, [1]))
case("ce_probs_none_spatial_0x4x5", 0, 4, "none", spatial=(0, [5]))
case("ce_probs_none_spatial_2x3x0", 0, 3, "none", spatial=(2, [0]))
case("ce_probs_sum_spatial_2x3x0", 0, 3, "sum", weights=True, spatial=(2, [0]))


def build(spec):
    rng = case_rng(spec)
    n, c = spec["n"], spec["c"]
    x = (rng.standard_normal((n, c)) * spec["scale"]).astype(np.float32)
    if spec["quantize"]:
        x = on_grid(x, spec["quantize"]).astype(np.float32)
    t = draw_probs(spec["probs"], rng, n, c)
    w = None
    if spec["weights"]:
        w = on_grid(rng.uniform(0.25, 2.0, size=c), 16).astype(np.float32)
    if spec["edit"] is not None:
        x, t = spec["edit"](x.copy(), t.copy())
        x, t = np.asarray(x, dtype=np.float32), np.asarray(t, dtype=np.float32)
    return x, t, w, draw_grad_output(rng, spec["reduction"], n)


def reference(x, t, w, eps, reduction, grad_output):
    """The explicit formula (module docstring) in float64, autograd for the gradient."""
    xl = leaf(x)
    n, c = xl.shape
    tt = torch.tensor(t, dtype=torch.float64)
    ww = torch.tensor(w, dtype=torch.float64) if w is not None else torch.ones(c)
    a = ww * ((1.0 - eps) * tt + eps / c)
    row = -(a * log_softmax_rows(xl)).sum(dim=1)
    loss, upstream = reduce_rows(row, reduction, n, grad_output)
    loss.backward(upstream)
    return loss.detach().numpy(), grad_of(xl).numpy()


def pytorch(x, t, w, eps, reduction, grad_output, shape=None):
    xl = leaf(x if shape is None else x.reshape(shape))
    tt = torch.tensor(t if shape is None else t.reshape(shape), dtype=torch.float64)
    ww = torch.tensor(w, dtype=torch.float64) if w is not None else None
    loss = F.cross_entropy(xl, tt, weight=ww, reduction=reduction, label_smoothing=eps)
    loss.backward(upstream_of(reduction, loss.shape, grad_output))
    return loss.detach().numpy(), grad_of(xl).numpy()


def run_case(spec):
    x, t, w, g = build(spec)
    n, c = x.shape
    r, e = spec["reduction"], spec["eps"]
    args = (x.astype(np.float64), t.astype(np.float64), None if w is None else w.astype(np.float64), e, r,
            None if g is None else g.astype(np.float64))
    loss, grad = reference(*args)
    note = None
    if r == "mean" and n == 0:
        note = "PyTorch's mean over no rows is NaN: culoss gives 0 (documented deviation)"
    else:
        tl, tg = pytorch(*args)
        if not (close(loss, tl) and close(grad, tg)):
            fail_loss_grad(spec["name"], loss, tl, grad, tg)
    if spec["unbatched"]:
        tl, tg = pytorch(*args[:5], None if g is None else args[5].reshape(()), shape=(c,))
        if not (close(np.reshape(loss, -1), np.reshape(tl, -1)) and close(grad[0], tg)):
            fail_loss_grad(spec["name"] + " unbatched", loss, tl, grad, tg)

    params = {"reduction": r, "label_smoothing": e, "ignore_index": None}
    inputs = {"logits": tensor(x, num_in), "target_probs": tensor(t, num_in)}
    if w is not None:
        inputs["class_weights"] = tensor(w, num_in)
    expected = {"loss": tensor(loss, num_out), "grad_logits": tensor(grad, num_out)}
    out = make_case(LOSS, spec["name"], params, inputs, expected, g)
    if spec["unbatched"]:
        out = unbatched(out, {"logits", "target_probs", "grad_logits"})
    if spec["spatial"]:
        out = spatial(out, spec["spatial"], args, loss, grad, n == 0 and r == "mean")
    return out, note


def spatial(out, layout, args, loss, grad, no_mean):
    """The case of N * inner rows as [N, C, d1..dk] logits and target_probs, checked against
    F.cross_entropy on the spatial tensors."""
    nb, dims = layout
    x, t, w, e, r, g = args
    c = x.shape[1]
    xs, ts = to_spatial(x, nb, dims), to_spatial(t, nb, dims)
    gs = None if g is None else g.reshape([nb] + dims)
    if not no_mean:
        tl, tg = pytorch(xs, ts, w, e, r, gs)
        if not (close(np.reshape(loss, -1), np.reshape(tl, -1)) and close(to_spatial(grad, nb, dims), tg)):
            fail_loss_grad("spatial", loss, tl, grad, tg)
    res = dict(out, inputs=dict(out["inputs"]), expected=dict(out["expected"]))
    shape = [nb, c] + dims

    def moved(key, values, section, fmt):
        res[section][key] = tensor(np.asarray(to_spatial(values, nb, dims)).reshape(shape), fmt)
    moved("logits", x.astype(np.float32), "inputs", num_in)
    moved("target_probs", t.astype(np.float32), "inputs", num_in)
    res["expected"]["grad_logits"] = dict(out["expected"]["grad_logits"], shape=shape,
                                          data=tensor(to_spatial(grad, nb, dims).reshape(shape), num_out)["data"])
    if g is not None:
        res["inputs"]["grad_output"] = dict(out["inputs"]["grad_output"], shape=[nb] + dims)
        res["expected"]["loss"] = dict(out["expected"]["loss"], shape=[nb] + dims)
    return res


def check_file(path):
    d = check_common(path, LOSS, {"reduction", "label_smoothing", "ignore_index"})
    assert d["params"]["ignore_index"] is None
    shape = d["inputs"]["logits"]["shape"]
    assert d["inputs"]["target_probs"]["shape"] == shape
    assert "targets" not in d["inputs"]
    assert d["expected"]["grad_logits"]["shape"] == shape
    check_reduction(d, shape[:-1] if len(shape) <= 2 else [shape[0]] + shape[2:])
    if "class_weights" in d["inputs"]:
        assert d["inputs"]["class_weights"]["shape"] == [shape[-1] if len(shape) <= 2 else shape[1]]


def main():
    write_cases(OUT_DIR, CASES, run_case, check_file)


if __name__ == "__main__":
    main()

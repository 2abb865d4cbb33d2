#!/usr/bin/python3
"""Reference vectors for center (center loss, Wen et al., ECCV 2016), in the case format of
conformance/FORMAT.md.

Run:  /usr/bin/python3 conformance/make_center.py
Needs Debian's python3-torch (PyTorch 1.13) and numpy; nothing else.

Semantics (culoss.h):
  loss_i = lambda/2 * ||x_i - c_{y_i}||^2; none: per row; sum; mean: sum / N (N = 0 gives 0)
  grad_features = dL/dx (autograd), grad_centers = dL/dc (autograd; an extra expected tensor,
  for callers who move the centers with their own optimizer)
  centers_after_update: c_j - alpha * sum_{y_i = j} (c_j - x_i) / (1 + n_j); classes without
  samples unchanged; independent of lambda and of the reduction.

Expected values come from an explicit float64 implementation (a loop over the rows for the loss,
autograd for the gradients, a loop over the classes for the update), cross-checked to 1e-12
against a straightforward PyTorch center-loss module written below in the usual way
(index_select for the forward, index_add_ and bincount for the update), except where culoss
deviates on purpose:
  * mean with N = 0: culoss gives loss 0, the module (torch.mean of nothing) NaN.
"""
import os

import numpy as np
import torch

from case_io import (case_rng, check_common, check_reduction, close, draw_grad_output, fail, int_tensor, make_case,
                     num_in, num_out, on_grid, tensor, write_cases)
from torch_ref import grad_of, leaf, reduce_rows, upstream_of

LOSS = "center"
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), LOSS)

torch.set_default_dtype(torch.float64)


# ---------------------------------------------------------------- reference

def reference(x, y, centers, lam, alpha, reduction, grad_output):
    """Explicit float64: a loop over the rows, autograd for the gradients, a loop for the update."""
    xt, ct = leaf(x), leaf(centers)
    n, d = x.shape
    rows = []
    for i in range(n):
        diff = xt[i] - ct[int(y[i])]
        rows.append(lam / 2.0 * (diff * diff).sum())
    row = torch.stack(rows) if rows else torch.zeros(0)
    loss, upstream = reduce_rows(row, reduction, n, grad_output)  # mean: sum / N (N = 0: 0)
    if n > 0:
        loss.backward(upstream)
    gx, gc = grad_of(xt), grad_of(ct)

    new = np.array(centers, dtype=np.float64)
    for j in range(centers.shape[0]):
        members = [i for i in range(n) if y[i] == j]
        if not members:
            continue
        s = np.zeros(d)
        for i in members:
            s += centers[j].astype(np.float64) - x[i].astype(np.float64)
        new[j] = centers[j].astype(np.float64) - alpha * s / (1 + len(members))
    return loss.detach().numpy(), gx.numpy(), gc.numpy(), new


class TorchCenterLoss(torch.nn.Module):
    """The usual PyTorch center loss (centers as a parameter, the paper's update by hand)."""

    def __init__(self, centers, lam, alpha, reduction):
        super().__init__()
        self.centers = torch.nn.Parameter(torch.tensor(centers, dtype=torch.float64))
        self.lam, self.alpha, self.reduction = lam, alpha, reduction

    def forward(self, x, labels):
        c = self.centers.index_select(0, labels)
        row = self.lam / 2 * (x - c).pow(2).sum(dim=1)
        if self.reduction == "none":
            return row
        if self.reduction == "sum":
            return row.sum()
        return row.mean()

    @torch.no_grad()
    def update_centers(self, x, labels):
        c = self.centers
        delta = torch.zeros_like(c).index_add_(0, labels, c.index_select(0, labels) - x)
        counts = torch.bincount(labels, minlength=c.shape[0]).to(c.dtype)
        c -= self.alpha * delta / (1 + counts)[:, None]


def pytorch(x, y, centers, lam, alpha, reduction, grad_output):
    m = TorchCenterLoss(centers, lam, alpha, reduction)
    xt = leaf(x)
    labels = torch.tensor(y, dtype=torch.int64)
    loss = m(xt, labels)
    n = x.shape[0]
    if n > 0:
        loss.backward(upstream_of(reduction, n, grad_output))
    gx, gc = grad_of(xt), grad_of(m.centers)
    m.update_centers(xt.detach(), labels)
    return loss.detach().numpy(), gx.numpy(), gc.detach().numpy(), m.centers.detach().numpy()


# ---------------------------------------------------------------- cases

CASES = []


def case(name, n, d, c, reduction="mean", lam=1.0, alpha=0.5, labels="random", quantize=None):
    CASES.append(dict(name=name, n=n, d=d, c=c, reduction=reduction, lam=lam, alpha=alpha, labels=labels,
                      quantize=quantize))


def build(spec):
    rng = case_rng(spec)
    n, d, c = spec["n"], spec["d"], spec["c"]
    x = rng.standard_normal((n, d))
    centers = 0.5 * rng.standard_normal((c, d))
    if spec["quantize"]:
        x, centers = on_grid(x, spec["quantize"]), on_grid(centers, spec["quantize"])
    x = x.astype(np.float32)
    centers = centers.astype(np.float32)
    kind = spec["labels"]
    if kind == "random":
        y = rng.integers(0, c, size=n)
    elif kind == "one_class":
        y = np.full(n, c - 1, dtype=np.int64)
    elif kind == "even_only":  # the odd classes have no samples
        y = rng.integers(0, (c + 1) // 2, size=n) * 2
    elif kind == "few":  # a few big classes, most classes empty
        y = rng.choice(np.array([0, c // 3, c - 1]), size=n)
    else:
        raise ValueError(kind)
    return x, y.astype(np.int64), centers, draw_grad_output(rng, spec["reduction"], n)


REDS = ("none", "sum", "mean")

for r in REDS:
    case(f"center_{r}_plain_d4_c5", 12, 4, 5, r)
    case(f"center_{r}_d1_c3", 9, 1, 3, r)
    case(f"center_{r}_d3_c4_absent_classes", 10, 3, 7, r, labels="even_only")
    case(f"center_{r}_d7_one_class", 11, 7, 4, r, labels="one_class")
    case(f"center_{r}_c1_d6", 8, 6, 1, r)
    case(f"center_{r}_n1_d5", 1, 5, 3, r)
    case(f"center_{r}_n0_d4", 0, 4, 3, r)
    case(f"center_{r}_lambda_0.01_alpha_0.3", 16, 8, 6, r, lam=0.01, alpha=0.3)

# options
case("center_mean_lambda_2.5_alpha_1", 10, 5, 4, "mean", lam=2.5, alpha=1.0)
case("center_sum_alpha_0", 10, 5, 4, "sum", alpha=0.0)
case("center_none_lambda_0", 6, 3, 2, "none", lam=0.0)

# bigger shapes, few classes holding many samples, D not a multiple of 4, many classes
case("center_mean_n400_d8_c10", 400, 8, 10, "mean", quantize=16)
case("center_sum_n40_d130_c9_few", 40, 130, 9, "sum", labels="few", quantize=8)
case("center_mean_n2000_d2_one_class", 2000, 2, 10, "mean", labels="one_class", quantize=16)
case("center_none_n100_d3_c1000", 100, 3, 1000, "none", quantize=16)
case("center_mean_n24_d256_c4", 24, 256, 4, "mean", quantize=8)


def run_case(spec):
    x, y, centers, g = build(spec)
    r, lam, alpha = spec["reduction"], spec["lam"], spec["alpha"]
    args = (x, y, centers, lam, alpha, r, None if g is None else g.astype(np.float64))
    loss, gx, gc, new = reference(*args)
    tl, tgx, tgc, tnew = pytorch(*args)
    note = None
    n = x.shape[0]
    if r == "mean" and n == 0:
        assert np.isnan(tl), tl
        note = f"PyTorch mean over no rows gives {float(tl)}: culoss gives 0 (documented deviation)"
        ok = close(gx, tgx) and close(gc, tgc) and close(new, tnew)
    else:
        ok = close(loss, tl) and close(gx, tgx) and close(gc, tgc) and close(new, tnew)
    if not ok:
        fail(f"{spec['name']}: loss {loss} vs {tl}")

    inputs = {"features": tensor(x, num_in), "labels": int_tensor(y), "centers": tensor(centers, num_in)}
    expected = {
        "loss": tensor(loss, num_out),
        "grad_features": tensor(gx, num_out),
        "centers_after_update": tensor(new, num_out),
        "grad_centers": tensor(gc, num_out),
    }
    params = {"lambda": lam, "alpha": alpha, "reduction": r}
    return make_case(LOSS, spec["name"], params, inputs, expected, g), note


def check_file(path):
    d = check_common(path, LOSS, {"lambda", "alpha", "reduction"})
    n, dim = d["inputs"]["features"]["shape"]
    c, dim2 = d["inputs"]["centers"]["shape"]
    assert dim == dim2
    assert d["inputs"]["labels"]["shape"] == [n]
    assert all(isinstance(v, int) and 0 <= v < c for v in d["inputs"]["labels"]["data"])
    assert d["expected"]["grad_features"]["shape"] == [n, dim]
    assert d["expected"]["grad_centers"]["shape"] == [c, dim]
    assert d["expected"]["centers_after_update"]["shape"] == [c, dim]
    check_reduction(d, [n])


def main():
    write_cases(OUT_DIR, CASES, run_case, check_file)


if __name__ == "__main__":
    main()

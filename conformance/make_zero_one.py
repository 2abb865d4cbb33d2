#!/usr/bin/python3
"""Reference vectors for zero_one (the 0-1 loss, a metric), in the case format of
conformance/FORMAT.md.

Run:  /usr/bin/python3 conformance/make_zero_one.py
Needs Debian's python3-torch (PyTorch 1.13) and numpy; nothing else.

Semantics, for scores x [N, C] and targets y [N] in [0, C): loss_i = 1 where torch.argmax(x_i) !=
y_i, else 0 (torch.argmax: the first index of the largest score, a NaN above every number); sum
counts the errors, mean is the error rate (0 for no rows, where a PyTorch mean of nothing is NaN).
Forward only: a case expects the loss and no gradient. The expected values are torch.argmax's
comparison itself, and each case is checked against a plain Python argmax with the same rule.
"""
import math
import os

import numpy as np
import torch

from case_io import case_rng, check_common, int_tensor, make_case, num_in, num_out, on_grid, tensor, \
    write_cases

LOSS = "zero_one"


def make_cases():
    cases = []

    def case(name, n, c, reduction, quantize=4, edit=None):
        cases.append(dict(name=name, n=n, c=c, reduction=reduction, quantize=quantize, edit=edit))

    for r in ("none", "sum", "mean"):
        case(f"zero_one_{r}_64x10", 64, 10, r)
        case(f"zero_one_{r}_n0", 0, 4, r)
        case(f"zero_one_{r}_ties_and_non_finite", 6, 5, r, edit="ties")
    case("zero_one_mean_unquantized_100x37", 100, 37, "mean", quantize=None)
    case("zero_one_sum_one_class_5x1", 5, 1, "sum")
    case("zero_one_mean_3x1024", 3, 1024, "mean")
    case("zero_one_none_4x1025_ties", 4, 1025, "none", quantize=1, edit="wide_ties")
    case("zero_one_sum_2x1536", 2, 1536, "sum")
    return cases


def edit_ties(x, y):
    """Row 0: a tie for the largest (the first index wins); 1: all -inf (argmax 0); 2: a NaN (it
    wins, the first NaN); 3: two +inf; 4: NaN and +inf; 5: a tie at the target's index and after."""
    x[0] = [1.0, 3.0, 3.0, 0.0, -1.0]
    x[1] = [-math.inf] * 5
    x[2] = [1.0, 9.0, math.nan, 2.0, math.nan]
    x[3] = [0.0, math.inf, 1.0, math.inf, 2.0]
    x[4] = [math.inf, 0.0, 1.0, math.nan, 2.0]
    x[5] = [0.5, 2.0, 0.0, 2.0, 2.0]
    y[:] = [2, 0, 2, 3, 0, 1]
    return x, y


def edit_wide_ties(x, y):
    """Wide rows of small integers (many ties); row 1's largest value first appears at 1024, the
    last class of the first 1024; row 2's first and last classes tie; row 3 is constant."""
    x[1, :] = 0.0
    x[1, 1024] = 5.0
    x[1, 1023] = 4.0
    x[2, :] = 0.0
    x[2, 0] = x[2, -1] = 3.0
    x[3, :] = 7.0
    y[:] = [int(np.argmax(x[0])), 1024, 1024, 0]
    return x, y


EDITS = {"ties": edit_ties, "wide_ties": edit_wide_ties}


def build(spec):
    rng = case_rng(spec)
    n, c = spec["n"], spec["c"]
    x = rng.standard_normal((n, c)) * 2
    if spec["quantize"]:
        x = on_grid(x, spec["quantize"])
    x = x.astype(np.float32)
    y = rng.integers(0, c, size=n)
    # about half the rows right: their target is their argmax
    right = rng.uniform(size=n) < 0.5
    if n:
        y = np.where(right, torch.argmax(torch.tensor(x), dim=1).numpy(), y)
    if spec["edit"]:
        x, y = EDITS[spec["edit"]](x, y)
    return x, y


def plain_argmax(row):
    """The first NaN, else the first index of the largest value."""
    for j, v in enumerate(row):
        if math.isnan(v):
            return j
    best = 0
    for j, v in enumerate(row):
        if v > row[best]:
            best = j
    return best


def run_case(spec):
    x, y = build(spec)
    r, n = spec["reduction"], spec["n"]
    rows = (torch.argmax(torch.tensor(x, dtype=torch.float64), dim=1) != torch.tensor(y)).double() if n else \
        torch.zeros(0, dtype=torch.float64)
    plain = [float(plain_argmax([float(v) for v in x[i]]) != y[i]) for i in range(n)]
    assert rows.tolist() == plain, spec["name"]
    if r == "none":
        loss = rows.numpy()
    elif r == "sum":
        loss = np.float64(rows.sum())
    else:
        loss = np.float64(rows.sum() / n if n else 0.0)
    inputs = {"scores": tensor(x, num_in), "targets": int_tensor(y)}
    note = "a PyTorch mean of no rows is NaN: culoss gives 0" if r == "mean" and n == 0 else None
    return make_case(LOSS, spec["name"], {"reduction": r}, inputs, {"loss": tensor(loss, num_out)}), note


def check_file(path):
    d = check_common(path, LOSS, {"reduction"})
    n, c = d["inputs"]["scores"]["shape"]
    assert d["inputs"]["targets"]["shape"] == [n] and set(d["expected"]) == {"loss"}
    assert all(0 <= t < c for t in d["inputs"]["targets"]["data"])
    red = d["params"]["reduction"]
    assert "grad_output" not in d["inputs"]  # no gradient, so no upstream gradient
    assert d["expected"]["loss"]["shape"] == ([n] if red == "none" else [])
    assert red != "none" or all(v in (0.0, 1.0) for v in d["expected"]["loss"]["data"])


if __name__ == "__main__":
    write_cases(os.path.join(os.path.dirname(os.path.abspath(__file__)), LOSS), make_cases(), run_case, check_file)

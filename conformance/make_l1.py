#!/usr/bin/python3
"""Reference vectors for l1, in the case format of conformance/FORMAT.md.

Run:  /usr/bin/python3 conformance/make_l1.py
Needs Debian's python3-torch (PyTorch 1.13) and numpy; nothing else.

Semantics, with d = input - target: loss = |d|, gradient sign(d) (0 at d = 0, as torch.sign),
inputs of any shape (the same for both). Expected values come from autograd on that formula in
float64, and each case is cross-checked against F.l1_loss (float64) to 1e-12, except the mean of
no elements (N = 0): culoss gives 0, PyTorch NaN (difference_loss.py).
"""
import os

import torch
import torch.nn.functional as F

from case_io import write_cases
from difference_loss import check, run, spec

torch.set_default_dtype(torch.float64)
LOSS = "l1"


def make_cases():
    cases = []
    for r in ("none", "sum", "mean"):
        cases.append(spec(f"l1_{r}_n37", [37], r))
        cases.append(spec(f"l1_{r}_n0", [0], r))
        cases.append(spec(f"l1_{r}_some_equal_n24", [24], r, equal=0.3))  # d = 0: loss 0, gradient 0
    cases.append(spec("l1_mean_n1", [1], "mean"))
    cases.append(spec("l1_sum_n4099", [4099], "sum", quantize=16))
    cases.append(spec("l1_mean_n2048_unquantized", [2048], "mean", quantize=None))
    cases.append(spec("l1_none_large_differences", [16], "none", scale=1e4, dscale=1e3))
    cases.append(spec("l1_none_shape_4x5", [4, 5], "none"))
    cases.append(spec("l1_mean_shape_2x3x4", [2, 3, 4], "mean"))
    cases.append(spec("l1_sum_shape_3x1x2", [3, 1, 2], "sum"))
    return cases


if __name__ == "__main__":
    write_cases(os.path.join(os.path.dirname(os.path.abspath(__file__)), LOSS), make_cases(),
                lambda s: run(LOSS, s, lambda d: d.abs(), F.l1_loss), lambda p: check(p, LOSS))

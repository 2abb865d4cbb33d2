#!/usr/bin/python3
"""Reference vectors for exponential (AdaBoost's loss), in the case format of conformance/FORMAT.md.

Run:  /usr/bin/python3 conformance/make_exponential.py
Needs Debian's python3-torch (PyTorch 1.13) and numpy; nothing else.

Semantics, for scores s [N] and targets y in {-1, 1}: loss = exp(-y s), gradient -y exp(-y s).
Expected values come from autograd on that formula in float64. Every case's loss fits in a
float: the largest -y s here is 88 (exp(88) = 1.65e38); past 88.72 a float loss is inf, which a
float64 expectation cannot state.
"""
import os

import torch

from binary_margin import check, run
from case_io import write_cases

LOSS = "exponential"


def make_cases():
    cases = []

    def case(name, shape, reduction, **kw):
        cases.append(dict(name=name, shape=list(shape), reduction=reduction, **kw))

    for r in ("none", "sum", "mean"):
        case(f"exp_{r}_n37", [37], r)
        case(f"exp_{r}_n0", [0], r)
    case("exp_mean_n1", [1], "mean")
    case("exp_sum_n4099", [4099], "sum", quantize=16)
    case("exp_mean_n2048_unquantized", [2048], "mean", quantize=None)
    case("exp_none_wide_scores", [32], "none", scale=12.0)
    # near the float range: -y s up to 88, where the loss is 1.65e38 and the gradient as large
    big = [88.0, -88.0, 87.5, -80.0, 60.0, -88.0, 0.0, 1e-3]
    case("exp_none_near_float_max", [8], "none", scores=big, targets=[-1, 1, -1, 1, -1, 1, 1, -1])
    # their sum overflows a float (5.96e38), their mean does not
    case("exp_mean_near_float_max", [8], "mean", scores=[-s for s in big], targets=[1, -1, 1, 1, 1, -1, -1, 1])
    return cases


def run_case(spec):
    return run(LOSS, spec, lambda s, y: torch.exp(-y * s), {})


def check_file(path):
    check(path, LOSS, {"reduction"})


if __name__ == "__main__":
    write_cases(os.path.join(os.path.dirname(os.path.abspath(__file__)), LOSS), make_cases(), run_case, check_file)

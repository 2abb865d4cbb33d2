#!/usr/bin/python3
"""Reference vectors for hinge (the binary hinge loss), in the case format of conformance/FORMAT.md.

Run:  /usr/bin/python3 conformance/make_hinge.py
Needs Debian's python3-torch (PyTorch 1.13) and numpy; nothing else.

Semantics, for scores s [N], targets y in {-1, 1} and a margin m: loss = torch.clamp(m - y s,
min=0), gradient by autograd: -y where m - y s >= 0 (clamp passes the gradient at the kink),
else 0. Expected values come from autograd on that formula in float64.
"""
import os

import torch

from binary_margin import check, run
from case_io import write_cases

LOSS = "hinge"


def make_cases():
    cases = []

    def case(name, shape, reduction, margin=1.0, **kw):
        cases.append(dict(name=name, shape=list(shape), reduction=reduction, margin=margin, **kw))

    for r in ("none", "sum", "mean"):
        case(f"hinge_{r}_n37", [37], r)
        case(f"hinge_{r}_n0", [0], r)
        case(f"hinge_{r}_margin_half_n40", [40], r, margin=0.5)
    case("hinge_mean_margin2_n64", [64], "mean", margin=2.0)
    case("hinge_sum_margin0_n33", [33], "sum", margin=0.0)
    case("hinge_mean_negative_margin_n20", [20], "mean", margin=-0.75)
    case("hinge_mean_n1", [1], "mean")
    case("hinge_sum_n4099", [4099], "sum", quantize=16)
    case("hinge_mean_n2048_unquantized", [2048], "mean", quantize=None)
    # the kink, m - y s = 0 exactly: the gradient is -y there (torch.clamp's)
    case("hinge_none_at_the_kink", [6], "none", scores=[1.0, -1.0, 0.5, -0.5, 1.0, 2.0],
         targets=[1, -1, 1, -1, -1, 1])
    case("hinge_sum_at_the_kink_margin2", [4], "sum", margin=2.0, scores=[2.0, -2.0, 1.0, 3.0],
         targets=[1, -1, 1, 1])
    return cases


def run_case(spec):
    m = spec["margin"]
    return run(LOSS, spec, lambda s, y: torch.clamp(m - y * s, min=0), {"margin": m})


def check_file(path):
    check(path, LOSS, {"margin", "reduction"})


if __name__ == "__main__":
    write_cases(os.path.join(os.path.dirname(os.path.abspath(__file__)), LOSS), make_cases(), run_case, check_file)

#!/usr/bin/python3
"""Reference vectors for l1_penalty and l2_penalty (the regularizers of a training objective), in
the case format of conformance/FORMAT.md.

Run:  /usr/bin/python3 conformance/make_penalties.py
Needs Debian's python3-torch (PyTorch 1.13) and numpy; nothing else.

Semantics, for parameters w of any shape and a finite lambda (any sign):
    l1_penalty: loss = lambda * sum |w|,      grad_params = lambda * sign(w)   (sign(0) = sign(NaN) = 0,
                                                                               torch.sign's)
    l2_penalty: loss = lambda / 2 * sum w^2,  grad_params = lambda * w
The loss is one value ([]), with no reduction and no grad_output (the format's penalty takes
params alone; the C and Java APIs take an upstream gradient of that one value). Expected values come
from autograd in float64 on those expressions in torch ops (torch's abs passes sign(0) = 0), and
each case is cross-checked against the formula written out in numpy to 1e-12 of each tensor's norm.
"""
import os

import numpy as np
import torch

from case_io import (case_rng, check_common, close, fail_loss_grad, make_case, num_in, num_out, on_grid, tensor,
                     write_cases)
from torch_ref import grad_of, leaf

LOSSES = ("l1_penalty", "l2_penalty")


def make_cases():
    cases = []

    def case(loss, name, shape, lam, scale=1.0, quantize=16, zeros=0.0, edit=None, grad_output=None):
        cases.append(dict(loss=loss, name=name, shape=shape, lam=lam, scale=scale, quantize=quantize, zeros=zeros,
                          edit=edit, grad_output=grad_output))

    for loss in LOSSES:
        short = loss
        case(loss, f"{short}_7", [7], 0.5)
        case(loss, f"{short}_3x5_lambda_1e-4", [3, 5], 1e-4, quantize=None)
        case(loss, f"{short}_empty", [0], 0.5)
        case(loss, f"{short}_one", [1], 2.0)
        case(loss, f"{short}_zeros_and_signs_8x9", [8, 9], 0.25, zeros=0.3)
        case(loss, f"{short}_lambda_0_6", [6], 0.0)
        case(loss, f"{short}_negative_lambda_5x4", [5, 4], -0.75)
        # the kernel's tail (not a multiple of 4) and several blocks of partial sums
        case(loss, f"{short}_4x33x17", [4, 33, 17], 0.125, quantize=4)
        case(loss, f"{short}_20003", [20003], 0.5, quantize=1, scale=4.0)
        case(loss, f"{short}_non_finite", [6], 0.5, edit="non_finite")
    # w^2 overflows a float where lambda / 2 w^2 fits (the penalty is squared in double)
    case("l2_penalty", "l2_penalty_large_params", [4], 1e-12, edit="large")
    case("l1_penalty", "l1_penalty_large_params", [4], 1e-12, edit="large")
    return cases


def build(spec):
    rng = case_rng(spec)
    w = rng.standard_normal(spec["shape"]) * spec["scale"]
    if spec["quantize"]:
        w = on_grid(w, spec["quantize"])
    if spec["zeros"]:
        w = np.where(rng.uniform(size=w.shape) < spec["zeros"], 0.0, w)
        w.flat[0] = -0.0  # a negative zero: sign 0 as well
    if spec["edit"] == "non_finite":
        w = np.array([1.5, np.nan, -2.0, np.inf, -np.inf, 0.0])
    elif spec["edit"] == "large":
        w = np.array([3e20, -1e21, 2e22, -0.5])
    return np.asarray(w, dtype=np.float32)


def torch_reference(loss, w, lam, g):
    wt = leaf(w)
    if loss == "l1_penalty":
        value = lam * wt.abs().sum()
    else:
        value = lam / 2 * (wt * wt).sum()
    value.backward(torch.tensor(1.0 if g is None else g, dtype=torch.float64))
    return value.detach().numpy(), grad_of(wt).numpy()


def explicit(loss, w, lam, g):
    wd = w.astype(np.float64)
    up = 1.0 if g is None else g
    with np.errstate(invalid="ignore", over="ignore"):
        if loss == "l1_penalty":
            value = lam * np.sum(np.abs(wd))
            grad = up * lam * np.where(wd > 0, 1.0, np.where(wd < 0, -1.0, 0.0))  # torch.sign: 0 for NaN
        else:
            value = lam / 2 * np.sum(wd * wd)
            grad = up * lam * wd
    return np.float64(value), grad


def run_case(spec):
    loss, lam, g = spec["loss"], spec["lam"], spec["grad_output"]
    w = build(spec)
    value, grad = torch_reference(loss, w, lam, g)
    evalue, egrad = explicit(loss, w, lam, g)
    if not close(evalue, value) or not close(egrad, grad):
        fail_loss_grad(spec["name"], evalue, value, egrad, grad)
    inputs = {"params": tensor(w, num_in)}
    if g is not None:
        inputs["grad_output"] = tensor(np.float32(g), num_in)
    expected = {"loss": tensor(value, num_out), "grad_params": tensor(grad, num_out)}
    return make_case(loss, spec["name"], {"lambda": lam}, inputs, expected), None


def check_file(path):
    loss = os.path.basename(os.path.dirname(path))
    d = check_common(path, loss, {"lambda"})
    shape = d["inputs"]["params"]["shape"]
    assert set(d["inputs"]) == {"params"} and set(d["expected"]) == {"loss", "grad_params"}
    assert d["expected"]["loss"]["shape"] == [] and d["expected"]["grad_params"]["shape"] == shape


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    specs = make_cases()
    for loss in LOSSES:
        write_cases(os.path.join(here, loss), [s for s in specs if s["loss"] == loss], run_case, check_file)

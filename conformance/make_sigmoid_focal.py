#!/usr/bin/python3
"""Reference vectors for sigmoid_focal, in the case format of conformance/FORMAT.md.

Run:  /usr/bin/python3 conformance/make_sigmoid_focal.py
Needs Debian's python3-torch (PyTorch 1.13) and numpy; torchvision is not needed.

Semantics: torchvision.ops.sigmoid_focal_loss, elementwise over logits x and
targets t in [0, 1] (soft labels allowed):
    p = sigmoid(x), ce = BCE-with-logits(x, t), p_t = p t + (1 - p)(1 - t)
    loss = a_t * ce * (1 - p_t)^gamma,  a_t = alpha t + (1 - alpha)(1 - t) if alpha >= 0 else 1
reduced by none / mean (over all N*C elements) / sum.

Expected values come from autograd on an explicit, stable float64 formula:
    log p = -softplus(-x), log(1 - p) = -softplus(x)  (softplus written out, no overflow)
    ce = t softplus(-x) + (1 - t) softplus(x)
    log(1 - p_t) = logaddexp(log t + log(1 - p), log(1 - t) + log p)   (no 1 - p_t)
    (1 - p_t)^gamma = exp(gamma log(1 - p_t))
Each case is cross-checked element by element against torchvision's formula,
written out verbatim below (torchvision itself is not installed), run in float64:
loss and gradient must agree to 1e-12 (relative to the tensor's largest value)
wherever torchvision's result is finite and 1 - p_t >= 1e-6. Where they differ,
and why (the script prints a note per case):
  * 1 - p_t < 1e-6 (a confident, correct prediction): torchvision forms
    1 - p_t by subtraction and loses digits (at |x| = 30 about 3 of 16; at
    |x| >= 37, 1 - p_t is 0 and so are its loss and gradient). Those elements
    are checked to 4 (1 + gamma) 1.2e-16 / (1 - p_t) relative instead (the error
    of that subtraction), or to be 0 where ours is below 1e-15;
  * gamma < 1 and 1 - p_t = 0 in torchvision: its gradient is 0 * inf = NaN
    (or inf), ours is finite (the derivative of m^gamma is rewritten);
  * mean of no elements (N = 0): culoss gives 0, PyTorch NaN.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

from case_io import (RTOL, case_rng, check_common, check_reduction, close, draw_grad_output, fail, make_case, num_in,
                     num_out, on_grid, tensor, write_cases)
from torch_ref import grad_of, leaf, upstream_of

LOSS = "sigmoid_focal"
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), LOSS)

torch.set_default_dtype(torch.float64)


# ---------------------------------------------------------------- the two formulas, per element

def softplus(v):
    """log(1 + e^v) without overflow, with the right derivative at 0 (sigmoid(0) = 1/2):
    each branch sees only the inputs it is used for, so no inf leaks into the gradient."""
    pos = v > 0
    vp = torch.where(pos, v, torch.zeros_like(v))
    vn = torch.where(pos, torch.zeros_like(v), v)
    return torch.where(pos, vp + torch.log1p(torch.exp(-vp)), torch.log1p(torch.exp(vn)))


def ours(x, t, alpha, gamma):
    """Per-element loss, stable float64 formula."""
    sp_pos, sp_neg = softplus(x), softplus(-x)  # -log(1-p), -log p
    ce = t * sp_neg + (1 - t) * sp_pos
    log_t = torch.log(t)  # -inf at t = 0: logaddexp drops that term
    log_u = torch.log(1 - t)
    log_m = torch.logaddexp(log_t - sp_pos, log_u - sp_neg)
    loss = ce * torch.exp(gamma * log_m)
    if alpha >= 0:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    return loss, torch.exp(log_m)


def torchvision(x, t, alpha, gamma):
    """torchvision.ops.sigmoid_focal_loss, reduction 'none', verbatim."""
    inputs, targets = x, t
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return loss


def per_element(fn, x, t, alpha, gamma):
    """Loss and d loss / dx per element (the loss is elementwise: the Jacobian is diagonal)."""
    xx = leaf(x)
    tt = torch.tensor(t, dtype=torch.float64)
    out = fn(xx, tt, alpha, gamma)
    loss = out[0] if isinstance(out, tuple) else out
    loss.backward(torch.ones_like(loss))
    return loss.detach().numpy(), xx.grad.numpy(), (out[1].detach().numpy() if isinstance(out, tuple) else None)


def reduced(x, t, alpha, gamma, reduction, grad_output):
    """The expected outputs: ours, reduced, gradient by autograd through the reduction."""
    xx = leaf(x)
    tt = torch.tensor(t, dtype=torch.float64)
    loss, _ = ours(xx, tt, alpha, gamma)
    if reduction == "none":
        loss.backward(upstream_of(reduction, loss.shape, grad_output))
    else:
        if reduction == "sum":
            loss = loss.sum()
        elif loss.numel() > 0:
            loss = loss.mean()
        else:
            loss = loss.sum()  # culoss: the mean of nothing is 0 (PyTorch: NaN)
        loss.backward()
    return loss.detach().numpy(), grad_of(xx).numpy()


# ---------------------------------------------------------------- cases

CASES = []


def case(name, shape, reduction, alpha=0.25, gamma=2.0, x=None, t=None, scale=2.5, soft=0.5, quantize=None):
    CASES.append(dict(name=name, shape=shape, reduction=reduction, alpha=alpha, gamma=gamma, x=x, t=t,
                      scale=scale, soft=soft, quantize=quantize))


def build(spec):
    rng = case_rng(spec)
    shape = tuple(spec["shape"])
    if spec["x"] is not None:
        x = np.asarray(spec["x"], dtype=np.float32).reshape(shape)
    else:
        x = (rng.standard_normal(shape) * spec["scale"]).astype(np.float32)
        if spec["quantize"]:
            x = on_grid(x, spec["quantize"]).astype(np.float32)
    if spec["t"] is not None:
        t = np.asarray(spec["t"], dtype=np.float32).reshape(shape)
    else:
        t = (rng.uniform(size=shape) < 0.3).astype(np.float32)  # hard labels, mostly negatives
        soft = rng.uniform(size=shape) < spec["soft"]
        tq = np.round(rng.uniform(size=shape) * 64) / 64  # soft labels, multiples of 1/64
        t = np.where(soft, tq, t).astype(np.float32)
    return x, t, draw_grad_output(rng, spec["reduction"], shape, quantize=bool(spec["quantize"]))


REDS = ("none", "sum", "mean")
OPTIONS = (  # (tag, alpha, gamma)
    ("default", 0.25, 2.0),
    ("alpha_off_gamma0", -1.0, 0.0),   # plain binary cross-entropy
    ("gamma_half", 0.25, 0.5),
    ("alpha75_gamma1", 0.75, 1.0),
    ("alpha_off_gamma3_5", -1.0, 3.5),
    ("alpha1_gamma2", 1.0, 2.0),
)

for r in REDS:
    for tag, a, g in OPTIONS:
        case(f"sf_{r}_{tag}_8x5", [8, 5], r, a, g)

# hard labels only, soft labels only
case("sf_mean_hard_labels_16x3", [16, 3], "mean", soft=0.0)
case("sf_none_soft_labels_6x6", [6, 6], "none", soft=1.0, gamma=1.5)

# saturated logits: every sign x target x magnitude, for gamma 0, 1/2, 2 and alpha on/off
SAT_X, SAT_T = [], []
for mag in (17.0, 30.0, 37.0, 100.0, 1e4):
    for sign in (1.0, -1.0):
        for tv in (0.0, 1.0, 0.25, 0.75):
            SAT_X.append(sign * mag)
            SAT_T.append(tv)
for g in (0.0, 0.5, 2.0):
    for a in (-1.0, 0.25):
        gtag = str(g).replace(".", "_")
        atag = "off" if a < 0 else "25"
        case(f"sf_none_saturated_gamma{gtag}_alpha{atag}", [len(SAT_X)], "none", a, g, x=SAT_X, t=SAT_T)
case("sf_mean_saturated_gamma0_5", [len(SAT_X)], "mean", 0.25, 0.5, x=SAT_X, t=SAT_T)
case("sf_sum_saturated_gamma2", [len(SAT_X)], "sum", 0.25, 2.0, x=SAT_X, t=SAT_T)
# zero logits and tiny ones, where both sign branches meet
case("sf_none_zero_and_tiny_logits", [2, 4], "none", 0.25, 0.5,
     x=[0.0, -0.0, 1e-30, -1e-30, 1e-3, -1e-3, 1e-7, -1e-7], t=[0.5, 0.25, 1.0, 0.0, 0.75, 0.0, 1.0, 1.0])

# counts: one element, not a multiple of 4, none at all
case("sf_sum_1x1", [1, 1], "sum")
case("sf_mean_3x7", [3, 7], "mean", gamma=0.5)
case("sf_none_5x3", [5, 3], "none", alpha=-1.0)
for r in REDS:
    case(f"sf_{r}_0x5", [0, 5], r)

# bigger shapes (quantized logits keep the files small)
case("sf_mean_64x128", [64, 128], "mean", quantize=16, scale=3.0)
case("sf_sum_33x65", [33, 65], "sum", gamma=0.5, quantize=16)
case("sf_none_17x61", [17, 61], "none", alpha=-1.0, gamma=1.0, quantize=16)


def check_torchvision(spec, x, t):
    """Element by element, ours against torchvision's verbatim formula. Returns a note or None."""
    a, g = spec["alpha"], spec["gamma"]
    ol, og, m = per_element(ours, x.astype(np.float64), t.astype(np.float64), a, g)
    with np.errstate(all="ignore"):
        tl, tg, _ = per_element(torchvision, x.astype(np.float64), t.astype(np.float64), a, g)
    if ol.size == 0:
        return None
    notes = []
    finite = np.isfinite(tl) & np.isfinite(tg)
    if not finite.all():
        bad = [f"x={float(v):g},t={float(w):g}" for v, w in zip(x.ravel()[~finite.ravel()], t.ravel()[~finite.ravel()])]
        notes.append(f"torchvision non-finite at {len(bad)} element(s) ({', '.join(bad[:4])}...); ours finite")
        assert np.isfinite(ol).all() and np.isfinite(og).all()
    exact = finite & (m >= 1e-6)
    for ours_v, tv_v, what in ((ol, tl, "loss"), (og, tg, "grad")):
        if exact.any() and not close(ours_v[exact], tv_v[exact], RTOL):
            fail(f"{spec['name']} {what}: {ours_v[exact]} vs torchvision {tv_v[exact]}")
        loose = finite & ~exact
        if loose.any():
            # torchvision's 1 - p_t is off by up to an ulp of 1 (1.1e-16), so relative error 1.1e-16 / m,
            # raised to gamma and used again in the gradient: allow 4 (1 + gamma) of that.
            err = np.abs(ours_v[loose] - tv_v[loose])
            with np.errstate(all="ignore"):  # m = 0 (|x| >= 745): the clause below decides
                ok = err <= (1e-12 + 4 * (1 + g) * 1.2e-16 / m[loose]) * np.abs(ours_v[loose]) + 1e-300
            # torchvision's 1 - p_t is 0 from |x| ~ 37: its loss/grad are 0 where ours are tiny
            ok |= (tv_v[loose] == 0) & (np.abs(ours_v[loose]) < 1e-15)
            if not ok.all():
                fail(f"{spec['name']} {what} (1 - p_t < 1e-6): {ours_v[loose][~ok]} vs "
                     f"torchvision {tv_v[loose][~ok]}")
    if (finite & ~exact).any():
        notes.append(f"{int((finite & ~exact).sum())} element(s) with 1 - p_t < 1e-6: torchvision's subtraction "
                     f"loses digits there (relative error about 1e-16 / (1 - p_t)), checked to that")
    return "; ".join(notes) or None


def run_case(spec):
    x, t, g = build(spec)
    r = spec["reduction"]
    note = check_torchvision(spec, x, t)
    loss, grad = reduced(x.astype(np.float64), t.astype(np.float64), spec["alpha"], spec["gamma"], r,
                         None if g is None else g.astype(np.float64))
    if r == "mean" and x.size == 0:
        note = "PyTorch's mean of no elements is NaN: culoss gives 0 (documented deviation)"
    assert np.isfinite(loss).all() and np.isfinite(grad).all(), spec["name"]
    params = {"alpha": spec["alpha"], "gamma": spec["gamma"], "reduction": r}
    inputs = {"logits": tensor(x, num_in), "targets": tensor(t, num_in)}
    expected = {"loss": tensor(loss, num_out), "grad_logits": tensor(grad, num_out)}
    return make_case(LOSS, spec["name"], params, inputs, expected, g), note


def check_file(path):
    d = check_common(path, LOSS, {"alpha", "gamma", "reduction"})
    shape = d["inputs"]["logits"]["shape"]
    assert d["inputs"]["targets"]["shape"] == shape
    assert all(0.0 <= v <= 1.0 for v in d["inputs"]["targets"]["data"])
    assert d["expected"]["grad_logits"]["shape"] == shape
    check_reduction(d, shape)


def main():
    write_cases(OUT_DIR, CASES, run_case, check_file)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Reference vectors for softmax_focal, in the case format of conformance/FORMAT.md.

Run:  /usr/bin/python3 conformance/make_softmax_focal.py
Needs Debian's python3-torch (PyTorch 1.13) and numpy; nothing else.

culoss semantics (culoss.h): loss_i = -alpha_{y_i} (1 - p_{i,y_i})^gamma log p_{i,y_i},
p = softmax(row); alpha_y = class_alpha[y], or the scalar alpha for every class; rows whose
target is ignore_index count for nothing; mean = sum / number of counted rows (0, with a zero
gradient, when none counts).

Expected values: float64 autograd on an explicit formula (log-sum-exp written out). PyTorch has
no softmax focal loss of its own, so the "PyTorch side" is the widely used implementation
(AdeelH/pytorch-multi-class-focal-loss) written out verbatim from torch.nn.functional pieces:
NLLLoss(weight=alpha, reduction='none', ignore_index) on log_softmax, times (1 - p_t)^gamma,
then mean/sum over the rows that are not ignored. Both must agree to 1e-12, except where
culoss deviates on purpose (each such case prints a note):
  * gradients where autograd meets 0 * inf: gamma in (0, 1) with p_y = 1 exactly (C = 1, or a
    row whose other logits are 1e4 lower), and p_y = 0 (a -inf target logit). Autograd gives
    NaN there; culoss gives the limit (F -> 0 and F = alpha_y * 1, in the notation of
    d loss / d x_k = F (p_k - [k == y])). The expected gradient of those cases comes from that
    analytic formula, which the script checks against autograd on every case where autograd is
    finite;
  * reduction none: culoss gives one loss per row (0 for ignored rows); the implementation
    above returns only the rows that are not ignored (compared on those rows);
  * no row counts: both give 0 (the implementation returns a constant 0 without gradient).
Params are exactly FORMAT.md's (gamma, reduction, alpha) plus ignore_index (int or null) on the
cases that ignore rows; the ones without it ignore nothing.
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

from case_io import case_rng, check_common, close, draw_grad_output, fail_loss_grad, on_grid, unbatched, write_cases
from softmax_rows import (check_rows_file, check_spatial_file, draw_logits_targets, neginf_some, neginf_target, rows_case,
                          scaled_to_1e4, spatial_case, torch_targets)
from torch_ref import grad_of, leaf, log_softmax_rows, reduce_rows

LOSS = "softmax_focal"
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), LOSS)

torch.set_default_dtype(torch.float64)


# ---------------------------------------------------------------- reference

def alpha_vector(c, alpha, class_alpha):
    if alpha is None:
        return torch.tensor(class_alpha, dtype=torch.float64)
    return torch.full((c,), float(alpha), dtype=torch.float64)


def reference(logits, targets, alpha, class_alpha, gamma, ignore_index, reduction, grad_output):
    """culoss semantics in float64, explicit formula, autograd for the gradient."""
    x = leaf(logits)
    n, c = x.shape
    y = torch.tensor(targets, dtype=torch.int64).reshape(n)
    a = alpha_vector(c, alpha, class_alpha)
    counted = (y != ignore_index) if ignore_index is not None else torch.ones(n, dtype=torch.bool)
    ysafe = torch.where(counted, y, torch.zeros_like(y))
    logp = log_softmax_rows(x)
    # 1 - p_y as the sum of the other classes' probabilities, and log p_y = log1p(-q) for small
    # q: 1 - exp(log p_y) would cancel (relative error 1e-9 at p_y = 1 - 1e-7, even in float64).
    others = torch.ones(n, c, dtype=torch.bool)
    others[torch.arange(n), ysafe] = False
    q = torch.where(others, torch.exp(logp), torch.zeros_like(logp)).sum(dim=1)
    small = q < 0.5
    logp_y = torch.where(small, torch.log1p(-torch.where(small, q, torch.zeros_like(q))),
                         logp.gather(1, ysafe[:, None]).squeeze(1))
    row = -a[ysafe] * q ** gamma * logp_y
    row = torch.where(counted, row, torch.zeros_like(row))

    loss, upstream = reduce_rows(row, reduction, int(counted.sum()), grad_output)
    loss.backward(upstream)
    return loss.detach().numpy(), grad_of(x).numpy()


def analytic_grad(logits, targets, alpha, class_alpha, gamma, ignore_index, reduction, grad_output):
    """d loss / d x_k = up_i F (p_k - [k == y]), F = a_y (q^g - g p_y q^(g-1) log p_y), q = 1 - p_y,
    with F's limits where the formula is 0 * inf: q = 0 gives a_y [g == 0], p_y = 0 gives a_y."""
    x = np.asarray(logits, dtype=np.float64)
    n, c = x.shape
    a = alpha_vector(c, alpha, class_alpha).numpy()
    counted = [ignore_index is None or int(t) != ignore_index for t in targets]
    count = sum(counted)
    grad = np.zeros((n, c))
    for i in range(n):
        if not counted[i]:
            continue
        t = int(targets[i])
        m = np.max(x[i])
        lse = m + np.log(np.sum(np.exp(x[i] - m)))
        p = np.exp(x[i] - lse)
        q = float(np.sum(np.delete(p, t)))  # 1 - p_y without cancellation
        lp = np.log1p(-q) if q < 0.5 else x[i, t] - lse
        py = np.exp(lp)
        if q == 0:
            f = a[t] if gamma == 0 else 0.0
        elif py == 0:
            f = a[t] * q ** gamma
        else:
            f = a[t] * (q ** gamma - gamma * py * q ** (gamma - 1) * lp)
        up = 1.0
        if reduction == "none":
            up = float(grad_output[i])
        elif reduction == "mean":
            up = 1.0 / count
        grad[i] = up * f * p
        grad[i, t] = -up * f * q
    return grad


def pytorch(logits, targets, alpha, class_alpha, gamma, ignore_index, reduction, grad_output):
    """The common PyTorch implementation, verbatim (AdeelH FocalLoss.forward, 2-D input).
    Returns (loss, grad, mask of the rows it kept)."""
    x = leaf(logits)
    n, c = x.shape
    y, ii = torch_targets(targets, n, ignore_index)
    weight = alpha_vector(c, alpha, class_alpha)
    nll_loss = torch.nn.NLLLoss(weight=weight, reduction="none", ignore_index=ii)

    unignored_mask = y != ii
    y_kept = y[unignored_mask]
    if len(y_kept) == 0:
        return np.array(0.0), np.zeros((n, c)), unignored_mask.numpy()
    x_kept = x[unignored_mask]
    log_p = F.log_softmax(x_kept, dim=-1)
    ce = nll_loss(log_p, y_kept)
    all_rows = torch.arange(len(x_kept))
    log_pt = log_p[all_rows, y_kept]
    pt = log_pt.exp()
    focal_term = (1 - pt) ** gamma
    loss = focal_term * ce
    if reduction == "mean":
        loss = loss.mean()
    elif reduction == "sum":
        loss = loss.sum()

    if reduction == "none":
        up = torch.tensor(grad_output, dtype=torch.float64).reshape(n)[unignored_mask]
    else:
        up = torch.tensor(1.0)
    loss.backward(up)
    return loss.detach().numpy(), x.grad.numpy(), unignored_mask.numpy()


# ---------------------------------------------------------------- cases

CASES = []


def case(name, n, c, reduction="mean", gamma=2.0, alpha=1.0, ignore_index="absent", n_ignored=0,
         logits=None, targets=None, class_alpha=None, quantize=None, edit=None, scale=2.0, pytorch_rtol=None,
         unbatched=False, spatial=None):
    """alpha None: per-class alpha (class_alpha given, or drawn). ignore_index "absent": no param.
    pytorch_rtol: a looser agreement with the PyTorch implementation, where its 1 - p_t cancels."""
    CASES.append(dict(name=name, n=n, c=c, reduction=reduction, gamma=gamma, alpha=alpha,
                      ignore_index=ignore_index, n_ignored=n_ignored, logits=logits, targets=targets,
                      class_alpha=class_alpha, quantize=quantize, edit=edit, scale=scale,
                      pytorch_rtol=pytorch_rtol, unbatched=unbatched, spatial=spatial))


def ignore_value(spec):
    return None if spec["ignore_index"] == "absent" else spec["ignore_index"]


def build(spec):
    rng = case_rng(spec)
    x, y = draw_logits_targets(spec, rng, ignore_value(spec))
    a = None
    if spec["alpha"] is None:
        if spec["class_alpha"] is not None:
            a = np.asarray(spec["class_alpha"], dtype=np.float32)
        else:
            a = on_grid(rng.uniform(0.25, 2.0, size=spec["c"]).astype(np.float32), 16).astype(np.float32)
    if spec["edit"] is not None:
        x, y = spec["edit"](x.copy(), y.copy())
        x = np.asarray(x, dtype=np.float32)
    return x, y, a, draw_grad_output(rng, spec["reduction"], spec["n"])


def big_magnitude(x, y):
    """Logits around +-1e4; row 0 is certain (p_y = 1 exactly: F = alpha_y [gamma == 0])."""
    x = scaled_to_1e4(x, y)
    x[0, :] = -1e4
    x[0, y[0]] = 1e4
    return x, y


def near_certain(x, y):
    """Each row's target ahead of the rest by ~16 (p_y ~ 1 - 1e-7 * (C-1)) up to ~8."""
    n, c = x.shape
    for i in range(n):
        x[i, :] = np.float32(-1.0) + np.float32(0.125) * np.arange(c, dtype=np.float32)
        x[i, y[i]] = np.float32(16.0 - i)
    return x, y


REDS = ("none", "sum", "mean")

# every reduction x {plain, scalar alpha, per-class alpha, ignore -100, ignore a real class, gammas}
for r in REDS:
    case(f"fl_{r}_plain_c5", 12, 5, r)
    case(f"fl_{r}_alpha025_c5", 12, 5, r, alpha=0.25)
    case(f"fl_{r}_class_alpha_c7", 12, 7, r, alpha=None)
    case(f"fl_{r}_class_alpha_ignore_index_c7", 12, 7, r, alpha=None, ignore_index=-100, n_ignored=4)
    case(f"fl_{r}_ignore_real_class_c5", 12, 5, r, ignore_index=2, n_ignored=3, alpha=None if r == "mean" else 0.5)
    case(f"fl_{r}_gamma0_class_alpha_c5", 12, 5, r, gamma=0.0, alpha=None)
    case(f"fl_{r}_gamma05_c5", 12, 5, r, gamma=0.5)
case("fl_sum_gamma35_c33", 16, 33, "sum", gamma=3.5, alpha=0.75)
case("fl_mean_gamma1_ignore_null_c6", 12, 6, "mean", gamma=1.0, ignore_index=None)
case("fl_mean_gamma0_equals_ce_count_c4", 10, 4, "mean", gamma=0.0, alpha=None, ignore_index=-100, n_ignored=3)

# near-certain rows (1 - p_y ~ 1e-7) with gamma in (0, 1)
case("fl_none_gamma05_near_certain_c3", 8, 3, "none", gamma=0.5, edit=near_certain, pytorch_rtol=1e-6)
case("fl_sum_gamma025_near_certain_c9", 8, 9, "sum", gamma=0.25, alpha=None, edit=near_certain, pytorch_rtol=1e-6)

# class counts
case("fl_mean_c1", 6, 1, "mean")
case("fl_sum_gamma05_c1", 6, 1, "sum", gamma=0.5)
case("fl_none_gamma0_c1", 4, 1, "none", gamma=0.0)
case("fl_sum_c2", 9, 2, "sum", alpha=None)
case("fl_none_c4097", 1, 4097, "none", quantize=16)
case("fl_sum_class_alpha_c4097", 2, 4097, "sum", gamma=1.5, alpha=None, quantize=16)

# row counts
case("fl_mean_n1_c7", 1, 7, "mean", alpha=None)
case("fl_none_n1_c7", 1, 7, "none", gamma=0.5)
for r in REDS:
    case(f"fl_{r}_n0_c5", 0, 5, r, alpha=None)
case("fl_mean_n500_c10", 500, 10, "mean", alpha=None, ignore_index=-100, n_ignored=50, quantize=16)

# non-finite and large logits
case("fl_mean_neginf_c7", 8, 7, "mean", edit=neginf_some)
case("fl_none_neginf_gamma05_c7", 8, 7, "none", gamma=0.5, alpha=None, edit=neginf_some)
case("fl_none_target_neginf_c7", 8, 7, "none", edit=neginf_target)
case("fl_sum_target_neginf_gamma05_c7", 8, 7, "sum", gamma=0.5, edit=neginf_target)
# (x - lse at |x| ~ 1e4 carries float64 rounding of ~2e-12: PyTorch's side compared to 1e-10)
case("fl_mean_logits_1e4_c5", 8, 5, "mean", edit=big_magnitude, pytorch_rtol=1e-10)
case("fl_none_logits_1e4_gamma05_c5", 8, 5, "none", gamma=0.5, alpha=None, edit=big_magnitude, pytorch_rtol=1e-10)

# all rows ignored
for r in REDS:
    case(f"fl_{r}_all_ignored_c5", 6, 5, r, ignore_index=-100, n_ignored=6, alpha=None)
case("fl_mean_all_ignored_real_class_c3", 5, 3, "mean", ignore_index=1, n_ignored=5)
# one unbatched row [C] and a target [] (the same as one row of [1, C]; a none loss [])
case("fl_none_unbatched_c7", 1, 7, "none", gamma=1.5, alpha=None, unbatched=True)
case("fl_mean_unbatched_c9", 1, 9, "mean", unbatched=True)
# Logits [N, C, d1..dk], the class dimension second: the rows of a case of N * d1 * ... * dk rows laid
# out so (softmax_rows.spatial_case; the layout is checked against F.cross_entropy by the
# cross-entropy cases).
for r in REDS:
    case(f"fl_{r}_spatial_2x5x3x4", 24, 5, r, gamma=1.5, alpha=None, ignore_index=-100, n_ignored=5, spatial=(2, [3, 4]))
case("fl_mean_spatial_3x7x11", 33, 7, "mean", spatial=(3, [11]))
case("fl_sum_spatial_2x40x9_gamma05", 18, 40, "sum", gamma=0.5, alpha=0.25, spatial=(2, [9]))
case("fl_none_spatial_1x2x2x3", 6, 2, "none", ignore_index=1, n_ignored=2, spatial=(1, [2, 3]))


def run_case(spec):
    x, y, a, g = build(spec)
    n, c = x.shape
    r, gamma, alpha, ii = spec["reduction"], spec["gamma"], spec["alpha"], ignore_value(spec)
    args = (x.astype(np.float64), y, alpha, None if a is None else a.astype(np.float64), gamma, ii, r,
            None if g is None else g.astype(np.float64))
    loss, grad = reference(*args)
    analytic = analytic_grad(*args)
    tl, tg, kept = pytorch(*args)

    notes = []
    # The analytic gradient (with F's limits) agrees with autograd wherever autograd is finite;
    # where autograd is NaN (0 * inf), the limit is the expected value.
    finite = np.isfinite(grad)
    assert close(analytic[finite], grad[finite]), f"{spec['name']}: analytic gradient differs from autograd"
    if not finite.all():
        notes.append(f"{int((~finite).sum())} gradient entries are NaN by autograd (0 * inf); "
                     "expected: the analytic limit (documented deviation)")
        grad = analytic
    # PyTorch's side.
    tfinite = np.isfinite(tg)
    rtol = spec["pytorch_rtol"] or 1e-12
    if spec["pytorch_rtol"]:
        notes.append(f"rounding the PyTorch implementation cannot avoid (1 - p_t near p_t = 1, or x - lse at "
                     f"|x| ~ 1e4): compared to {rtol:g}")
    if r == "none":
        ok = close(tl, loss[kept], rtol) if kept.any() else True
    else:
        ok = close(tl, loss, rtol)
    ok = ok and close(tg[tfinite], grad[tfinite], rtol)
    if not tfinite.all():
        notes.append(f"the PyTorch implementation's gradient has {int((~tfinite).sum())} NaN entries (0 * inf); "
                     "expected: the limit, as the analytic formula gives (documented deviation)")
    if not ok:
        fail_loss_grad(spec["name"], loss, tl, grad, tg)
    if r == "none" and not kept.all():
        notes.append("reduction none: culoss gives 0 for the ignored rows, the PyTorch implementation drops them")

    params = {"gamma": gamma, "reduction": r, "alpha": alpha}
    if spec["ignore_index"] != "absent":
        params["ignore_index"] = ii
    class_alpha = None if a is None else ("class_alpha", a)
    out = rows_case(LOSS, spec, params, x, y, class_alpha, g, loss, grad)
    if spec["unbatched"]:
        out = unbatched(out, {"logits", "targets", "grad_logits"})
    if spec["spatial"]:
        out = spatial_case(out, spec["spatial"], x.shape)
    return out, "; ".join(notes) or None


def check_file(path):
    with open(path) as f:
        params = set(json.load(f)["params"])
    assert params in ({"gamma", "reduction", "alpha"}, {"gamma", "reduction", "alpha", "ignore_index"}), params
    d = check_common(path, LOSS, params)
    if len(d["inputs"]["logits"]["shape"]) >= 3:
        check_spatial_file(d)
    else:
        check_rows_file(d, "class_alpha")
    assert ("class_alpha" in d["inputs"]) == (d["params"]["alpha"] is None)


def main():
    write_cases(OUT_DIR, CASES, run_case, check_file)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""PyTorch's answers for NaN and infinite inputs, for NonFiniteInputsTest.

Run:  /usr/bin/python3 java/culoss/src/test/python/make_non_finite.py
Writes java/culoss/src/test/resources/org/culoss/non_finite.json. Needs PyTorch (1.13).

Each case is a loss with small inputs of which one element is NaN, +inf or -inf, and what float64
autograd gives for the loss and every gradient: torch.nn.functional's own losses where PyTorch has
one (cross_entropy, smooth_l1_loss, huber_loss, mse_loss, triplet_margin_loss), the documented
formula written in torch ops otherwise (softmax focal, sigmoid focal, center loss). The point is
where NaN lands: a NaN input must reach the gradient wherever PyTorch's autograd takes it, not be
turned into 0 by a comparison that is false for NaN.

Sigmoid focal is given NaN logits only: for infinite logits culoss deliberately departs from
torchvision's formula (which gives NaN where culoss's stable form is finite; SigmoidFocal.java).
Its targets outside [0, 1], infinite ones too, follow torchvision's formula.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

# The case format's number encoding ("nan", "inf", "-inf" as strings), from the reference cases' writer.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "..", "conformance"))
from case_io import num_in as num  # noqa: E402
from make_large_margin_softmax import torch_reference as lsm_reference  # noqa: E402  (the paper's acos form)

torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "org", "culoss", "non_finite.json")
BAD = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def leaf(values):
    return torch.tensor(values).requires_grad_(True)


def grads(loss, upstream, named):
    loss.backward(upstream)
    return {name: [num(v) for v in (t.grad if t.grad is not None else torch.zeros_like(t)).flatten().tolist()]
            for name, t in named.items()}


def case(loss, what, params, inputs, expected_loss, expected_grads):
    return {"loss": loss, "name": f"{loss} {what}", "params": params,
            "inputs": {k: {"shape": list(v[0]), "data": [num(x) for x in v[1]]} for k, v in inputs.items()},
            "expected": dict({"loss": [num(v) for v in expected_loss.detach().flatten().tolist()]}, **expected_grads)}


def spoiled(values, bad):
    out = list(values)
    out[0] = BAD[bad]
    return out


# ---------------------------------------------------------------- the losses

LOGITS = [0.5, -1.0, 2.0, 0.25, -0.5, 1.5, 0.0, 1.0]  # 2 rows of 4 classes
LABELS = [2, 1]


def softmax_rows(focal, x_values, upstream=None):
    """reduction sum, or none with the upstream gradient `upstream` (one value per row)."""
    x = leaf(x_values)
    xv = x.view(2, 4)
    y = torch.tensor(LABELS)
    if focal:  # alpha 1, gamma 2: -(1 - p_y)^2 log p_y
        logp = F.log_softmax(xv, dim=1).gather(1, y[:, None])[:, 0]
        loss = -(1 - logp.exp()) ** 2 * logp
    else:
        loss = F.cross_entropy(xv, y, reduction="none")
    if upstream is None:
        loss = loss.sum()
        return loss, grads(loss, None, {"grad_logits": x})
    return loss, grads(loss, torch.tensor(upstream), {"grad_logits": x})


def interclass_distance(x_values, upstream=None):
    """Cross-entropy of 2 rows of 4 times (|argmax - y| + 1) / M_y, the weight held constant:
    reduction sum, or none with `upstream`."""
    x = leaf(x_values)
    xv = x.view(2, 4)
    y = torch.tensor(LABELS)
    k = torch.arange(4.0)
    m = ((y[:, None] - k[None, :]).abs() + 1).sum(dim=1)
    w = ((torch.argmax(xv.detach(), dim=1) - y).abs() + 1) / m
    loss = w * F.cross_entropy(xv, y, reduction="none")
    if upstream is None:
        loss = loss.sum()
        return loss, grads(loss, None, {"grad_logits": x})
    return loss, grads(loss, torch.tensor(upstream), {"grad_logits": x})


def multiclass_hinge(x_values, p, upstream=None):
    """F.multi_margin_loss (margin 1) of 2 rows of 4: reduction sum, or none with `upstream`."""
    x = leaf(x_values)
    loss = F.multi_margin_loss(x.view(2, 4), torch.tensor(LABELS), p=p,
                               reduction="sum" if upstream is None else "none")
    return loss, grads(loss, None if upstream is None else torch.tensor(upstream), {"grad_scores": x})


def elementwise(name, params, x_values, t_values):
    x, t = leaf(x_values), torch.tensor(t_values)
    if name == "smooth_l1":
        loss = F.smooth_l1_loss(x, t, reduction="sum", beta=params.get("beta", 1.0))
    elif name == "huber":
        loss = F.huber_loss(x, t, reduction="sum", delta=params.get("delta", 1.0))
    elif name == "mse":
        loss = F.mse_loss(x, t, reduction="sum")
    elif name == "l1":
        loss = F.l1_loss(x, t, reduction="sum")
    elif name == "exponential":
        loss = torch.exp(-t * x).sum()
    elif name == "logistic":
        loss = F.binary_cross_entropy_with_logits(x, t, pos_weight=torch.tensor([params.get("pos_weight", 1.0)]),
                                                  reduction="sum")
    elif name == "hinge":
        loss = torch.clamp(params.get("margin", 1.0) - t * x, min=0).sum()
    else:  # sigmoid focal, torchvision's formula; alpha 0.25, gamma 2
        p = torch.sigmoid(x)
        ce = F.binary_cross_entropy_with_logits(x, t, reduction="none")
        p_t = p * t + (1 - p) * (1 - t)
        a_t = 0.25 * t + 0.75 * (1 - t)
        loss = (a_t * ce * (1 - p_t) ** 2).sum()
    grad_name = {"sigmoid_focal": "grad_logits", "logistic": "grad_logits", "exponential": "grad_scores",
                 "hinge": "grad_scores"}.get(name, "grad_input")
    return loss, grads(loss, None, {grad_name: x})


def sigmoid_focal_any_target(alpha, gamma, x_values, t_values):
    """torchvision's formula, reduction none, upstream gradient 1 per element."""
    x, t = leaf(x_values), torch.tensor(t_values)
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    return loss, grads(loss, torch.ones_like(loss), {"grad_logits": x})


def center(f_values, c_values):
    # lambda 1: sum_i 1/2 ||x_i - c_{y_i}||^2, 2 rows of d = 3, 2 classes
    f, c = leaf(f_values), leaf(c_values)
    y = torch.tensor([1, 0])
    loss = 0.5 * ((f.view(2, 3) - c.view(2, 3)[y]) ** 2).sum()
    return loss, grads(loss, None, {"grad_features": f, "grad_centers": c})


ANCHOR = [0.5, -1.0, 2.0, 0.25, 1.5, 0.0]  # 2 rows of d = 3
POSITIVE = [0.0, -0.5, 1.0, 0.75, 1.0, -1.0]
NEGATIVE = [1.0, 0.5, 2.5, 0.25, 1.0, 0.5]
GRAD_OUTPUT = [0.75, 1.25]


def triplet(a_values, p_values, n_values, p, swap, reduction):
    a, pos, neg = leaf(a_values), leaf(p_values), leaf(n_values)
    loss = F.triplet_margin_loss(a.view(2, 3), pos.view(2, 3), neg.view(2, 3), margin=1.0, p=p, eps=1e-6,
                                 swap=swap, reduction=reduction)
    upstream = torch.tensor(GRAD_OUTPUT) if reduction == "none" else None
    return loss, grads(loss, upstream, {"grad_anchor": a, "grad_positive": pos, "grad_negative": neg})


def triplet_with(a_values, p_values, n_values, p, swap, reduction, upstream, shape=(2, 3), margin=None):
    """triplet_margin_loss (margin 0.0625 with swap, else 1) with the upstream gradient `upstream`."""
    a, pos, neg = leaf(a_values), leaf(p_values), leaf(n_values)
    m = margin if margin is not None else (0.0625 if swap else 1.0)
    loss = F.triplet_margin_loss(a.view(*shape), pos.view(*shape), neg.view(*shape), margin=m, p=p, eps=1e-6,
                                 swap=swap, reduction=reduction)
    return loss, grads(loss, torch.tensor(upstream), {"grad_anchor": a, "grad_positive": pos,
                                                      "grad_negative": neg})


def cases():
    out = []
    for bad in ["nan", "inf", "-inf"]:
        for focal in [False, True]:
            name = "softmax_focal" if focal else "softmax_cross_entropy"
            loss, g = softmax_rows(focal, spoiled(LOGITS, bad))
            out.append(case(name, f"logits[0]={bad}", {"reduction": "sum"}, {"logits": ([2, 4], spoiled(LOGITS, bad)),
                        "targets": ([2], LABELS)}, loss, g))
            # An upstream gradient of 0 on the spoiled row: 0 * NaN is NaN in PyTorch, not 0.
            loss, g = softmax_rows(focal, spoiled(LOGITS, bad), [0.0, 1.0])
            out.append(case(name, f"logits[0]={bad} grad_output[0]=0", {"reduction": "none"},
                            {"logits": ([2, 4], spoiled(LOGITS, bad)), "targets": ([2], LABELS),
                             "grad_output": ([2], [0.0, 1.0])}, loss, g))
        x_values = [0.5, -2.0, 3.0, 0.25]
        t_values = [0.0, 1.0, 0.5, 0.75]
        for name in ["smooth_l1", "huber", "mse", "sigmoid_focal", "l1", "exponential", "hinge", "logistic"]:
            if name == "sigmoid_focal" and bad != "nan":
                continue
            x_name, t_name = {"sigmoid_focal": ("logits", "targets"), "logistic": ("logits", "targets"),
                              "exponential": ("scores", "targets"),
                              "hinge": ("scores", "targets")}.get(name, ("input", "target"))
            targets = [1.0, -1.0, 1.0, -1.0] if name in ("exponential", "hinge") else t_values
            for spoil_target in [False, True]:
                xs = spoiled(x_values, bad) if not spoil_target else x_values
                ts = spoiled(targets, bad) if spoil_target else targets
                loss, g = elementwise(name, {}, xs, ts)
                what = f"{t_name if spoil_target else x_name}[0]={bad}"
                out.append(case(name, what, {"reduction": "sum"}, {x_name: ([4], xs), t_name: ([4], ts)}, loss, g))
        # Multi-class hinge (PyTorch's own multi_margin_loss): a non-target score spoiled (z NaN adds
        # nothing; an infinite z an infinite term), then the target's; and an upstream gradient of 0
        # on the spoiled row, which makes 0 * inf = NaN where the slope is inf.
        for p in [1, 2]:
            for spoiled_at in [0, LABELS[0]]:
                xs = list(LOGITS)
                xs[spoiled_at] = BAD[bad]
                what = f"scores[{spoiled_at}]={bad} p={p}"
                loss, g = multiclass_hinge(xs, p)
                out.append(case("multiclass_hinge", what, {"reduction": "sum", "p": p},
                                {"scores": ([2, 4], xs), "targets": ([2], LABELS)}, loss, g))
                loss, g = multiclass_hinge(xs, p, [0.0, 1.0])
                out.append(case("multiclass_hinge", what + " grad_output[0]=0", {"reduction": "none", "p": p},
                                {"scores": ([2, 4], xs), "targets": ([2], LABELS), "grad_output": ([2], [0.0, 1.0])},
                                loss, g))
        # Class-distance weighted cross-entropy: a non-target logit spoiled, then the target's.
        for spoiled_at in [0, LABELS[0]]:
            xs = list(LOGITS)
            xs[spoiled_at] = BAD[bad]
            loss, g = interclass_distance(xs)
            out.append(case("interclass_distance", f"logits[{spoiled_at}]={bad}", {"reduction": "sum"},
                            {"logits": ([2, 4], xs), "targets": ([2], LABELS)}, loss, g))
            loss, g = interclass_distance(xs, [0.0, 1.0])
            out.append(case("interclass_distance", f"logits[{spoiled_at}]={bad} grad_output[0]=0",
                            {"reduction": "none"}, {"logits": ([2, 4], xs), "targets": ([2], LABELS),
                                                    "grad_output": ([2], [0.0, 1.0])}, loss, g))
        # 0-1 loss: torch.argmax takes a NaN as the largest score, an inf as any other number.
        for spoiled_at in [0, LABELS[0], 5]:
            xs = list(LOGITS)
            xs[spoiled_at] = BAD[bad]
            errors = (torch.argmax(torch.tensor(xs).view(2, 4), dim=1) != torch.tensor(LABELS)).double()
            out.append(case("zero_one", f"scores[{spoiled_at}]={bad}", {"reduction": "none"},
                            {"scores": ([2, 4], xs), "targets": ([2], LABELS)}, errors, {}))
        f_values = [0.5, -1.0, 2.0, 0.25, 1.5, 0.0]
        c_values = [1.0, 0.5, -0.5, 0.0, 2.0, 1.0]
        for spoil_centers in [False, True]:
            fs = spoiled(f_values, bad) if not spoil_centers else f_values
            cs = spoiled(c_values, bad) if spoil_centers else c_values
            loss, g = center(fs, cs)
            what = f"{'centers' if spoil_centers else 'features'}[0]={bad}"
            out.append(case("center", what, {"reduction": "sum"}, {"features": ([2, 3], fs), "labels": ([2], [1, 0]),
                            "centers": ([2, 3], cs)}, loss, g))
        # The penalties (lambda 0.5): an L1 gradient of 0 at a NaN (torch.sign's), an L2 one NaN.
        ws = spoiled([0.5, -1.0, 0.0, 2.0], bad)
        for name in ["l1_penalty", "l2_penalty"]:
            w = leaf(ws)
            value = 0.5 * w.abs().sum() if name == "l1_penalty" else 0.25 * (w * w).sum()
            out.append(case(name, f"params[0]={bad}", {"lambda": 0.5}, {"params": ([4], ws)}, value,
                            grads(value, None, {"grad_params": w})))
        # L-Softmax (margin 2): a feature spoiled (its row's logits, and every weight gradient),
        # then a weight (every row's logit of that class)
        fx = [0.5, -1.0, 2.0, 0.25, 1.5, 0.0]  # 2 rows of d = 3
        wx = [1.0, 0.5, -0.5, 0.0, 2.0, 1.0, -1.0, 0.25, 0.5, 1.5, 0.0, -0.75]  # d = 3 by 4 classes
        for spoil_weights in [False, True]:
            fs = spoiled(fx, bad) if not spoil_weights else fx
            ws_ = spoiled(wx, bad) if spoil_weights else wx
            loss, logits, gf, gw = lsm_reference(np.array(fs).reshape(2, 3), np.array(LABELS[::-1]) % 4,
                                                 np.array(ws_).reshape(3, 4), 2, 0.0, "sum", None)
            out.append({"loss": "large_margin_softmax",
                        "name": f"large_margin_softmax {'weights' if spoil_weights else 'features'}[0]={bad}",
                        "params": {"margin": 2, "reduction": "sum"},
                        "inputs": {"features": {"shape": [2, 3], "data": [num(v) for v in fs]},
                                   "weights": {"shape": [3, 4], "data": [num(v) for v in ws_]},
                                   "targets": {"shape": [2], "data": [int(v) for v in np.array(LABELS[::-1]) % 4]}},
                        "expected": {"loss": [num(float(loss))],
                                     "modified_logits": [num(v) for v in logits.ravel()],
                                     "grad_features": [num(v) for v in gf.ravel()],
                                     "grad_weights": [num(v) for v in gw.ravel()]}})
        for which in ["anchor", "positive", "negative"]:
            for p in [1.0, 2.0, 3.0, math.inf]:
                for swap in [False, True]:
                    for reduction in ["none", "sum", "mean"]:
                        a = spoiled(ANCHOR, bad) if which == "anchor" else ANCHOR
                        pp = spoiled(POSITIVE, bad) if which == "positive" else POSITIVE
                        n = spoiled(NEGATIVE, bad) if which == "negative" else NEGATIVE
                        loss, g = triplet(a, pp, n, p, swap, reduction)
                        params = {"p": num(p), "swap": swap, "reduction": reduction}
                        inputs = {"anchor": ([2, 3], a), "positive": ([2, 3], pp), "negative": ([2, 3], n)}
                        if reduction == "none":
                            inputs["grad_output"] = ([2], GRAD_OUTPUT)
                        out.append(case("triplet_margin", f"{which}[0]={bad} p={num(p)} swap={swap} {reduction}",
                                        params, inputs, loss, g))
    # Triplet: a distance whose sum of |x|^p overflows a double (p = 30, 3e38 with a component of
    # 3e38): the loss is inf - inf = NaN and the gradient 0, except NaN on the components whose
    # |x|^(p-2) overflows too (PyTorch's inf / inf).
    for p in [30.0, 3e38]:
        a = [3e38, 0.5, 1.0, 0.25, 1.5, 0.0]
        loss, g = triplet_with(a, POSITIVE, NEGATIVE, p, False, "none", [0.75, 1.25])
        out.append(case("triplet_margin", f"anchor[0]=3e38 p={num(p)} none", {"p": num(p), "swap": False,
                        "reduction": "none"}, {"anchor": ([2, 3], a), "positive": ([2, 3], POSITIVE),
                        "negative": ([2, 3], NEGATIVE), "grad_output": ([2], [0.75, 1.25])}, loss, g))
    # p < 1 with an infinite distance: PyTorch's x |x|^(p-2) g / dist^(p-1) divides by inf^(p-1) = 0,
    # so a zero coefficient (the clamp, the min's other side) times it is NaN, not 0.
    a, pp, n = [0.5, -2.5, 1.0, 0.25], [math.inf, -2.75, 1.5, 0.0], [0.75, -2.0, 1.0, 0.5]
    loss, g = triplet_with(a, pp, n, 0.75, True, "mean", 1.0, shape=(2, 2), margin=3e38)
    out.append(case("triplet_margin", "positive[0]=inf p=0.75 swap mean", {"p": 0.75, "swap": True,
                    "margin": 3e38, "reduction": "mean"}, {"anchor": ([2, 2], a), "positive": ([2, 2], pp),
                    "negative": ([2, 2], n)}, loss, g))
    # An infinite upstream gradient with swap: the distance torch.min did not pick gets exactly 0,
    # not 0 * inf (p = inf, 2, 3).
    for p in [math.inf, 2.0, 3.0]:
        a, pp, n = [1.4e-45, 0.5], [-math.inf, 1.0], [-8.0, 2.0]
        loss, g = triplet_with(a, pp, n, p, True, "none", [-math.inf, 1.0], shape=(2, 1))
        out.append(case("triplet_margin", f"positive[0]=-inf grad_output[0]=-inf p={num(p)} swap",
                        {"p": num(p), "swap": True, "margin": 0.0625, "reduction": "none"},
                        {"anchor": ([2, 1], a), "positive": ([2, 1], pp), "negative": ([2, 1], n),
                         "grad_output": ([2], [-math.inf, 1.0])}, loss, g))
    # Sigmoid focal with targets outside [0, 1] (torchvision takes any target): 1 - p_t is negative
    # for some logits (the gradient's p q / (1 - p_t) with it), and an infinite target.
    xs = [1.0, -1.0, 0.5, -0.03125, 2.0, 3.171875, -2.5, 0.0]
    ts = [2.0, -1.0, 1.5, -10000.0, 0.5, math.inf, -math.inf, 3.0]
    for gamma in [0.0, 1.0, 2.0, 1.5]:
        for alpha in [0.25, -1.0, 2.296875]:
            loss, g = sigmoid_focal_any_target(alpha, gamma, xs, ts)
            out.append(case("sigmoid_focal", f"targets outside [0, 1] alpha={alpha} gamma={gamma}",
                            {"reduction": "none", "alpha": alpha, "gamma": gamma},
                            {"logits": ([8], xs), "targets": ([8], ts), "grad_output": ([8], [1.0] * 8)}, loss, g))
    # delta = +inf: every difference is inside the quadratic zone, 0.5 d^2 (not the linear branch's inf * |d|).
    xs, ts = [0.5, -2.0, 30.0, 0.25], [0.0, 1.0, 0.5, 0.75]
    loss, g = elementwise("huber", {"delta": math.inf}, xs, ts)
    out.append(case("huber", "delta=inf", {"reduction": "sum", "delta": "inf"}, {"input": ([4], xs),
                    "target": ([4], ts)}, loss, g))
    # beta = +inf: a finite difference is inside the quadratic zone (gradient d / beta = +-0), an
    # infinite one takes the linear branch, sign(d) (d / beta would be inf / inf).
    xs, ts = [-math.inf, math.inf, 3.0, -2.0], [0.0, 0.0, 0.0, 0.0]
    loss, g = elementwise("smooth_l1", {"beta": math.inf}, xs, ts)
    out.append(case("smooth_l1", "beta=inf", {"reduction": "sum", "beta": "inf"}, {"input": ([4], xs),
                    "target": ([4], ts)}, loss, g))
    return out


if __name__ == "__main__":
    with open(OUT, "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(c) for c in cases()) + "\n]\n")  # a case a line
    print(f"wrote {OUT}")

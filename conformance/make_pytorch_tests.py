#!/usr/bin/python3
"""Cases from PyTorch's own loss tests, in the case format of conformance/FORMAT.md: every sample
input PyTorch's test suite gives the loss functions culoss implements, run through PyTorch itself.

Run:  /usr/bin/python3 conformance/make_pytorch_tests.py
Needs Debian's python3-torch (PyTorch 1.13), whose torch.testing._internal holds the test inputs.

Two sources, both from the installed PyTorch:
  * the OpInfo database (common_methods_invocations.op_db): the sample inputs of
    F.cross_entropy, F.binary_cross_entropy_with_logits, F.mse_loss, F.l1_loss, F.smooth_l1_loss,
    F.huber_loss, F.multi_margin_loss and F.triplet_margin_loss;
  * the module tests (common_nn.criterion_tests and new_module_tests): every entry whose module is
    nn.CrossEntropyLoss, BCEWithLogitsLoss, MSELoss, L1Loss, SmoothL1Loss, HuberLoss, MultiMarginLoss
    or TripletMarginLoss, built by the entry's own constructor and inputs.
Inputs are rounded to float32 (the format's inputs are float32 values), then the loss and the
gradients of every float input are PyTorch's own in float64 on those values (autograd through the
function or module itself); `none` cases get a quantized upstream gradient. A sample whose options
or shapes the format cannot express yet is not written: the script lists each with the reason
(a logistic pos_weight that is not one value per class of the last dimension), so the list says what is left to
support. Samples are drawn with fixed seeds; the expected values are what PyTorch computes.
"""
import math
import os
import random
import sys
import types
import unittest
import zlib

import numpy as np
import torch

# torch.testing._internal.common_utils imports expecttest (a PyPI package Debian does not ship) for
# its TestCase base only; a stand-in is enough to read the test inputs.
_stub = types.ModuleType("expecttest")
_stub.TestCase, _stub.ACCEPT = unittest.TestCase, False
sys.modules.setdefault("expecttest", _stub)
torch.manual_seed(0)  # some test inputs are drawn when the test modules load,
random.seed(0)        # and some options (huber's delta) by Python's generator
np.random.seed(0)
from torch.testing._internal import common_nn  # noqa: E402
from torch.testing._internal.common_methods_invocations import op_db  # noqa: E402

from case_io import dump, int_tensor, make_case, num_in, num_out, on_grid, tensor  # noqa: E402

MAX_VALUES = 100_000  # a case file of about a megabyte
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pytorch_tests")
F = torch.nn.functional


class Skip(Exception):
    """The sample cannot be expressed in the format yet; the message says why."""


def f32(t):
    """A tensor's values rounded to float32, as float64 (what the case's inputs will hold)."""
    return t.detach().to(torch.float32).to(torch.float64)


def upstream(rng, reduction, shape):
    if reduction != "none":
        return None
    return on_grid(rng.standard_normal(shape), 16).astype(np.float32)


def run(fn, floats, reduction, rng):
    """loss = fn(*leaves) in float64 on float32-rounded floats; returns (loss, grads, grad_output)."""
    leaves = [f32(t).requires_grad_(True) for t in floats]
    loss = fn(*leaves)
    g = upstream(rng, reduction, tuple(loss.shape))
    loss.backward(torch.tensor(g, dtype=torch.float64) if g is not None else None)
    grads = [lf.grad if lf.grad is not None else torch.zeros_like(lf) for lf in leaves]
    return loss.detach(), grads, g


def reduction_of(kw, default="mean"):
    r = kw.get("reduction", default)
    if r not in ("none", "sum", "mean"):
        raise Skip(f"reduction {r}")
    return r


# ---------------------------------------------------------------- each loss: a call -> a case

def cross_entropy(name, x, target, weight, ignore_index, smoothing, reduction, rng):
    params = {"reduction": reduction, "label_smoothing": float(smoothing)}
    probs = target.is_floating_point()
    if probs and ignore_index != -100:
        raise Skip("ignore_index with probability targets")
    params["ignore_index"] = None if probs else int(ignore_index)
    floats = [x] + ([target] if probs else [])

    def fn(xl, *rest):
        t = rest[0] if probs else target
        w = f32(weight) if weight is not None else None
        return F.cross_entropy(xl, t, weight=w, ignore_index=ignore_index, reduction=reduction,
                               label_smoothing=smoothing)
    loss, grads, g = run(fn, floats, reduction, rng)
    inputs = {"logits": tensor(f32(x).numpy(), num_in)}
    inputs["target_probs" if probs else "targets"] = (tensor(f32(target).numpy(), num_in) if probs
                                                      else int_tensor(target.numpy()))
    if weight is not None:
        inputs["class_weights"] = tensor(f32(weight).numpy(), num_in)
    expected = {"loss": tensor(loss.numpy(), num_out), "grad_logits": tensor(grads[0].numpy(), num_out)}
    return make_case("softmax_cross_entropy", name, params, inputs, expected, g)


def logistic(name, x, target, weight, pos_weight, reduction, rng):
    """The weight broadcast to the logits' shape (the format's per-element weight); pos_weight as one
    value per class of the last dimension (broadcast from [1] or []), PyTorch's other shapes skipped."""
    last = x.shape[-1] if x.dim() else 1
    if pos_weight is not None and pos_weight.numel() != last and pos_weight.numel() != 1:
        raise Skip(f"logistic pos_weight {list(pos_weight.shape)} over logits {list(x.shape)}: not per class of "
                   "the last dimension")
    if pos_weight is not None and pos_weight.dim() > 1 and any(d != 1 for d in pos_weight.shape[:-1]):
        raise Skip(f"logistic pos_weight {list(pos_weight.shape)}: more than one dimension")
    if weight is not None and torch.broadcast_shapes(weight.shape, x.shape) != x.shape:
        raise Skip(f"logistic weight {list(weight.shape)} broadens logits {list(x.shape)}")
    w = f32(weight).expand_as(x).contiguous() if weight is not None else None
    pw = f32(pos_weight).reshape(-1).expand(last).contiguous() if pos_weight is not None else None
    if pw is not None and x.dim() == 0:
        raise Skip("logistic pos_weight over 0-dimensional logits")
    loss, grads, g = run(lambda xl, tl: F.binary_cross_entropy_with_logits(xl, tl, weight=w, pos_weight=pw,
                                                                           reduction=reduction),
                         [x, target], reduction, rng)
    # culoss differentiates the logits only: the targets' gradient is not an output
    inputs = {"logits": tensor(f32(x).numpy(), num_in), "targets": tensor(f32(target).numpy(), num_in)}
    if w is not None:
        inputs["weight"] = tensor(w.numpy(), num_in)
    if pw is not None:
        inputs["pos_weight"] = tensor(pw.numpy(), num_in)
    expected = {"loss": tensor(loss.numpy(), num_out), "grad_logits": tensor(grads[0].numpy(), num_out)}
    return make_case("logistic", name, {"reduction": reduction, "pos_weight": None}, inputs, expected, g)


ELEMENTWISE = {  # loss: (F function, the options culoss takes, the input and gradient names)
    "mse": (F.mse_loss, (), ("input", "target", "grad_input")),
    "l1": (F.l1_loss, (), ("input", "target", "grad_input")),
    "smooth_l1": (F.smooth_l1_loss, ("beta",), ("input", "target", "grad_input")),
    "huber": (F.huber_loss, ("delta",), ("input", "target", "grad_input")),
}


def elementwise(loss_name, name, x, target, options, reduction, rng):
    fn, keys, (xn, tn, gn) = ELEMENTWISE[loss_name]
    if x.shape != target.shape:
        raise Skip(f"{loss_name}: input {list(x.shape)} and target {list(target.shape)} broadcast")
    loss, grads, g = run(lambda xl: fn(xl, f32(target), reduction=reduction, **options), [x], reduction, rng)
    params = {"reduction": reduction}
    params.update({k: float(options[k]) for k in keys if k in options})
    if loss_name == "smooth_l1":
        params.setdefault("beta", 1.0)
    if loss_name == "huber":
        params.setdefault("delta", 1.0)
    inputs = {xn: tensor(f32(x).numpy(), num_in), tn: tensor(f32(target).numpy(), num_in)}
    expected = {"loss": tensor(loss.numpy(), num_out), gn: tensor(grads[0].numpy(), num_out)}
    return make_case(loss_name, name, params, inputs, expected, g)


def multi_margin(name, x, target, p, margin, weight, reduction, rng):
    """PyTorch also takes two shapes the format writes otherwise, with the same values: 0-dimensional
    scores (one row of one class) are written as [1] with a [] target, and scores [C] with a target
    [1] (one row, a loss of shape [1]) as [1, C] with targets [1]."""
    w = f32(weight) if weight is not None else None
    loss, grads, g = run(lambda xl: F.multi_margin_loss(xl, target, p=p, margin=margin, weight=w,
                                                        reduction=reduction), [x], reduction, rng)
    if x.dim() == 0:
        x, target, grads = x.reshape(1), target.reshape(()), [grads[0].reshape(1)]
    elif x.dim() == 1 and target.dim() == 1:
        x, grads = x.reshape(1, -1), [grads[0].reshape(1, -1)]
    inputs = {"scores": tensor(f32(x).numpy(), num_in), "targets": int_tensor(target.numpy())}
    if weight is not None:
        inputs["class_weights"] = tensor(f32(weight).numpy(), num_in)
    expected = {"loss": tensor(loss.numpy(), num_out), "grad_scores": tensor(grads[0].numpy(), num_out)}
    return make_case("multiclass_hinge", name, {"margin": float(margin), "p": int(p), "reduction": reduction},
                     inputs, expected, g)


def triplet(name, a, pos, neg, margin, p, eps, swap, reduction, rng):
    loss, grads, g = run(lambda al, pl, nl: F.triplet_margin_loss(al, pl, nl, margin=margin, p=p, eps=eps, swap=swap,
                                                                  reduction=reduction), [a, pos, neg], reduction, rng)
    inputs = {k: tensor(f32(t).numpy(), num_in) for k, t in (("anchor", a), ("positive", pos), ("negative", neg))}
    expected = {"loss": tensor(loss.numpy(), num_out)}
    for k, gr in zip(("grad_anchor", "grad_positive", "grad_negative"), grads):
        expected[k] = tensor(gr.numpy(), num_out)
    params = {"margin": float(margin), "p": float(p), "eps": float(eps), "swap": bool(swap), "reduction": reduction}
    return make_case("triplet_margin", name, params, inputs, expected, g)


# ---------------------------------------------------------------- source 1: the OpInfo samples

OPS = {"nn.functional.cross_entropy", "nn.functional.binary_cross_entropy_with_logits", "nn.functional.mse_loss",
       "nn.functional.l1_loss", "nn.functional.smooth_l1_loss", "nn.functional.huber_loss",
       "nn.functional.multi_margin_loss", "nn.functional.triplet_margin_loss"}


def from_sample(op_name, s, name, rng):
    kw = dict(s.kwargs)
    r = reduction_of(kw)
    x = s.input
    if op_name.endswith("cross_entropy"):
        return cross_entropy(name, x, s.args[0], kw.get("weight"), kw.get("ignore_index", -100),
                             kw.get("label_smoothing", 0.0), r, rng)
    if op_name.endswith("binary_cross_entropy_with_logits"):
        return logistic(name, x, s.args[0], kw.get("weight"), kw.get("pos_weight"), r, rng)
    if op_name.endswith("multi_margin_loss"):
        return multi_margin(name, x, s.args[0], kw.get("p", 1), kw.get("margin", 1.0), kw.get("weight"), r, rng)
    if op_name.endswith("triplet_margin_loss"):
        return triplet(name, x, s.args[0], s.args[1], kw.get("margin", 1.0), kw.get("p", 2.0), kw.get("eps", 1e-6),
                       kw.get("swap", False), r, rng)
    loss_name = {"mse_loss": "mse", "l1_loss": "l1", "smooth_l1_loss": "smooth_l1",
                 "huber_loss": "huber"}[op_name.split(".")[-1]]
    options = {k: v for k, v in kw.items() if k in ("beta", "delta")}
    return elementwise(loss_name, name, x, s.args[0], options, r, rng)


def opinfo_samples():
    torch.manual_seed(0)
    for op in op_db:
        if op.name not in OPS:
            continue
        for i, s in enumerate(op.sample_inputs("cpu", torch.float64, requires_grad=False)):
            yield f"opinfo_{op.name.split('.')[-1]}_{i}", lambda s=s, op=op: s, op.name


# ---------------------------------------------------------------- source 2: the module tests

MODULES = {"CrossEntropyLoss", "BCEWithLogitsLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss",
           "MultiMarginLoss", "TripletMarginLoss"}


def module_entries():
    """Every entry of the module tests named after one of MODULES (by module_name or fullname)."""
    for listing in ("criterion_tests", "new_module_tests"):
        for i, d in enumerate(getattr(common_nn, listing)):
            label = d.get("fullname") or (d.get("module_name", "") + ("_" + d["desc"] if d.get("desc") else ""))
            if not any(label.lower().startswith(m.lower()) for m in MODULES):
                continue
            yield f"{listing}_{i}_{label}", d


def build_module(d):
    args = d["constructor_args_fn"]() if "constructor_args_fn" in d else d.get("constructor_args", ())
    if "constructor" in d:
        return d["constructor"](*args)
    return getattr(torch.nn, d["module_name"])(*args)


def make_input(d, key, size_key):
    if key in d:
        return d[key]()
    if key == "target_fn" and "target" in d:
        return d["target"]
    if size_key in d:
        return torch.randn(tuple(d[size_key]), dtype=torch.float64)
    raise Skip(f"no {key} or {size_key}")


FUNCTIONS = {"binary_cross_entropy_with_logits": "BCEWithLogitsLoss", "l1_loss": "L1Loss", "mse_loss": "MSELoss",
             "smooth_l1_loss": "SmoothL1Loss", "huber_loss": "HuberLoss", "multi_margin_loss": "MultiMarginLoss",
             "cross_entropy": "CrossEntropyLoss"}
KINDS = {"torch::kNone": "none", "torch::kSum": "sum", "torch::kMean": "mean"}


def from_functional(name, d, rng):
    """An entry whose module wraps a lambda (wrap_functional): the call's options are read from
    its C++ twin (cpp_function_call, "F::l1_loss(i, t, F::L1LossFuncOptions().reduction(...))"),
    the target and weights from cpp_var_map. A misread option fails the case against PyTorch's
    values, so the reading is checked by every run."""
    import re
    call = " ".join(d["cpp_function_call"].split())
    fn = re.search(r"F::(\w+)\(", call).group(1)
    if fn not in FUNCTIONS:
        raise Skip(f"the function {fn}")
    var = d.get("cpp_var_map", {})
    opts = dict(re.findall(r"\.(reduction|p|margin|beta|delta)\(([^()]*)\)", call))
    r = KINDS.get(opts.get("reduction", "torch::kMean"))
    if r is None:
        raise Skip(f"reduction {opts.get('reduction')}")
    x = make_input(d, "input_fn", "input_size")
    target_name = re.search(r"F::\w+\(\s*i\s*,\s*(\w+)", call)  # the call's second argument: t, target
    t = var.get(target_name.group(1)) if target_name else None
    if not isinstance(t, torch.Tensor):
        raise Skip("no target tensor in cpp_var_map")
    weight = var.get("w") if ".weight(" in call else None
    if fn == "multi_margin_loss":
        return multi_margin(name, x, t.long(), int(float(opts.get("p", 1))), float(opts.get("margin", 1.0)), weight, r,
                            rng)
    if fn == "binary_cross_entropy_with_logits":
        return logistic(name, x, t.double(), weight, None, r, rng)
    if fn == "cross_entropy":
        return cross_entropy(name, x, t, weight, -100, 0.0, r, rng)
    options = {k: float(opts[k]) for k in ("beta", "delta") if k in opts}
    loss_name = {"mse_loss": "mse", "l1_loss": "l1", "smooth_l1_loss": "smooth_l1", "huber_loss": "huber"}[fn]
    if x.is_complex():
        raise Skip("complex input")
    return elementwise(loss_name, name, x, t.double(), options, r, rng)


def from_module(name, d, rng):
    torch.manual_seed(0)
    m = build_module(d)
    kind = type(m).__name__
    if kind == "FunctionalModule":
        return from_functional(name, d, rng)
    if kind not in MODULES:
        raise Skip(f"the module is a {kind}, not one of the loss modules")
    x = make_input(d, "input_fn", "input_size")
    t = make_input(d, "target_fn", "target_size")
    r = reduction_of({"reduction": m.reduction})
    if kind == "CrossEntropyLoss":
        x = x.double() if x.is_floating_point() else x
        return cross_entropy(name, x, t if not t.is_floating_point() else t.double(), m.weight, m.ignore_index,
                             m.label_smoothing, r, rng)
    if kind == "BCEWithLogitsLoss":
        return logistic(name, x, t, m.weight, m.pos_weight, r, rng)
    if kind == "MultiMarginLoss":
        return multi_margin(name, x, t, m.p, m.margin, m.weight, r, rng)
    if kind == "TripletMarginLoss":
        parts = (tuple(x) + (t,)) if isinstance(x, (tuple, list)) and len(x) == 2 else x
        if not isinstance(parts, (tuple, list)) or len(parts) != 3:
            raise Skip("the triplet's input is not three tensors")
        return triplet(name, *parts, m.margin, m.p, m.eps, m.swap, r, rng)
    loss_name = {"MSELoss": "mse", "L1Loss": "l1", "SmoothL1Loss": "smooth_l1", "HuberLoss": "huber"}[kind]
    if x.is_complex():
        raise Skip("complex input")
    options = {"beta": m.beta} if kind == "SmoothL1Loss" else {"delta": m.delta} if kind == "HuberLoss" else {}
    return elementwise(loss_name, name, x, t, options, r, rng)


# ---------------------------------------------------------------- the cases

def clean(name):
    return "".join(ch if ch.isalnum() or ch in "_-." else "_" for ch in name)


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        if old.endswith(".json"):
            os.remove(os.path.join(OUT, old))
    written, skipped = 0, []
    sources = [(n, (lambda s=get, op=op, n=n: from_sample(op, s(), clean(n), rng))) for n, get, op in opinfo_samples()]
    sources += [(n, (lambda d=d, n=n: from_module(clean(n), d, rng))) for n, d in module_entries()]
    for n, make in sources:
        rng = np.random.default_rng(zlib.crc32(n.encode()))  # the upstream gradient's, by the sample's name
        try:
            case = make()
        except Skip as e:
            skipped.append((n, str(e)))
            continue
        values = [v for sect in ("inputs", "expected") for t in case[sect].values() for v in t["data"]]
        if len(values) > MAX_VALUES:
            skipped.append((n, f"{len(values)} values: a precision test too large to commit as a case"))
            continue
        if any(isinstance(v, float) and not math.isfinite(v) for v in values):
            skipped.append((n, "non-finite values"))
            continue
        with open(os.path.join(OUT, clean(n) + ".json"), "w") as f:
            f.write(dump(case))
        written += 1
    for n, why in skipped:
        print(f"not written: {n}: {why}")
    print(f"{written} cases in {OUT}, {len(skipped)} samples not expressible yet")


if __name__ == "__main__":
    main()

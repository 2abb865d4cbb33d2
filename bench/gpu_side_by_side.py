#!/usr/bin/env python3
"""The GPU side by side, run by ci/gpu-check.sh on a lent GPU: culoss's fused
forward+backward (libculoss.so through ctypes, on PyTorch's CUDA tensors and stream) against
PyTorch's own forward+backward (bench/pytorch_peers.py), in the same process on the same shapes,
timed with CUDA events, the median of many calls, with several copies of the buffers in rotation
so that the L2 cache flatters nobody. The device-to-device copy bandwidth is measured in the same
run (a "copy" line). Every culoss result is first checked against PyTorch's.

  python3 bench/gpu_side_by_side.py --lib build/gpu/libculoss.so > gpu.jsonl
  python3 bench/gpu_side_by_side.py --lib build/native/libculoss_emu.so --device cpu --small   # plumbing check here

With --device cpu and the emulated library (host pointers), the same code runs on the CPU: that
is how it is tested without a GPU (timings there mean nothing).
"""
import argparse
import ctypes
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pytorch_peers  # noqa: E402

SMALL = {loss: ["16x7"] for loss in pytorch_peers.SHAPES}
SMALL.update({name: ["1001"] for name in ("smooth_l1", "huber", "mse", "l1", "exponential", "hinge", "logistic",
                                         "l1_penalty", "l2_penalty")})
SMALL.update({"center": ["16x7x5"], "triplet_margin": ["16x7"], "large_margin_softmax": ["16x7x5"]})

# Shapes of the cases the Java declarations do not list (./culoss bench does not run them): the
# C API's [N, C, d1..dk] logits.
GPU_ONLY = {"softmax_cross_entropy_spatial": ["16x21x128x128", "8x150x64x64"]}
SMALL.update({"softmax_cross_entropy_spatial": ["2x5x3x4"]})

MEAN = 2
c_i64, c_f, c_p, c_int = ctypes.c_int64, ctypes.c_float, ctypes.c_void_p, ctypes.c_int
F32 = c_int(0)  # culossDataType_t CULOSS_DATA_FLOAT32, after the sizes of every call


class Culoss:
    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        self.lib.culossGetErrorString.restype = ctypes.c_char_p
        self.lib.culossGetLastErrorDetail.restype = ctypes.c_char_p

    def __call__(self, name, *args):
        status = getattr(self.lib, name)(*args)
        if status != 0:
            raise RuntimeError(f"{name}: {self.lib.culossGetErrorString(status).decode()} "
                               f"({self.lib.culossGetLastErrorDetail().decode()})")

    def workspace(self, name, dev, *args):
        size = ctypes.c_size_t(0)
        self(name, *args, ctypes.byref(size))
        # 16 bytes in front for the error word, as the Java layer lays it out
        return torch.zeros(16 + size.value, dtype=torch.uint8, device=dev), size.value


def ptr(t):
    return c_p(t.data_ptr()) if t is not None else c_p(0)


def stream(dev):
    return c_p(torch.cuda.current_stream().cuda_stream if dev == "cuda" else 0)


# Each culoss case: (make(shape, dev, g) -> state) and (step(state)); state["check"] compares
# culoss's loss and gradient with PyTorch's on the same inputs. Defaults match pytorch_peers.

def row_softmax_make(lib, shape, dev, g, name, options, torch_loss):
    """A row-softmax loss (culoss{name}...), no class weights, mean: options are the C arguments
    between the weights and the reduction; torch_loss(x, y) is PyTorch's loss, to check against."""
    n, c, x, y = pytorch_peers.draw_rows(shape, dev, g)
    ws, wsb = lib.workspace(f"culoss{name}WorkspaceSize", dev, c_i64(n), c_i64(c), F32, c_int(MEAN))
    s = dict(x=x, y=y.int(), y64=y, loss=torch.zeros(1, device=dev), grad=torch.empty_like(x), ws=ws, wsb=wsb,
             n=n, c=c, bytes=2 * n * c * 4 + n * 4)

    def step():
        lib(f"culoss{name}ForwardBackward", ptr(s["x"]), c_i64(c), ptr(s["y"]), c_i64(n), c_i64(c), F32,
            c_p(0), *options, c_int(MEAN), c_p(0), ptr(s["loss"]), ptr(s["grad"]), c_i64(c),
            c_p(s["ws"].data_ptr() + 16), ctypes.c_size_t(wsb), ptr(s["ws"]), stream(dev))

    def check():
        xr = s["x"].double().requires_grad_(True)
        lr = torch_loss(xr, s["y64"])
        lr.backward()
        return [(s["loss"], lr.detach()), (s["grad"], xr.grad)]
    s["step"], s["check"] = step, check
    return s


def ce_make(lib, shape, dev, g):
    """Softmax cross-entropy: ignore_index -100, no label smoothing, mean."""
    return row_softmax_make(lib, shape, dev, g, "SoftmaxCrossEntropy", (c_i64(-100), c_f(0)), F.cross_entropy)


def ce_probs_make(lib, shape, dev, g):
    """Softmax cross-entropy with soft targets (class probabilities of the logits' shape), no
    smoothing, mean over N."""
    n, c, x, _ = pytorch_peers.draw_rows(shape, dev, g)
    t = torch.softmax(torch.randn(n, c, generator=g), dim=1).to(dev)
    ws, wsb = lib.workspace("culossSoftmaxCrossEntropyProbsWorkspaceSize", dev, c_i64(n), c_i64(c), F32, c_int(MEAN))
    s = dict(x=x, t=t, loss=torch.zeros(1, device=dev), grad=torch.empty_like(x), ws=ws, bytes=3 * n * c * 4)

    def step():
        lib("culossSoftmaxCrossEntropyProbsForwardBackward", ptr(s["x"]), c_i64(c), ptr(s["t"]), c_i64(n), c_i64(c),
            F32, c_p(0), c_f(0), c_int(MEAN), c_p(0), ptr(s["loss"]), ptr(s["grad"]), c_i64(c), ptr(s["ws"]),
            ctypes.c_size_t(wsb), stream(dev))

    def check():
        xr = s["x"].double().requires_grad_(True)
        lr = F.cross_entropy(xr, s["t"].double())
        lr.backward()
        return [(s["loss"], lr.detach()), (s["grad"], xr.grad)]
    s["step"], s["check"] = step, check
    return s


def focal_make(lib, shape, dev, g, gamma=2.0, alpha=1.0):
    """Softmax focal with pytorch_peers' defaults: gamma 2, scalar alpha 1, mean."""
    return row_softmax_make(lib, shape, dev, g, "SoftmaxFocal", (c_f(alpha), c_f(gamma), c_i64(-100)),
                            lambda x, y: pytorch_peers.softmax_focal_loss(x, y, gamma, alpha))


def triplet_make(lib, shape, dev, g, margin=1.0, p=2.0, eps=1e-6):
    """Triplet margin with pytorch_peers' defaults, mean, gradients of all three inputs."""
    n, d = pytorch_peers.dims(shape)
    a, pos, neg = (torch.randn(n, d, generator=g).to(dev) for _ in range(3))
    ws, wsb = lib.workspace("culossTripletMarginWorkspaceSize", dev, c_i64(n), c_i64(d), F32, c_int(MEAN))
    s = dict(a=a, p=pos, q=neg, loss=torch.zeros(1, device=dev), ga=torch.empty_like(a), gp=torch.empty_like(a),
             gq=torch.empty_like(a), ws=ws, bytes=6 * n * d * 4)

    def step():
        lib("culossTripletMarginForwardBackward", ptr(s["a"]), ptr(s["p"]), ptr(s["q"]), c_i64(n), c_i64(d), F32,
            c_f(margin), c_f(p), c_f(eps), c_int(0), c_int(MEAN), c_p(0), ptr(s["loss"]), ptr(s["ga"]),
            ptr(s["gp"]), ptr(s["gq"]), ptr(s["ws"]), ctypes.c_size_t(wsb), stream(dev))

    def check():
        ar, pr, qr = (s[k].double().requires_grad_(True) for k in ("a", "p", "q"))
        lr = F.triplet_margin_loss(ar, pr, qr, margin=margin, p=p, eps=eps)
        lr.backward()
        return [(s["loss"], lr.detach()), (s["ga"], ar.grad), (s["gp"], pr.grad), (s["gq"], qr.grad)]
    s["step"], s["check"] = step, check
    return s


def center_make(lib, shape, dev, g, lam=1.0, alpha=0.5):
    """Center loss, mean: loss and feature gradient, then the center update (pytorch_peers' step)."""
    n, d, k = pytorch_peers.dims(shape)
    x = torch.randn(n, d, generator=g).to(dev)
    y = torch.randint(0, k, (n,), generator=g).to(dev)
    centers = torch.randn(k, d, generator=g).to(dev)
    ws, wsb = lib.workspace("culossCenterLossWorkspaceSize", dev, c_i64(n), c_i64(d), c_i64(k), F32, c_int(MEAN))
    s = dict(x=x, y=y.int(), y64=y, c=centers, c0=centers.clone(), loss=torch.zeros(1, device=dev),
             grad=torch.empty_like(x), ws=ws, bytes=(3 * n * d + 2 * min(n, k) * d) * 4 + n * 4)
    wsp = lambda: c_p(s["ws"].data_ptr() + 16)  # noqa: E731

    def step():
        lib("culossCenterLossForwardBackward", ptr(s["x"]), ptr(s["y"]), ptr(s["c"]), c_i64(n), c_i64(d), c_i64(k), F32,
            c_f(lam), c_int(MEAN), c_p(0), ptr(s["loss"]), ptr(s["grad"]), c_p(0), wsp(), ctypes.c_size_t(wsb),
            ptr(s["ws"]), stream(dev))
        lib("culossCenterLossUpdateCenters", ptr(s["x"]), ptr(s["y"]), ptr(s["c"]), c_i64(n), c_i64(d), c_i64(k), F32,
            c_f(alpha), wsp(), ctypes.c_size_t(wsb), ptr(s["ws"]), stream(dev))

    def check():
        # one step from the initial centers, against the module in pytorch_peers
        xr, c0 = s["x"].double().requires_grad_(True), s["c0"].double()
        cy = c0[s["y64"]]
        lr = lam / 2 * ((xr - cy) ** 2).sum() / n
        lr.backward()
        counts = torch.bincount(s["y64"], minlength=k).double()
        after = c0 - alpha * torch.zeros_like(c0).index_add_(0, s["y64"], cy - xr.detach()) / (1 + counts)[:, None]
        return [(s["loss"], lr.detach()), (s["grad"], xr.grad), (s["c"], after)]
    s["step"], s["check"] = step, check
    return s


def sf_make(lib, shape, dev, g, alpha=0.25, gamma=2.0):
    n, c = pytorch_peers.dims(shape)
    x = torch.randn(n, c, generator=g).to(dev)
    t = (torch.rand(n, c, generator=g) < 0.1).float().to(dev)
    ws, wsb = lib.workspace("culossSigmoidFocalWorkspaceSize", dev, c_i64(n * c), F32, c_int(MEAN))
    s = dict(x=x, t=t, loss=torch.zeros(1, device=dev), grad=torch.empty_like(x), ws=ws, bytes=3 * n * c * 4)

    def step():
        lib("culossSigmoidFocalForwardBackward", ptr(s["x"]), ptr(s["t"]), c_i64(n * c), F32, c_f(alpha), c_f(gamma),
            c_int(MEAN), c_p(0), ptr(s["loss"]), ptr(s["grad"]), ptr(s["ws"]), ctypes.c_size_t(wsb), stream(dev))

    def check():
        # torchvision's formula in float64 (finite here: |x| stays far below saturation)
        xr = s["x"].double().requires_grad_(True)
        tr = s["t"].double()
        p = torch.sigmoid(xr)
        ce = F.binary_cross_entropy_with_logits(xr, tr, reduction="none")
        p_t = p * tr + (1 - p) * (1 - tr)
        lr = ((alpha * tr + (1 - alpha) * (1 - tr)) * ce * ((1 - p_t) ** gamma)).mean()
        lr.backward()
        return [(s["loss"], lr.detach()), (s["grad"], xr.grad)]
    s["step"], s["check"] = step, check
    return s


def elementwise_make(lib, shape, dev, g, name, torch_loss, option, targets=lambda t: t):
    """An elementwise loss, mean; option: its one float option, or None for a loss without;
    targets(t) makes the loss's targets from normal draws (+-1, [0, 1], ...)."""
    (n,) = pytorch_peers.dims(shape)
    x = torch.randn(n, generator=g).to(dev)
    t = targets(torch.randn(n, generator=g)).to(dev)
    ws, wsb = lib.workspace(f"culoss{name}WorkspaceSize", dev, c_i64(n), F32, c_int(MEAN))
    s = dict(x=x, t=t, loss=torch.zeros(1, device=dev), grad=torch.empty_like(x), ws=ws, bytes=3 * n * 4)
    options = () if option is None else (c_f(option),)

    def step():
        lib(f"culoss{name}ForwardBackward", ptr(s["x"]), ptr(s["t"]), c_i64(n), F32, *options, c_int(MEAN), c_p(0),
            ptr(s["loss"]), ptr(s["grad"]), ptr(s["ws"]), ctypes.c_size_t(wsb), stream(dev))

    def check():
        xr = s["x"].double().requires_grad_(True)
        lr = torch_loss(xr, s["t"].double(), option)
        lr.backward()
        return [(s["loss"], lr.detach()), (s["grad"], xr.grad)]
    s["step"], s["check"] = step, check
    return s


def penalty_make(lib, shape, dev, g, name, l1):
    """A penalty (culoss{name}...) over [N] parameters with pytorch_peers' lambda."""
    (n,) = pytorch_peers.dims(shape)
    lam = pytorch_peers.PENALTY_LAMBDA
    w = torch.randn(n, generator=g).to(dev)
    ws, wsb = lib.workspace(f"culoss{name}WorkspaceSize", dev, c_i64(n), F32)
    s = dict(w=w, loss=torch.zeros(1, device=dev), grad=torch.empty_like(w), ws=ws, bytes=2 * n * 4)

    def step():
        lib(f"culoss{name}ForwardBackward", ptr(s["w"]), c_i64(n), F32, c_f(lam), c_p(0), ptr(s["loss"]),
            ptr(s["grad"]), ptr(s["ws"]), ctypes.c_size_t(wsb), stream(dev))

    def check():
        wr = s["w"].double().requires_grad_(True)
        lr = lam * wr.abs().sum() if l1 else lam / 2 * (wr * wr).sum()
        lr.backward()
        return [(s["loss"], lr.detach()), (s["grad"], wr.grad)]
    s["step"], s["check"] = step, check
    return s


def sl1_make(lib, shape, dev, g):
    return elementwise_make(lib, shape, dev, g, "SmoothL1", lambda x, t, b: F.smooth_l1_loss(x, t, beta=b), 1.0)


def hub_make(lib, shape, dev, g):
    return elementwise_make(lib, shape, dev, g, "Huber", lambda x, t, d: F.huber_loss(x, t, delta=d), 1.0)


def mse_make(lib, shape, dev, g):
    return elementwise_make(lib, shape, dev, g, "Mse", lambda x, t, _: F.mse_loss(x, t), None)


def l1_make(lib, shape, dev, g):
    return elementwise_make(lib, shape, dev, g, "L1", lambda x, t, _: F.l1_loss(x, t), None)


def sign(t):
    return torch.where(t >= 0, 1.0, -1.0)


def exp_make(lib, shape, dev, g):
    return elementwise_make(lib, shape, dev, g, "Exponential", lambda x, t, _: torch.exp(-t * x).mean(), None,
                            targets=sign)


def hinge_make(lib, shape, dev, g):
    return elementwise_make(lib, shape, dev, g, "Hinge", lambda x, t, m: torch.clamp(m - t * x, min=0).mean(), 1.0,
                            targets=sign)


def logistic_make(lib, shape, dev, g):
    """pos_weight 1 (none)."""
    return elementwise_make(lib, shape, dev, g, "Logistic",
                            lambda x, t, p: F.binary_cross_entropy_with_logits(x, t, pos_weight=torch.tensor(p)), 1.0,
                            targets=torch.sigmoid)


def ce_spatial_make(lib, shape, dev, g):
    """Cross-entropy over [N, C, H, W] logits, the class dimension second, through the Spatial entry
    point (no transpose): ignore_index -100, no smoothing, mean."""
    n, c, h, w = pytorch_peers.dims(shape)
    x = torch.randn(n, c, h, w, generator=g).to(dev)
    y = torch.randint(0, c, (n, h, w), generator=g).to(dev)
    inner = h * w
    ws, wsb = lib.workspace("culossSoftmaxCrossEntropySpatialWorkspaceSize", dev, c_i64(n), c_i64(c), c_i64(inner),
                            F32, c_int(MEAN))
    s = dict(x=x, y=y.int(), y64=y, loss=torch.zeros(1, device=dev), grad=torch.empty_like(x), ws=ws,
             bytes=2 * n * c * inner * 4 + n * inner * 4)

    def step():
        lib("culossSoftmaxCrossEntropySpatialForwardBackward", ptr(s["x"]), ptr(s["y"]), c_i64(n), c_i64(c),
            c_i64(inner), F32, c_p(0), c_i64(-100), c_f(0), c_int(MEAN), c_p(0), ptr(s["loss"]), ptr(s["grad"]),
            c_p(s["ws"].data_ptr() + 16), ctypes.c_size_t(wsb), ptr(s["ws"]), stream(dev))

    def check():
        xr = s["x"].double().requires_grad_(True)
        lr = F.cross_entropy(xr, s["y64"])
        lr.backward()
        return [(s["loss"], lr.detach()), (s["grad"], xr.grad)]
    s["step"], s["check"] = step, check
    return s


def mmh_make(lib, shape, dev, g):
    """Multi-class hinge: margin 1, p 1, no weights, mean."""
    return row_softmax_make(lib, shape, dev, g, "MulticlassHinge", (c_f(1.0), c_int(1)), F.multi_margin_loss)


def interclass_make(lib, shape, dev, g):
    """Class-distance weighted cross-entropy, mean (no table, no options)."""
    n, c, x, y = pytorch_peers.draw_rows(shape, dev, g)
    ws, wsb = lib.workspace("culossInterclassDistanceWorkspaceSize", dev, c_i64(n), c_i64(c), F32, c_int(MEAN))
    s = dict(x=x, y=y.int(), y64=y, loss=torch.zeros(1, device=dev), grad=torch.empty_like(x), ws=ws,
             bytes=2 * n * c * 4 + n * 4)

    def step():
        lib("culossInterclassDistanceForwardBackward", ptr(s["x"]), c_i64(c), ptr(s["y"]), c_i64(n), c_i64(c), F32,
            c_int(MEAN), c_p(0), ptr(s["loss"]), ptr(s["grad"]), c_i64(c), c_p(s["ws"].data_ptr() + 16),
            ctypes.c_size_t(wsb), ptr(s["ws"]), stream(dev))

    def check():
        xr = s["x"].double().requires_grad_(True)
        lr = pytorch_peers.interclass_distance_loss(xr, s["y64"])
        lr.backward()
        return [(s["loss"], lr.detach()), (s["grad"], xr.grad)]
    s["step"], s["check"] = step, check
    return s


def zero_one_make(lib, shape, dev, g):
    """The 0-1 loss (error rate), mean, forward only."""
    n, c, x, y = pytorch_peers.draw_rows(shape, dev, g)
    ws, wsb = lib.workspace("culossZeroOneWorkspaceSize", dev, c_i64(n), c_i64(c), F32, c_int(MEAN))
    s = dict(x=x, y=y.int(), y64=y, loss=torch.zeros(1, device=dev), ws=ws, bytes=n * c * 4 + n * 4)

    def step():
        lib("culossZeroOneForward", ptr(s["x"]), c_i64(c), ptr(s["y"]), c_i64(n), c_i64(c), F32, c_int(MEAN),
            ptr(s["loss"]), c_p(s["ws"].data_ptr() + 16), ctypes.c_size_t(wsb), ptr(s["ws"]), stream(dev))

    def check():
        return [(s["loss"], (s["x"].argmax(dim=1) != s["y64"]).double().mean())]
    s["step"], s["check"] = step, check
    return s


def lsm_make(lib, shape, dev, g, m=4, lam=0.0):
    """L-Softmax, margin 4, mean: loss and both gradients (no modified logits asked for)."""
    n, d, c = pytorch_peers.dims(shape)
    x = torch.randn(n, d, generator=g).to(dev)
    w = (torch.randn(d, c, generator=g) * 0.05).to(dev)
    y = torch.randint(0, c, (n,), generator=g).to(dev)
    ws, wsb = lib.workspace("culossLargeMarginSoftmaxWorkspaceSize", dev, c_i64(n), c_i64(d), c_i64(c), F32,
                            c_int(MEAN))
    s = dict(x=x, w=w, y=y.int(), y64=y, loss=torch.zeros(1, device=dev), gx=torch.empty_like(x),
             gw=torch.empty_like(w), ws=ws, bytes=(2 * n * d + 2 * d * c + n * c) * 4 + n * 4)

    def step():
        lib("culossLargeMarginSoftmaxForwardBackward", ptr(s["x"]), ptr(s["w"]), ptr(s["y"]), c_i64(n), c_i64(d),
            c_i64(c), F32, c_int(m), c_f(lam), c_int(MEAN), c_p(0), ptr(s["loss"]), c_p(0), ptr(s["gx"]), ptr(s["gw"]),
            c_p(s["ws"].data_ptr() + 16), ctypes.c_size_t(wsb), ptr(s["ws"]), stream(dev))

    def check():
        # the paper's acos form in float64 (random angles: none where sin(theta) vanishes)
        xr, wr = s["x"].double().requires_grad_(True), s["w"].double().requires_grad_(True)
        lr = pytorch_peers.large_margin_softmax_loss(xr, wr, s["y64"], m, lam)
        lr.backward()
        return [(s["loss"], lr.detach()), (s["gx"], xr.grad), (s["gw"], wr.grad)]
    s["step"], s["check"] = step, check
    return s


CASES = {"softmax_cross_entropy": ce_make, "softmax_cross_entropy_probs": ce_probs_make, "softmax_focal": focal_make, "triplet_margin": triplet_make,
         "center": center_make,
         "sigmoid_focal": sf_make, "smooth_l1": sl1_make, "huber": hub_make, "mse": mse_make, "l1": l1_make,
         "exponential": exp_make, "hinge": hinge_make, "logistic": logistic_make, "multiclass_hinge": mmh_make,
         "zero_one": zero_one_make, "interclass_distance": interclass_make,
         "l1_penalty": lambda lib, shape, dev, g: penalty_make(lib, shape, dev, g, "L1Penalty", True),
         "l2_penalty": lambda lib, shape, dev, g: penalty_make(lib, shape, dev, g, "L2Penalty", False),
         "softmax_cross_entropy_spatial": ce_spatial_make, "large_margin_softmax": lsm_make}


def rel_err(out, ref):
    out, ref = out.double().flatten(), ref.double().flatten()
    return float((out - ref).norm() / max(float(ref.norm()), 1e-12))


def time_steps(steps, dev, warmup_s, runs):
    if dev == "cuda":
        return pytorch_peers.time_cuda(steps, warmup_s, runs)
    i, ms = 0, []
    for r in range(runs):
        t0 = time.perf_counter()
        steps[r % len(steps)]()
        ms.append((time.perf_counter() - t0) * 1e3)
    return ms


def copy_bandwidth(dev, runs):
    """Device-to-device copy of 1 GiB (read + write counted), median of runs."""
    n = (1 << 28) if dev == "cuda" else (1 << 20)
    a, b = torch.empty(n, device=dev), torch.empty(n, device=dev)
    ms = time_steps([lambda: b.copy_(a)], dev, 0.2, runs)
    return pytorch_peers.record("copy", "device", str(n), None, ms, 2 * n * 4)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--small", action="store_true", help="tiny shapes (the CPU plumbing check)")
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--warmup-ms", type=float, default=300)
    ap.add_argument("--rotate-bytes", type=float, default=200e6)
    a = ap.parse_args()
    lib = Culoss(a.lib)
    dev = a.device
    print(copy_bandwidth(dev, a.runs), flush=True)
    failed = 0

    def sync():
        # The emulated library queues its kernels on a stream as a GPU does: wait before reading.
        if dev == "cuda":
            torch.cuda.synchronize()
        else:
            lib("culossStreamSynchronize", c_p(0))

    for loss, make in CASES.items():
        for shape in (SMALL if a.small else {**pytorch_peers.SHAPES, **GPU_ONLY})[loss]:
            g = torch.Generator().manual_seed(1)
            first = make(lib, shape, dev, g)
            first["step"]()
            sync()
            errs = [rel_err(o, r) for o, r in first["check"]()]
            ok = all(e <= 1e-4 for e in errs)
            failed += not ok
            copies = 1 if not a.small and dev == "cpu" else max(1, min(16, int(a.rotate_bytes // first["bytes"]) + 1))
            states = [first] + [make(lib, shape, dev, g) for _ in range(copies - 1)]
            steps = [s["step"] for s in states]
            if dev != "cuda":  # each timed call ends in a synchronisation, as ./culoss bench's
                steps = [lambda step=step: (step(), sync()) for step in steps]
            ms = time_steps(steps, dev, a.warmup_ms / 1e3, a.runs)
            sync()
            print(pytorch_peers.record(loss, f"culoss-{dev}", shape, None, ms, first["bytes"],
                                       max_rel_err_vs_pytorch=max(errs), agrees=ok), flush=True)
            del states, first
            step, nbytes, _ = pytorch_peers.BUILDERS[loss](shape, dev, torch.Generator().manual_seed(1))
            pcopies = max(1, min(16, int(a.rotate_bytes // nbytes) + 1)) if dev == "cuda" else 1
            steps = [step] + [pytorch_peers.BUILDERS[loss](shape, dev, g)[0] for _ in range(pcopies - 1)]
            ms = time_steps(steps, dev, a.warmup_ms / 1e3, a.runs)
            print(pytorch_peers.record(loss, f"pytorch-{torch.__version__.split('+')[0]}-{dev}", shape, None, ms,
                                       nbytes), flush=True)
            del steps
    if failed:
        print(f"{failed} culoss case(s) disagree with PyTorch", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

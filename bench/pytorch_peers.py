#!/usr/bin/python3
"""The PyTorch side of the side-by-side benchmarks: each culoss loss's forward+backward written
the way a PyTorch user would (F.cross_entropy, torchvision's focal formula, F.smooth_l1_loss, ...),
float32, timed like ./culoss bench times culoss (warm-up, then the median of many calls), one
JSON line per case with the same fields.

  /usr/bin/python3 bench/pytorch_peers.py --device cpu --threads 1,2 [--loss all] [--shape 4096x1000]
  python3 bench/pytorch_peers.py --device cuda        (CUDA events; buffers rotated past L2)

Shapes and defaults (alpha, gamma, beta, margin, lambda, ...) are the ones of culoss's workloads
(java/culoss-tools/.../bench/Workloads.java), so the two sides do the same work.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import losses  # noqa: E402

# Each loss's benchmark shapes, as its declaration gives them (./culoss losses --json).
SHAPES = losses.bench_shapes()


def dims(shape):
    return [int(v) for v in shape.split("x")]


def grad_leaf(t):
    return t.detach().requires_grad_(True)


def draw_rows(shape, dev, g):
    """N, C, [N, C] normal logits and [N] uniform targets of a row-softmax loss (this order of draws)."""
    n, c = dims(shape)
    x = torch.randn(n, c, generator=g).to(dev)
    y = torch.randint(0, c, (n,), generator=g).to(dev)
    return n, c, x, y


def softmax_focal_loss(x, y, gamma, alpha):
    """Softmax focal loss, scalar alpha, mean over the rows: the common PyTorch way."""
    logpt = F.log_softmax(x, dim=1).gather(1, y[:, None]).squeeze(1)
    pt = logpt.exp()
    return (-alpha * (1 - pt) ** gamma * logpt).mean()


def interclass_distance_loss(x, y):
    """Class-distance weighted cross-entropy, mean over the rows, as one writes it in PyTorch: the
    weights (|argmax - y| + 1) / M_y under no_grad, times F.cross_entropy per row."""
    with torch.no_grad():
        k = torch.arange(x.shape[1], device=x.device)
        m = ((y[:, None] - k[None, :]).abs() + 1).sum(dim=1)
        w = ((x.argmax(dim=1) - y).abs() + 1).to(x.dtype) / m.to(x.dtype)
    return (w * F.cross_entropy(x, y, reduction="none")).mean()


def record(loss, backend, shape, threads, ms, nbytes, **extra):
    """The JSON line of one timed case (./culoss bench --json's fields), from its times ms."""
    med = statistics.median(ms)
    return json.dumps({"loss": loss, "backend": backend, "shape": shape, "threads": threads, "median_ms": med,
                       "min_ms": min(ms), "runs": len(ms), "bytes": nbytes, "gbps": nbytes / (med * 1e6), **extra})


# Each builder returns (inputs, step, bytes): step(inputs) runs forward+backward once; bytes is
# what must move (inputs read once, gradients written once), as culoss's workloads count it.

def softmax_cross_entropy(shape, dev, g):
    n, c, x, y = draw_rows(shape, dev, g)
    x = grad_leaf(x)

    def step(x=x, y=y):
        x.grad = None
        F.cross_entropy(x, y).backward()
    return step, 2 * n * c * 4 + n * 4, [x, y]


def softmax_cross_entropy_probs(shape, dev, g):
    """F.cross_entropy with class probabilities (soft targets) of the logits' shape."""
    n, c, x, _ = draw_rows(shape, dev, g)
    t = torch.softmax(torch.randn(n, c, generator=g), dim=1).to(dev)
    x = grad_leaf(x)

    def step(x=x, t=t):
        x.grad = None
        F.cross_entropy(x, t).backward()
    return step, 3 * n * c * 4, [x, t]


def softmax_focal(shape, dev, g, gamma=2.0, alpha=1.0):
    n, c, x, y = draw_rows(shape, dev, g)
    x = grad_leaf(x)

    def step(x=x, y=y):
        x.grad = None
        softmax_focal_loss(x, y, gamma, alpha).backward()
    return step, 2 * n * c * 4 + n * 4, [x, y]


def softmax_cross_entropy_spatial(shape, dev, g):
    """Cross-entropy over [N, C, H, W] logits (per pixel), [N, H, W] targets: segmentation."""
    n, c, h, w = dims(shape)
    x = grad_leaf(torch.randn(n, c, h, w, generator=g).to(dev))
    y = torch.randint(0, c, (n, h, w), generator=g).to(dev)

    def step(x=x, y=y):
        x.grad = None
        F.cross_entropy(x, y).backward()
    return step, 2 * n * c * h * w * 4 + n * h * w * 4, [x, y]


def multiclass_hinge(shape, dev, g):
    n, c, x, y = draw_rows(shape, dev, g)
    x = grad_leaf(x)

    def step(x=x, y=y):
        x.grad = None
        F.multi_margin_loss(x, y).backward()
    return step, 2 * n * c * 4 + n * 4, [x, y]


def interclass_distance(shape, dev, g):
    n, c, x, y = draw_rows(shape, dev, g)
    x = grad_leaf(x)

    def step(x=x, y=y):
        x.grad = None
        interclass_distance_loss(x, y).backward()
    return step, 2 * n * c * 4 + n * 4, [x, y]


def zero_one(shape, dev, g):
    """The error rate, forward only (there is no gradient)."""
    n, c, x, y = draw_rows(shape, dev, g)

    def step(x=x, y=y):
        (x.argmax(dim=1) != y).float().mean()
    return step, n * c * 4 + n * 4, [x, y]


def sigmoid_focal(shape, dev, g, alpha=0.25, gamma=2.0):
    n, c = dims(shape)
    x = grad_leaf(torch.randn(n, c, generator=g).to(dev))
    t = (torch.rand(n, c, generator=g) < 0.1).float().to(dev)

    def step(x=x, t=t):
        # torchvision.ops.sigmoid_focal_loss, verbatim
        x.grad = None
        p = torch.sigmoid(x)
        ce = F.binary_cross_entropy_with_logits(x, t, reduction="none")
        p_t = p * t + (1 - p) * (1 - t)
        loss = ce * ((1 - p_t) ** gamma)
        alpha_t = alpha * t + (1 - alpha) * (1 - t)
        (alpha_t * loss).mean().backward()
    return step, 3 * n * c * 4, [x, t]


PENALTY_LAMBDA = 1e-4


def penalty(l1):
    """The builder of a penalty over [N] parameters, lambda 1e-4: lambda * sum |w| (L1) or lambda / 2
    * sum w^2 (L2), as one writes it in PyTorch."""
    def build(shape, dev, g):
        (n,) = dims(shape)
        w = grad_leaf(torch.randn(n, generator=g).to(dev))

        def step(w=w):
            w.grad = None
            value = PENALTY_LAMBDA * w.abs().sum() if l1 else PENALTY_LAMBDA / 2 * (w * w).sum()
            value.backward()
        return step, 2 * n * 4, [w]
    return build


def elementwise(torch_loss, targets=lambda t: t):
    """The builder of an elementwise loss of [N] input and target: torch_loss(x, t), mean; the
    targets are targets(a normal draw), made before the timing."""
    def build(shape, dev, g):
        (n,) = dims(shape)
        x = grad_leaf(torch.randn(n, generator=g).to(dev))
        t = targets(torch.randn(n, generator=g)).to(dev)

        def step(x=x, t=t):
            x.grad = None
            torch_loss(x, t).backward()
        return step, 3 * n * 4, [x, t]
    return build


smooth_l1 = elementwise(lambda x, t: F.smooth_l1_loss(x, t, beta=1.0))
mse = elementwise(lambda x, t: F.mse_loss(x, t))
l1 = elementwise(lambda x, t: F.l1_loss(x, t))
# The binary losses as a trainer writes them in PyTorch (it has no function for either), with
# targets +-1.
exponential = elementwise(lambda s, y: torch.exp(-y * s).mean(), targets=torch.sign)
hinge = elementwise(lambda s, y: torch.clamp(1.0 - y * s, min=0).mean(), targets=torch.sign)
logistic = elementwise(lambda x, t: F.binary_cross_entropy_with_logits(x, t), targets=torch.sigmoid)
huber = elementwise(lambda x, t: F.huber_loss(x, t, delta=1.0))


def triplet_margin(shape, dev, g):
    n, d = dims(shape)
    a, p, q = (grad_leaf(torch.randn(n, d, generator=g).to(dev)) for _ in range(3))

    def step(a=a, p=p, q=q):
        a.grad = p.grad = q.grad = None
        F.triplet_margin_loss(a, p, q, margin=1.0, p=2.0, eps=1e-6).backward()
    return step, 6 * n * d * 4, [a, p, q]


def center(shape, dev, g, lam=1.0, alpha=0.5):
    n, d, k = dims(shape)
    x = grad_leaf(torch.randn(n, d, generator=g).to(dev))
    y = torch.randint(0, k, (n,), generator=g).to(dev)
    centers = torch.randn(k, d, generator=g).to(dev)

    def step(x=x, y=y, centers=centers):
        # The common PyTorch center loss: loss and feature gradient, then Wen et al.'s update
        # c_j -= alpha * sum_{y_i=j} (c_j - x_i) / (1 + n_j) with index_add_.
        x.grad = None
        cy = centers[y]
        (lam / 2 * ((x - cy) ** 2).sum() / n).backward()
        with torch.no_grad():
            counts = torch.bincount(y, minlength=k).to(x.dtype)
            delta = torch.zeros_like(centers).index_add_(0, y, cy - x.detach())
            centers -= alpha * delta / (1 + counts)[:, None]
    # features read for the loss and the update, gradient written, the rows of the touched centers
    # read and written (at most N of them)
    return step, (3 * n * d + 2 * min(n, k) * d) * 4 + n * 4, [x, y, centers]


def large_margin_softmax_loss(x, w, y, m, lam):
    """L-Softmax (Liu et al. 2016), mean over the rows, as the PyTorch ports write it: the logits
    x W, the target's angle by acos, k = floor(m theta / pi), psi = (-1)^k cos(m theta) - 2k, the
    target logit replaced by (lam f_y + |W_y||x| psi) / (1 + lam), then F.cross_entropy."""
    f = x @ w
    fy = f.gather(1, y[:, None])[:, 0]
    norms = x.norm(dim=1) * w.norm(dim=0)[y]
    theta = torch.acos(torch.clamp(fy / norms, -1.0, 1.0))
    k = torch.floor(theta.detach() * m / 3.141592653589793).clamp(0, m - 1)
    psi = (1.0 - 2.0 * (k % 2)) * torch.cos(m * theta) - 2 * k
    fm = f.scatter(1, y[:, None], ((lam * fy + norms * psi) / (1 + lam))[:, None])
    return F.cross_entropy(fm, y)


def large_margin_softmax(shape, dev, g, m=4, lam=0.0):
    n, d, c = dims(shape)
    x = grad_leaf(torch.randn(n, d, generator=g).to(dev))
    w = grad_leaf((torch.randn(d, c, generator=g) * 0.05).to(dev))
    y = torch.randint(0, c, (n,), generator=g).to(dev)

    def step(x=x, w=w, y=y):
        x.grad = w.grad = None
        large_margin_softmax_loss(x, w, y, m, lam).backward()
    # features and weights read, their gradients and the modified logits written
    return step, (2 * n * d + 2 * d * c + n * c) * 4 + n * 4, [x, w, y]


BUILDERS = {"softmax_cross_entropy": softmax_cross_entropy,
            "softmax_cross_entropy_probs": softmax_cross_entropy_probs, "softmax_focal": softmax_focal,
            "sigmoid_focal": sigmoid_focal, "smooth_l1": smooth_l1, "huber": huber, "mse": mse,
            "l1": l1, "exponential": exponential, "hinge": hinge, "logistic": logistic,
            "multiclass_hinge": multiclass_hinge, "zero_one": zero_one, "interclass_distance": interclass_distance,
            "l1_penalty": penalty(True), "l2_penalty": penalty(False),
            "softmax_cross_entropy_spatial": softmax_cross_entropy_spatial, "triplet_margin": triplet_margin, "center": center,
            "large_margin_softmax": large_margin_softmax}


def time_cpu(step, warmup_s, runs):
    end = time.perf_counter() + warmup_s
    while True:
        step()
        if time.perf_counter() >= end:
            break
    ms = []
    for _ in range(runs):
        t0 = time.perf_counter()
        step()
        ms.append((time.perf_counter() - t0) * 1e3)
    return ms


def time_cuda(steps, warmup_s, runs):
    """steps: several copies of the workload on different buffers, used in turn so that the
    working set exceeds L2 and no call finds its inputs still cached."""
    end = time.perf_counter() + warmup_s
    i = 0
    while time.perf_counter() < end or i < len(steps):
        steps[i % len(steps)]()
        i += 1
    torch.cuda.synchronize()
    ms = []
    for r in range(runs):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        steps[r % len(steps)]()
        e.record()
        e.synchronize()
        ms.append(s.elapsed_time(e))
    return ms


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--loss", default="all", help="comma-separated loss names, or all")
    ap.add_argument("--shape", default=None, help="comma-separated shapes (default: each loss's)")
    ap.add_argument("--threads", default=None, help="CPU threads, comma-separated (default: all cores)")
    ap.add_argument("--warmup-ms", type=float, default=500)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--rotate-bytes", type=float, default=200e6,
                    help="cuda: keep this many bytes of copies in rotation (default: 200 MB, past the L2)")
    a = ap.parse_args()
    names = [n for n in SHAPES if n in BUILDERS] if a.loss == "all" else a.loss.split(",")
    threads = [int(t) for t in a.threads.split(",")] if a.threads else [torch.get_num_threads()]
    if a.device == "cuda":
        threads = [None]
    backend = f"pytorch-{torch.__version__.split('+')[0]}-{a.device}"
    for loss in names:
        if loss not in BUILDERS:
            sys.exit(f"unknown loss {loss}; known: {', '.join(BUILDERS)}")
        for shape in (a.shape.split(",") if a.shape else SHAPES[loss]):
            for t in threads:
                g = torch.Generator().manual_seed(1)
                if t is not None:
                    torch.set_num_threads(t)
                step, nbytes, _ = BUILDERS[loss](shape, a.device, g)
                if a.device == "cuda":
                    copies = max(1, min(16, int(a.rotate_bytes // max(nbytes, 1)) + 1))
                    steps = [step] + [BUILDERS[loss](shape, a.device, g)[0] for _ in range(copies - 1)]
                    ms = time_cuda(steps, a.warmup_ms / 1e3, a.runs)
                else:
                    ms = time_cpu(step, a.warmup_ms / 1e3, a.runs)
                print(record(loss, backend, shape, t, ms, nbytes), flush=True)


if __name__ == "__main__":
    main()

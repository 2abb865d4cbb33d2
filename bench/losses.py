"""The declared losses as `./culoss losses --json` lists them: names, benchmark shapes and
parameters. The benchmark scripts read their workloads here instead of keeping their own list.

Where no JVM is at hand (a lent GPU machine), set CULOSS_LOSSES_JSON to a copy of that listing
(ci/prepare-gpu-carry.sh writes one into the carry).
"""
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def listing():
    path = os.environ.get("CULOSS_LOSSES_JSON")
    if path:
        with open(path) as f:
            return json.load(f)
    out = subprocess.run([os.path.join(ROOT, "culoss"), "losses", "--json"], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


def bench_shapes():
    """{name: [shape, ...]}: each loss's benchmark shapes, sizes joined by x; each other form of a
    loss's operation (softmax_cross_entropy_probs: soft targets) under its own name, on the loss's
    shapes, as ./culoss bench names it."""
    out = {}
    for loss in listing()["losses"]:
        out[loss["name"]] = loss["bench"]["shapes"]
        for form in loss.get("forms", []):
            out[form] = loss["bench"]["shapes"]
    return out

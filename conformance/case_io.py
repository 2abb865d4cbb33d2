"""Shared by every make_<loss>.py: drawing a case's inputs, comparing float64 results, writing
FORMAT.md cases, and the loop that writes one JSON file per case and checks what it wrote.

Inputs are float32 values written exactly; expected values are float64 rounded to
EXPECTED_DIGITS significant digits (relative error <= 5e-11, far below the 1e-5 pass
tolerance), which keeps the big-shape files small.
"""
import json
import math
import os
import sys
import zlib

import numpy as np

EXPECTED_DIGITS = 10
RTOL = 1e-12  # agreement required between a script's explicit formula and PyTorch's


def case_rng(spec):
    """The case's own generator, seeded by its name: each case draws the same inputs whatever
    cases come before it."""
    return np.random.default_rng(zlib.crc32(spec["name"].encode()))


def on_grid(v, q):
    """v rounded (in float64) to multiples of 1/q: exact in float32, short in JSON."""
    return np.round(np.asarray(v, dtype=np.float64) * q) / q


def draw_grad_output(rng, reduction, shape, quantize=False):
    """The float32 upstream gradient of a reduction-none case (multiples of 1/16 with quantize),
    None for the other reductions (which then draw nothing)."""
    if reduction != "none":
        return None
    g = rng.standard_normal(shape).astype(np.float32)
    if quantize:
        g = on_grid(g, 16).astype(np.float32)
    return g


def fail(message):
    """A case whose reference disagrees with PyTorch: say so and stop."""
    print(f"MISMATCH {message}", file=sys.stderr)
    raise SystemExit(1)


def fail_loss_grad(name, loss, torch_loss, grad, torch_grad):
    fail(f"{name}: ours loss {loss} pytorch {torch_loss}; grad max diff {np.nanmax(np.abs(grad - torch_grad))}")


def close(a, b, rtol=RTOL):
    """Same non-finite values in the same places; finite parts within rtol of ||b||_inf."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        return False
    fa, fb = np.isfinite(a), np.isfinite(b)
    if not np.array_equal(fa, fb):
        return False
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        return False
    nf = ~fb & ~np.isnan(b)
    if not np.array_equal(a[nf], b[nf]):
        return False
    if not fb.any():
        return True
    scale = np.max(np.abs(b[fb]))
    return np.max(np.abs(a[fb] - b[fb])) <= rtol * max(scale, 1e-12)



def num_in(v):
    """A float32 input value, exactly."""
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def num_out(v):
    """A float64 expected value, to EXPECTED_DIGITS significant digits."""
    v = num_in(v)
    return v if isinstance(v, str) else float(f"{v:.{EXPECTED_DIGITS}g}")


def tensor(arr, conv):
    arr = np.asarray(arr)
    return {"shape": list(arr.shape), "data": [conv(v) for v in arr.ravel()]}


def int_tensor(arr):
    arr = np.asarray(arr)
    return {"shape": list(arr.shape), "data": [int(v) for v in arr.ravel()]}


def make_case(loss, name, params, inputs, expected, grad_output=None):
    """A case as dump writes it; grad_output (float32, reduction none) becomes the last input."""
    inputs = dict(inputs)
    if grad_output is not None:
        inputs["grad_output"] = tensor(grad_output, num_in)
    return {"loss": loss, "name": name, "params": params, "inputs": inputs, "expected": expected}


def unbatched(case, names):
    """A case of one sample (N = 1) in PyTorch's unbatched shapes: every tensor in `names`, and
    grad_output and a reduction-none loss, loses its leading dimension of 1 (logits [1, C] become
    [C], targets [1] become [])."""
    out = {k: v for k, v in case.items()}
    for sect in ("inputs", "expected"):
        out[sect] = {}
        for k, t in case[sect].items():
            t = dict(t)
            if k in names or k == "grad_output" or (sect == "expected" and k == "loss" and
                                                     case["params"].get("reduction") == "none"):
                assert t["shape"][:1] == [1], (case["name"], k, t["shape"])
                t["shape"] = t["shape"][1:]
            out[sect][k] = t
    return out


def dump(case):
    """Pretty at the top, one line per tensor."""
    lines = ["{"]
    lines.append(f'  "loss": {json.dumps(case["loss"])},')
    lines.append(f'  "name": {json.dumps(case["name"])},')
    lines.append(f'  "params": {json.dumps(case["params"])},')
    for sect in ("inputs", "expected"):
        lines.append(f'  "{sect}": {{')
        items = list(case[sect].items())
        for i, (k, t) in enumerate(items):
            sep = "," if i + 1 < len(items) else ""
            data = json.dumps(t["data"], allow_nan=False, separators=(",", ":"))
            lines.append(f'    {json.dumps(k)}: {{"shape": {json.dumps(t["shape"])}, "data": {data}}}{sep}')
        lines.append("  }" + ("," if sect == "inputs" else ""))
    lines.append("}")
    return "\n".join(lines) + "\n"


def check_common(path, loss, params):
    """The checks every case file gets: its loss name, exactly these params, well-formed tensors."""
    with open(path) as f:
        d = json.load(f)
    assert d["loss"] == loss and set(d) == {"loss", "name", "params", "inputs", "expected"}, path
    assert set(d["params"]) == set(params), (path, sorted(d["params"]))
    for sect in ("inputs", "expected"):
        for k, t in d[sect].items():
            assert set(t) == {"shape", "data"}, (path, k)
            assert len(t["data"]) == math.prod(t["shape"]), (path, k)
            for v in t["data"]:
                assert isinstance(v, (int, float)) or v in ("inf", "-inf", "nan"), (path, k, v)
    return d


def check_reduction(d, rows):
    """The loss is shaped rows with reduction none (which, alone, gives grad_output, also shaped
    rows), a scalar otherwise."""
    red = d["params"]["reduction"]
    assert d["expected"]["loss"]["shape"] == (rows if red == "none" else [])
    assert ("grad_output" in d["inputs"]) == (red == "none")
    if "grad_output" in d["inputs"]:
        assert d["inputs"]["grad_output"]["shape"] == rows


def write_cases(out_dir, specs, run_case, check_file):
    """run_case(spec) -> (case dict, note or None); writes <name>.json for each spec into out_dir,
    removes stale .json files there, and runs check_file on each file written."""
    os.makedirs(out_dir, exist_ok=True)
    names = [s["name"] for s in specs]
    assert len(names) == len(set(names)), "duplicate case names"
    for old in os.listdir(out_dir):
        if old.endswith(".json") and old[:-5] not in names:
            os.remove(os.path.join(out_dir, old))
    total = 0
    for spec in specs:
        out, note = run_case(spec)
        path = os.path.join(out_dir, spec["name"] + ".json")
        with open(path, "w") as f:
            f.write(dump(out))
        check_file(path)
        total += os.path.getsize(path)
        if note:
            print(f"note: {spec['name']}: {note}")
    print(f"{len(specs)} cases, {total} bytes in {out_dir}")

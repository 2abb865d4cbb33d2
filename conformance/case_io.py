"""Shared by every make_<loss>.py: comparing float64 results, writing FORMAT.md cases, and the
loop that writes one JSON file per case and checks what it wrote.

Inputs are float32 values written exactly; expected values are float64 rounded to
EXPECTED_DIGITS significant digits (relative error <= 5e-11, far below the 1e-5 pass
tolerance), which keeps the big-shape files small.
"""
import json
import math
import os

import numpy as np

EXPECTED_DIGITS = 10
RTOL = 1e-12  # agreement required between a script's explicit formula and PyTorch's


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
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return float(f"{v:.{EXPECTED_DIGITS}g}")


def tensor(arr, conv):
    arr = np.asarray(arr)
    return {"shape": list(arr.shape), "data": [conv(v) for v in arr.ravel()]}


def int_tensor(arr):
    arr = np.asarray(arr)
    return {"shape": list(arr.shape), "data": [int(v) for v in arr.ravel()]}


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

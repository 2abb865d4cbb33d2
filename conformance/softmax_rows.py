"""What the row-softmax losses' scripts (make_softmax_cross_entropy.py, make_softmax_focal.py)
share: drawing [N, C] logits and [N] targets, the edits that put -inf or huge values in the
logits, PyTorch's stand-in for "ignore nothing", and the layout of a case and its checks."""
import numpy as np
import torch

from case_io import check_reduction, int_tensor, make_case, num_in, num_out, on_grid, tensor


def draw_logits_targets(spec, rng, ignore_index):
    """The case's logits (spec["logits"], or drawn: normal times spec["scale"], on the 1/quantize
    grid when given) and targets (spec["targets"], or drawn: no class is ignore_index, then
    spec["n_ignored"] rows are set to it)."""
    n, c = spec["n"], spec["c"]
    if spec["logits"] is not None:
        x = np.asarray(spec["logits"], dtype=np.float32).reshape(n, c)
    else:
        x = (rng.standard_normal((n, c)) * spec["scale"]).astype(np.float32)
        if spec["quantize"]:
            x = on_grid(x, spec["quantize"]).astype(np.float32)
    if spec["targets"] is not None:
        return x, np.asarray(spec["targets"], dtype=np.int64)
    if ignore_index is not None and 0 <= ignore_index < c:
        # ignore_index is a real class: draw others, then set n_ignored rows to it
        choices = np.array([k for k in range(c) if k != ignore_index])
        y = rng.choice(choices, size=n) if len(choices) else np.zeros(n, dtype=np.int64)
    else:
        y = rng.integers(0, c, size=n)
    if spec["n_ignored"]:
        rows = rng.choice(n, size=spec["n_ignored"], replace=False)
        y[rows] = ignore_index
    return x, y


def neginf_some(x, y):
    """-inf in a few non-target logits, never a whole row."""
    n, c = x.shape
    for i in range(n):
        for k in range(c):
            if k != y[i] and (i + k) % 3 == 0:
                x[i, k] = -np.inf
    return x, y


def neginf_target(x, y):
    """Like neginf_some, and the target logit of row 1 is -inf (p_y = 0: that row's loss is inf)."""
    x, y = neginf_some(x, y)
    x[1, y[1]] = -np.inf
    return x, y


def scaled_to_1e4(x, y):
    """Logits around +-1e4 (exp overflows in float32 and float64 alike), rows 1 and 2 near ties
    (row 1 all about -1e4, row 2 all about 1e4); row 0 is the caller's."""
    x = x * np.float32(1e4) / np.float32(3.0)
    x[1, :] = -1e4
    x[1, y[1]] = -1e4 + 1.5
    x[2, :] = 1e4
    x[2, y[2]] = 1e4 - 0.5
    return x


def torch_targets(targets, n, ignore_index):
    """Targets as PyTorch takes them, and the ignore_index to give it: PyTorch always ignores a
    class, so "none" (None) becomes its default -100, which no target may then be."""
    y = torch.tensor(targets, dtype=torch.int64).reshape(n)
    if ignore_index is None:
        assert not bool((y == -100).any())
        return y, -100
    return y, ignore_index


def rows_case(loss, spec, params, x, y, class_input, g, expected_loss, grad):
    """The case: logits, targets, the per-class tensor (a (name, values) pair, or None) and
    grad_output in; loss and grad_logits expected."""
    inputs = {"logits": tensor(x, num_in), "targets": int_tensor(y)}
    if class_input is not None:
        inputs[class_input[0]] = tensor(class_input[1], num_in)
    expected = {"loss": tensor(expected_loss, num_out), "grad_logits": tensor(grad, num_out)}
    return make_case(loss, spec["name"], params, inputs, expected, g)


def check_rows_file(d, class_input):
    """The checks of the logits, targets, per-class tensor (named class_input, if given),
    grad_logits and reduction of a case d."""
    shape = d["inputs"]["logits"]["shape"]
    rows = shape[:-1]  # [N], or [] for one unbatched row [C]
    assert len(shape) in (1, 2)
    assert d["inputs"]["targets"]["shape"] == rows
    assert all(isinstance(v, int) for v in d["inputs"]["targets"]["data"])
    assert d["expected"]["grad_logits"]["shape"] == shape
    check_reduction(d, rows)
    c = shape[-1]
    if class_input in d["inputs"]:
        assert d["inputs"][class_input]["shape"] == [c]


def to_spatial(rows, nb, dims):
    """Rows ordered (sample, position), [N * inner, C], as [N, C, d1..dk] (the class axis second)."""
    rows = np.asarray(rows)
    return np.moveaxis(rows.reshape([nb] + dims + [rows.shape[1]]), -1, 1)


def spatial_case(out, layout, rows_shape):
    """A rows case of N * inner rows (sample-major) as PyTorch's [N, C, d1..dk] logits with
    [N, d1..dk] targets, a none loss and grad_output [N, d1..dk], grad_logits the logits' shape.
    layout = (N, [d1..dk]); the values are the rows case's, moved."""
    nb, dims = layout
    res = {k: v for k, v in out.items()}
    res["inputs"], res["expected"] = dict(out["inputs"]), dict(out["expected"])

    def moved(t):
        flat = np.asarray(t["data"], dtype=object).reshape(rows_shape)
        return {"shape": [nb, rows_shape[1]] + dims, "data": list(to_spatial(flat, nb, dims).ravel())}
    res["inputs"]["logits"] = moved(out["inputs"]["logits"])
    res["expected"]["grad_logits"] = moved(out["expected"]["grad_logits"])
    res["inputs"]["targets"] = dict(out["inputs"]["targets"], shape=[nb] + dims)
    if "grad_output" in out["inputs"]:
        res["inputs"]["grad_output"] = dict(out["inputs"]["grad_output"], shape=[nb] + dims)
        res["expected"]["loss"] = dict(out["expected"]["loss"], shape=[nb] + dims)
    return res


def check_spatial_file(d):
    """The checks of a case with [N, C, d1..dk] logits."""
    shape = d["inputs"]["logits"]["shape"]
    per_sample = [shape[0]] + shape[2:]
    assert d["inputs"]["targets"]["shape"] == per_sample and d["expected"]["grad_logits"]["shape"] == shape
    assert d["expected"]["loss"]["shape"] == (per_sample if d["params"]["reduction"] == "none" else [])

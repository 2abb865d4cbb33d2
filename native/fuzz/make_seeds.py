#!/usr/bin/env python3
"""Writes the seed corpus of culoss_api_fuzzer (native/fuzz/corpus/api/seed-*): one valid call per
C entry point at least, and a few edge cases (in place, aliased, misaligned, NULL, huge sizes).

The byte format is api_fuzzer.cpp's Reader, front to back: an entry byte, then per family the
sizes (read_size: a byte < 200 then a little-endian u16), options (read_float: a byte < 128 is
the default; 128..199 then an index into `nice`), reduction and dtype bytes, the workspace mode,
one layout byte per tensor (0: own 16-byte aligned buffer, 150..174: 4-byte aligned, 175..179:
misaligned, 180..199: NULL, 200/201: arena 1/2 followed by a u16 element offset), the contents'
seed (u64), scale, bad-label rate, specials, arena misalignment.

Usage: python3 native/fuzz/make_seeds.py [out_dir]   (default: native/fuzz/corpus/api)
Seeds that libFuzzer has since minimised or that reproduce findings live beside them under other
names; this script writes only seed-* files.
"""
import os
import struct
import sys

ENTRIES = [
    "MseWorkspaceSize", "MseForward", "MseBackward", "MseForwardBackward",
    "SmoothL1WorkspaceSize", "SmoothL1Forward", "SmoothL1Backward", "SmoothL1ForwardBackward",
    "HuberWorkspaceSize", "HuberForward", "HuberBackward", "HuberForwardBackward",
    "SigmoidFocalWorkspaceSize", "SigmoidFocalForward", "SigmoidFocalBackward", "SigmoidFocalForwardBackward",
    "SoftmaxCrossEntropyWorkspaceSize", "SoftmaxCrossEntropyForward", "SoftmaxCrossEntropyBackward",
    "SoftmaxCrossEntropyForwardBackward",
    "SoftmaxFocalWorkspaceSize", "SoftmaxFocalForward", "SoftmaxFocalBackward", "SoftmaxFocalForwardBackward",
    "TripletMarginWorkspaceSize", "TripletMarginForward", "TripletMarginBackward", "TripletMarginForwardBackward",
    "CenterLossWorkspaceSize", "CenterLossForward", "CenterLossBackward", "CenterLossForwardBackward",
    "CenterLossUpdateCenters",
    "L1WorkspaceSize", "L1Forward", "L1Backward", "L1ForwardBackward",
    "ExponentialWorkspaceSize", "ExponentialForward", "ExponentialBackward", "ExponentialForwardBackward",
    "HingeWorkspaceSize", "HingeForward", "HingeBackward", "HingeForwardBackward",
    "LogisticWorkspaceSize", "LogisticForward", "LogisticBackward", "LogisticForwardBackward",
    "MulticlassHingeWorkspaceSize", "MulticlassHingeForward", "MulticlassHingeBackward",
    "MulticlassHingeForwardBackward",
    "ZeroOneWorkspaceSize", "ZeroOneForward",
    "Malloc", "MemcpyAsync", "MemsetAsync", "Misc",
    "SoftmaxCrossEntropyProbsWorkspaceSize", "SoftmaxCrossEntropyProbsForward", "SoftmaxCrossEntropyProbsBackward",
    "SoftmaxCrossEntropyProbsForwardBackward",
    "InterclassDistanceWorkspaceSize", "InterclassDistanceForward", "InterclassDistanceBackward",
    "InterclassDistanceForwardBackward",
    "L1PenaltyWorkspaceSize", "L1PenaltyForward", "L1PenaltyBackward", "L1PenaltyForwardBackward",
    "L2PenaltyWorkspaceSize", "L2PenaltyForward", "L2PenaltyBackward", "L2PenaltyForwardBackward",
    "LargeMarginSoftmaxWorkspaceSize", "LargeMarginSoftmaxForward", "LargeMarginSoftmaxBackward",
    "LargeMarginSoftmaxForwardBackward",
    "LogisticWeightedWorkspaceSize", "LogisticWeightedForward", "LogisticWeightedBackward",
    "LogisticWeightedForwardBackward",
    "SoftmaxCrossEntropySpatialWorkspaceSize", "SoftmaxCrossEntropySpatialForward",
    "SoftmaxCrossEntropySpatialBackward", "SoftmaxCrossEntropySpatialForwardBackward",
    "SoftmaxFocalSpatialWorkspaceSize", "SoftmaxFocalSpatialForward", "SoftmaxFocalSpatialBackward",
    "SoftmaxFocalSpatialForwardBackward",
    "SoftmaxCrossEntropyProbsSpatialWorkspaceSize", "SoftmaxCrossEntropyProbsSpatialForward",
    "SoftmaxCrossEntropyProbsSpatialBackward", "SoftmaxCrossEntropyProbsSpatialForwardBackward",
]
E = {name: i for i, name in enumerate(ENTRIES)}
SPECIAL = {  # read_size's special table (mode 200..239, then an index byte)
    "0": 0, "1": 1, "-1": 2, "INT32_MAX": 3, "2^31": 4, "2^31+1": 5, "2^32": 6, "2^40": 7, "2^45": 8,
    "2^48": 9, "2^61": 10, "2^62": 11, "2^62+1": 12, "INT64_MAX": 13, "INT64_MAX/4+1": 14, "INT64_MIN": 15,
}


def size(v):
    if isinstance(v, str):
        return bytes([200, SPECIAL[v]])
    return bytes([0]) + struct.pack("<H", v)


def dflt():
    return bytes([0])


def nice(i):  # 0, 1, 2, 0.5, 0.25, 0.1, 3, 1e-3, 1.5, 0.75, 10, 1e-6
    return bytes([128, i])


def special_float(i):  # NaN, inf, -inf, -1, -0, 1e-45, 3.4e38, -3.4e38, 1e30, -0.5
    return bytes([200, i])


def tail(layout, seed=1, scale=1, bad_rate=0, ws=0, arena_misalign=0):
    out = bytes([ws])
    for m in layout:
        out += m if isinstance(m, bytes) else bytes([m])
    return out + struct.pack("<Q", seed) + bytes([scale, bad_rate, 0, arena_misalign])


def arena(a, offset):
    return bytes([199 + a]) + struct.pack("<H", offset)


def elementwise(name, count, reduction, layout=None, f1=None, f2=None, **kw):
    layout = layout or [0] * 6  # x, t, grad_output, loss, grad, workspace
    return (bytes([E[name]]) + size(count) + (f1 or dflt()) + (f2 or dflt()) + bytes([reduction, 0]) +
            tail(layout, **kw))


def rows(name, n, c, reduction, stride_extra=0, grad_same=True, ignore=0, f1=None, f2=None, layout=None, **kw):
    layout = layout or [0] * 8  # logits, targets, weights, grad_output, loss, grad, error_word, workspace
    return (bytes([E[name]]) + size(n) + size(c) + bytes([0, stride_extra, 0 if grad_same else 150, ignore]) +
            (f1 or dflt()) + (f2 or dflt()) + bytes([reduction, 0]) + tail(layout, **kw))


def triplet(name, n, d, reduction, swap=0, f2=None, layout=None, **kw):
    layout = layout or [0] * 9  # anchor, positive, negative, grad_output, loss, ga, gp, gn, workspace
    return (bytes([E[name]]) + size(n) + size(d) + bytes([0]) + dflt() + (f2 or dflt()) + dflt() +
            bytes([swap, reduction, 0]) + tail(layout, **kw))


def center(name, n, d, ncls, reduction, layout=None, **kw):
    layout = layout or [0] * 9  # features, labels, centers, grad_output, loss, gf, gc, error_word, workspace
    return bytes([E[name]]) + size(n) + size(d) + size(ncls) + dflt() + bytes([reduction, 0]) + tail(layout, **kw)


def large_margin(name, n, d, ncls, reduction, f1=None, f2=None, layout=None, **kw):
    layout = layout or [0] * 10  # features, weights, targets, grad_output, loss, logits, gf, gw, error_word, ws
    return (bytes([E[name]]) + size(n) + size(d) + size(ncls) + (f1 or dflt()) + (f2 or dflt()) +
            bytes([reduction, 0]) + tail(layout, **kw))


def weighted_logistic(name, classes, count, reduction, multiple=True, layout=None, **kw):
    layout = layout or [0] * 8  # logits, targets, weight, pos_weight, grad_output, loss, grad, workspace
    return (bytes([E[name]]) + size(classes) + size(count) + bytes([0 if multiple else 250]) +
            bytes([reduction, 0]) + tail(layout, **kw))


def spatial(name, n, c, inner, reduction, ignore=0, f1=None, f2=None, layout=None, **kw):
    layout = layout or [0] * 8  # logits, targets (or target_probs), table, grad_output, loss, grad, error_word, ws
    return (bytes([E[name]]) + size(n) + size(c) + size(inner) + bytes([ignore]) + (f1 or dflt()) + (f2 or dflt()) +
            bytes([reduction, 0]) + tail(layout, **kw))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "api")
    os.makedirs(out, exist_ok=True)
    seeds = {}
    NULL = 180
    # Every elementwise entry point, valid, each reduction once.
    for loss, f1 in (("Mse", None), ("SmoothL1", nice(1)), ("Huber", nice(3)), ("SigmoidFocal", None), ("L1", None),
                     ("Exponential", None), ("Hinge", nice(1)), ("Logistic", nice(2))):
        seeds[f"{loss}WorkspaceSize"] = bytes([E[loss + "WorkspaceSize"]]) + size(1000) + dflt() + dflt() + bytes([1, 0, 0])
        seeds[f"{loss}Forward-sum"] = elementwise(loss + "Forward", 1000, 1, f1=f1)
        seeds[f"{loss}Backward-mean"] = elementwise(loss + "Backward", 257, 2, f1=f1, seed=2)
        seeds[f"{loss}ForwardBackward-none"] = elementwise(loss + "ForwardBackward", 33, 0, f1=f1, seed=3)
    # The penalties (f1: lambda; the reduction byte is read but a penalty takes none).
    for loss in ("L1Penalty", "L2Penalty"):
        seeds[f"{loss}WorkspaceSize"] = bytes([E[loss + "WorkspaceSize"]]) + size(1000) + dflt() + dflt() + bytes([1, 0, 0])
        seeds[f"{loss}Forward"] = elementwise(loss + "Forward", 1000, 1, f1=nice(1))
        seeds[f"{loss}Backward"] = elementwise(loss + "Backward", 257, 1, f1=nice(1), seed=2)
        seeds[f"{loss}ForwardBackward"] = elementwise(loss + "ForwardBackward", 33, 1, f1=nice(1), seed=3)
    # In place (documented): the gradient over the input, the NONE loss over the target.
    seeds["MseForwardBackward-inplace"] = elementwise(
        "MseForwardBackward", 64, 0, layout=[arena(1, 0), arena(2, 0), 0, arena(2, 0), arena(1, 0), 0])
    seeds["HuberBackward-inplace-4byte-aligned"] = elementwise(
        "HuberBackward", 61, 2, layout=[150, 0, 0, 0, 150, 0], f1=nice(1))
    seeds["SmoothL1Forward-misaligned"] = elementwise("SmoothL1Forward", 8, 1, layout=[176, 0, 0, 0, 0, 0])
    seeds["MseForward-null-input"] = elementwise("MseForward", 8, 1, layout=[NULL, 0, 0, 0, 0, 0])
    seeds["SmoothL1Forward-negative-beta"] = elementwise("SmoothL1Forward", 8, 1, f1=special_float(3))
    seeds["MseForward-count-zero"] = elementwise("MseForward", 0, 2)
    # Row losses.
    for loss in ("SoftmaxCrossEntropy", "SoftmaxFocal"):
        seeds[f"{loss}WorkspaceSize"] = rows(loss + "WorkspaceSize", 16, 10, 2)
        seeds[f"{loss}Forward-mean"] = rows(loss + "Forward", 16, 10, 2, bad_rate=20)
        seeds[f"{loss}Backward-sum-stride"] = rows(loss + "Backward", 9, 7, 1, stride_extra=3, grad_same=False, seed=5)
        seeds[f"{loss}ForwardBackward-none"] = rows(loss + "ForwardBackward", 8, 33, 0, seed=6)
    seeds["SoftmaxCrossEntropyForwardBackward-inplace"] = rows(
        "SoftmaxCrossEntropyForwardBackward", 8, 12, 2, layout=[arena(1, 0), 0, NULL, 0, 0, arena(1, 0), 0, 0])
    seeds["SoftmaxCrossEntropyForward-block-per-row"] = (
        bytes([E["SoftmaxCrossEntropyForward"]]) + size(2) + size(0) + bytes([235]) + struct.pack("<H", 1100) +
        bytes([0, 0, 0]) + dflt() + dflt() + bytes([1, 0]) + tail([0] * 8))
    seeds["SoftmaxCrossEntropyForward-smoothing"] = rows("SoftmaxCrossEntropyForward", 5, 6, 2, f1=nice(5))
    # Multi-class hinge (f2: p, 1 or 2) and the forward-only 0-1 loss.
    seeds["MulticlassHingeWorkspaceSize"] = rows("MulticlassHingeWorkspaceSize", 16, 10, 2)
    seeds["MulticlassHingeForward-mean"] = rows("MulticlassHingeForward", 16, 10, 2, f1=nice(1), f2=nice(1),
                                                bad_rate=20)
    seeds["MulticlassHingeBackward-sum-stride-p2"] = rows("MulticlassHingeBackward", 9, 7, 1, stride_extra=3,
                                                          grad_same=False, f1=nice(1), f2=nice(2), seed=12)
    seeds["MulticlassHingeForwardBackward-inplace"] = rows(
        "MulticlassHingeForwardBackward", 8, 12, 0, f1=nice(1), f2=nice(1),
        layout=[arena(1, 0), 0, NULL, 0, 0, arena(1, 0), 0, 0])
    seeds["ZeroOneWorkspaceSize"] = rows("ZeroOneWorkspaceSize", 16, 10, 2)
    seeds["ZeroOneForward-mean"] = rows("ZeroOneForward", 16, 10, 2, bad_rate=20)
    seeds["ZeroOneForward-none-stride"] = rows("ZeroOneForward", 7, 33, 0, stride_extra=2, seed=13)
    # Soft targets (the targets' tensor is n * c floats; no error word).
    seeds["SoftmaxCrossEntropyProbsWorkspaceSize"] = rows("SoftmaxCrossEntropyProbsWorkspaceSize", 16, 10, 2)
    seeds["SoftmaxCrossEntropyProbsForward-mean"] = rows("SoftmaxCrossEntropyProbsForward", 16, 10, 2, f1=nice(5))
    seeds["SoftmaxCrossEntropyProbsBackward-sum-stride"] = rows("SoftmaxCrossEntropyProbsBackward", 9, 7, 1,
                                                                stride_extra=3, grad_same=False, seed=14)
    seeds["SoftmaxCrossEntropyProbsForwardBackward-inplace"] = rows(
        "SoftmaxCrossEntropyProbsForwardBackward", 8, 12, 0, layout=[arena(1, 0), 0, NULL, 0, 0, arena(1, 0), NULL, 0])
    # The class-distance weighted cross-entropy (no table: its tensor is never used).
    seeds["InterclassDistanceWorkspaceSize"] = rows("InterclassDistanceWorkspaceSize", 16, 10, 2)
    seeds["InterclassDistanceForward-mean"] = rows("InterclassDistanceForward", 16, 10, 2, bad_rate=20)
    seeds["InterclassDistanceBackward-sum-stride"] = rows("InterclassDistanceBackward", 9, 7, 1, stride_extra=3,
                                                          grad_same=False, seed=15)
    seeds["InterclassDistanceForwardBackward-inplace"] = rows(
        "InterclassDistanceForwardBackward", 8, 12, 0, layout=[arena(1, 0), 0, NULL, 0, 0, arena(1, 0), 0, 0])
    # Triplet margin.
    seeds["TripletMarginWorkspaceSize"] = triplet("TripletMarginWorkspaceSize", 8, 16, 2)
    seeds["TripletMarginForward-mean"] = triplet("TripletMarginForward", 8, 16, 2)
    seeds["TripletMarginBackward-none-swap"] = triplet("TripletMarginBackward", 5, 7, 0, swap=1, seed=7)
    seeds["TripletMarginForwardBackward-sum-p1"] = triplet("TripletMarginForwardBackward", 6, 12, 1, f2=nice(1), seed=8)
    seeds["TripletMarginBackward-grad-null"] = triplet(
        "TripletMarginBackward", 4, 8, 2, layout=[0, 0, 0, 0, 0, NULL, 0, NULL, 0])
    # Center loss.
    seeds["CenterLossWorkspaceSize"] = center("CenterLossWorkspaceSize", 16, 8, 5, 1)
    seeds["CenterLossForward-mean"] = center("CenterLossForward", 16, 8, 5, 2, bad_rate=10)
    seeds["CenterLossBackward-sum"] = center("CenterLossBackward", 12, 6, 4, 1, seed=9)
    seeds["CenterLossForwardBackward-none"] = center("CenterLossForwardBackward", 9, 4, 3, 0, seed=10)
    seeds["CenterLossForwardBackward-grad-features-inplace"] = center(
        "CenterLossForwardBackward", 8, 4, 3, 2, layout=[arena(1, 0), 0, 0, 0, 0, arena(1, 0), 0, 0, 0])
    seeds["CenterLossUpdateCenters"] = center("CenterLossUpdateCenters", 10, 4, 3, 0, seed=11)
    # L-Softmax: margins 2 (default), 3 (nice 6) and 1 (nice 1), annealing 0.5 (nice 3), bad targets.
    seeds["LargeMarginSoftmaxWorkspaceSize"] = large_margin("LargeMarginSoftmaxWorkspaceSize", 16, 8, 5, 1)
    seeds["LargeMarginSoftmaxForward-mean"] = large_margin("LargeMarginSoftmaxForward", 17, 9, 5, 2, bad_rate=10)
    seeds["LargeMarginSoftmaxBackward-sum-m3"] = large_margin("LargeMarginSoftmaxBackward", 12, 6, 4, 1, f2=nice(6),
                                                              seed=12)
    seeds["LargeMarginSoftmaxForwardBackward-none-lambda"] = large_margin(
        "LargeMarginSoftmaxForwardBackward", 9, 4, 3, 0, f1=nice(3), f2=nice(1), seed=13)
    # The logistic loss with tensor weights: count = classes * (count % 64) unless multiple is off.
    seeds["LogisticWeightedWorkspaceSize"] = weighted_logistic("LogisticWeightedWorkspaceSize", 5, 3, 1)
    seeds["LogisticWeightedForward-mean"] = weighted_logistic("LogisticWeightedForward", 7, 9, 2, seed=21)
    seeds["LogisticWeightedBackward-none"] = weighted_logistic("LogisticWeightedBackward", 4, 33, 0, seed=22)
    seeds["LogisticWeightedForwardBackward-sum-no-weight"] = weighted_logistic(
        "LogisticWeightedForwardBackward", 6, 20, 1, layout=[0, 0, 180, 0, 0, 0, 0, 0], seed=23)
    seeds["LogisticWeightedForwardBackward-not-a-multiple"] = weighted_logistic(
        "LogisticWeightedForwardBackward", 5, 12, 2, multiple=False, seed=24)
    seeds["LargeMarginSoftmaxForwardBackward-no-logits"] = large_margin(
        "LargeMarginSoftmaxForwardBackward", 20, 17, 18, 2, layout=[0, 0, 0, 0, 0, NULL, 0, 0, 0, 0], seed=14)
    # [N, C, d1..dk] logits (inner = d1 * ... * dk): class indices (an ignore index of -100: byte 1),
    # focal, soft targets; the gradient over the logits (arena 0 at offset 0 for both).
    seeds["SoftmaxCrossEntropySpatialWorkspaceSize"] = spatial("SoftmaxCrossEntropySpatialWorkspaceSize", 3, 5, 7, 2)
    seeds["SoftmaxCrossEntropySpatialForwardBackward-mean"] = spatial(
        "SoftmaxCrossEntropySpatialForwardBackward", 3, 5, 7, 2, ignore=1, f1=nice(5), bad_rate=10, seed=31)
    seeds["SoftmaxFocalSpatialForward-none"] = spatial("SoftmaxFocalSpatialForward", 2, 4, 9, 0, seed=32)
    seeds["SoftmaxFocalSpatialBackward-sum"] = spatial("SoftmaxFocalSpatialBackward", 4, 3, 5, 1, f2=nice(3), seed=33)
    seeds["SoftmaxCrossEntropyProbsSpatialForwardBackward-inplace"] = spatial(
        "SoftmaxCrossEntropyProbsSpatialForwardBackward", 2, 6, 5, 1, layout=[arena(1, 0), 0, NULL, 0, 0, arena(1, 0),
                                                                              NULL, 0], seed=34)
    seeds["SoftmaxCrossEntropyProbsSpatialBackward-none-empty-inner"] = spatial(
        "SoftmaxCrossEntropyProbsSpatialBackward", 3, 4, 0, 0, seed=35)
    # Memory helpers and the small queries.
    seeds["Malloc-1000"] = bytes([E["Malloc"], 0]) + struct.pack("<H", 1000) + bytes([0])
    seeds["Malloc-SIZE_MAX"] = bytes([E["Malloc"], 230, 0, 0])
    seeds["MemcpyAsync-h2d"] = (bytes([E["MemcpyAsync"]]) + struct.pack("<HH", 100, 100) + bytes([0, 4, 0, 0]) +
                                struct.pack("<H", 77) + bytes([0, 0]) + struct.pack("<Q", 3))
    seeds["MemcpyAsync-null-src-zero-bytes"] = (bytes([E["MemcpyAsync"]]) + struct.pack("<HH", 16, 16) +
                                                bytes([0, 0, 242, 0]) + struct.pack("<H", 0) + bytes([2, 0]) +
                                                struct.pack("<Q", 4) + bytes([0]))
    seeds["MemsetAsync"] = (bytes([E["MemsetAsync"]]) + struct.pack("<HH", 64, 0) + bytes([3, 0, 0, 0]) +
                            struct.pack("<H", 50) + bytes([0, 0x5a]) + struct.pack("<Q", 5))
    seeds["Misc"] = bytes([E["Misc"], 1, 0, 0, 0])
    for name, data in seeds.items():
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)
    print(f"{len(seeds)} seeds in {out}")


if __name__ == "__main__":
    main()

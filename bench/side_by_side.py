#!/usr/bin/python3
"""Turns benchmark JSON lines (./culoss bench --json, bench/pytorch_peers.py, bench/gpu_side_by_side.py)
into the side-by-side table (Markdown) and its chart (PNG).

  side_by_side.py --title T --header-line L ... --out bench/results/NAME  culoss.jsonl peers.jsonl ...

Rows pair culoss with each peer on the same loss, shape and threads; "speedup" is the peer's
median time over culoss's (above 1: culoss is faster). A line with loss "copy" (device-to-device
copy bandwidth measured in the same run) adds the fraction of it each culoss case reaches.
"""
import argparse
import json
from collections import OrderedDict


def load(paths):
    rows = []
    for p in paths:
        with open(p) as f:
            rows += [json.loads(line) for line in f if line.strip().startswith("{")]
    return rows


def is_culoss(r):
    return not r["backend"].startswith(("pytorch", "djl", "dl4j")) and r["loss"] != "copy"


def pair(rows):
    """[(key, culoss row, {peer backend: row})] in the order culoss's rows came."""
    ours = [r for r in rows if is_culoss(r)]
    peers = [r for r in rows if not is_culoss(r) and r["loss"] != "copy"]
    out = []
    for r in ours:
        key = (r["loss"], r["shape"], r["threads"])
        match = OrderedDict((p["backend"], p) for p in peers if (p["loss"], p["shape"], p["threads"]) == key)
        out.append((key, r, match))
    return out


def table(pairs, copy_gbps):
    peer_names = list(OrderedDict.fromkeys(b for _, _, m in pairs for b in m))
    head = ["loss", "shape", "threads", "culoss ms", "GB/s"]
    if copy_gbps:
        head.append("of copy BW")
    for b in peer_names:
        head += [f"{b} ms", f"speedup vs {b}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for (loss, shape, threads), r, m in pairs:
        cells = [loss, shape, "-" if threads is None else str(threads), f"{r['median_ms']:.4g}", f"{r['gbps']:.3g}"]
        if copy_gbps:
            cells.append(f"{100 * r['gbps'] / copy_gbps:.0f}%")
        for b in peer_names:
            p = m.get(b)
            cells += ["", ""] if p is None else [f"{p['median_ms']:.4g}", f"**{p['median_ms'] / r['median_ms']:.2f}x**"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


SHORT = {"softmax_cross_entropy": "CE", "softmax_focal": "sm focal", "sigmoid_focal": "sig focal",
         "smooth_l1": "smooth L1", "triplet_margin": "triplet"}


def chart(pairs, copy_gbps, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    peer_names = list(OrderedDict.fromkeys(b for _, _, m in pairs for b in m))
    labels = [f"{SHORT.get(l, l)}\n{s}" + ("" if t is None else f"\n{t} thr") for (l, s, t), _, _ in pairs]
    panels = 2 if copy_gbps else 1
    fig, axes = plt.subplots(panels, 1, figsize=(max(8, 0.75 * len(pairs) + 2), 4.8 * panels), squeeze=False)
    ax = axes[0][0]
    width = 0.8 / max(1, len(peer_names))
    for i, b in enumerate(peer_names):
        xs = [k + (i - (len(peer_names) - 1) / 2) * width for k in range(len(pairs))]
        ys = [m[b]["median_ms"] / r["median_ms"] if b in m else 0 for _, r, m in pairs]
        bars = ax.bar(xs, ys, width, label=f"vs {b}")
        for x, y in zip(xs, ys):
            if y:
                ax.text(x, y, f"{y:.1f}x", ha="center", va="bottom", fontsize=7)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_ylabel("speedup of culoss (peer time / culoss time)")
    ax.set_xticks(range(len(pairs)))
    ax.set_xticklabels(labels, fontsize=7)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    if copy_gbps:
        ax2 = axes[1][0]
        ax2.bar(range(len(pairs)), [r["gbps"] for _, r, _ in pairs], 0.6, label="culoss GB/s")
        ax2.axhline(copy_gbps, color="red", linestyle="--", label=f"device copy {copy_gbps:.0f} GB/s")
        ax2.set_ylabel("GB/s (bytes that must move / time)")
        ax2.set_xticks(range(len(pairs)))
        ax2.set_xticklabels(labels, fontsize=7)
        ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--title", required=True)
    ap.add_argument("--header-line", action="append", default=[], help="a line under the title (repeatable)")
    ap.add_argument("--out", required=True, help="path without extension: writes .md and .png")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    rows = load(a.files)
    copies = [r["gbps"] for r in rows if r["loss"] == "copy"]
    copy_gbps = max(copies) if copies else None
    pairs = pair(rows)
    name = a.out.rsplit("/", 1)[-1]
    md = [f"# {a.title}", ""] + [f"- {h}" for h in a.header_line]
    if copy_gbps:
        md.append(f"- device-to-device copy bandwidth, same run: {copy_gbps:.0f} GB/s")
    md += ["", f"![chart]({name}.png)", "", table(pairs, copy_gbps), ""]
    with open(a.out + ".md", "w") as f:
        f.write("\n".join(md))
    try:
        chart(pairs, copy_gbps, a.out + ".png", a.title)
    except ImportError:
        md.append("(no chart: matplotlib is not installed here; run side_by_side.py again where it is)")
    print("\n".join(md))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Converts JMH's JSON results of PeerBenchmark (-rf json) into the benchmark JSON lines that
side_by_side.py reads: one line per peer, shape and thread count (threads 0 becomes the core count).
JMH reports a mean per operation; it is written as median_ms, with the same bytes-moved count as
culoss's softmax cross-entropy workload."""
import json
import os
import sys

PEERS = {"djlPyTorch": "djl-0.36-pytorch-2.7.1", "dl4jLossMcxent": "dl4j-1.0.0-M2.1"}


def main(path):
    for r in json.load(open(path)):
        method = r["benchmark"].rsplit(".", 1)[-1]
        if method not in PEERS:
            continue
        shape = r["params"]["shape"]
        threads = int(r["params"]["threads"]) or os.cpu_count()
        n, c = (int(v) for v in shape.split("x"))
        nbytes = 2 * n * c * 4 + n * 4
        ms = r["primaryMetric"]["score"]
        print(json.dumps({"loss": "softmax_cross_entropy", "backend": PEERS[method], "shape": shape,
                          "threads": threads, "median_ms": ms, "min_ms": ms, "runs": r["measurementIterations"],
                          "bytes": nbytes, "gbps": nbytes / (ms * 1e6)}))


if __name__ == "__main__":
    main(sys.argv[1])

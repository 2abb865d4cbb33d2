#!/usr/bin/env bash
# The loss's part of a Deeplearning4j training step, side by side in one JMH run: DL4J's
# LossMCXENT as OutputLayer calls it (gradient, then score) against culoss's softmax
# cross-entropy as FusedOutputLayer calls it (one fused call), 4096x1000 and 512x32000 logits, 1
# and 2 threads (Dl4jOutputLayerBenchmark). Writes bench/results/dl4j-DATE.{md,json}.
#   bash bench/dl4j-side-by-side.sh
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=$(date -u +%Y-%m-%d)
commit=$(git rev-parse --short HEAD)
[ -z "$(git status --porcelain --untracked-files=no -- . ":!bench/results")" ] || commit="$commit+uncommitted"  # its own earlier tables aside
out=bench/results/dl4j-$stamp
mvn -B -q -Ppeers package -DskipTests -pl bench -am
# The machine may be shared: its load average before and after goes into the table.
load_before=$(cut -d' ' -f1 /proc/loadavg)
java -jar bench/target/benchmarks.jar Dl4jOutputLayerBenchmark -rf json -rff "$out.json"
load="$load_before before, $(cut -d' ' -f1 /proc/loadavg) after"
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
/usr/bin/python3 - "$out.json" "$out.md" "$commit" "$cpu" "$(nproc)" "$load" <<'PY'
import json, sys
src, dst, commit, cpu, cores, load = sys.argv[1:]
rows = {}
for r in json.load(open(src)):
    p = r["params"]
    key = (p["shape"], int(p["threads"]))
    m = r["primaryMetric"]
    rows.setdefault(key, {})[r["benchmark"].rsplit(".", 1)[1]] = (m["score"], m["scoreError"])
with open(dst, "w") as f:
    f.write("# The loss's part of a DL4J training step: LossMCXENT against culoss (FusedOutputLayer)\n\n")
    f.write(f"Commit {commit}, {cpu}, {cores} cores, JMH (3 warmup and 5 measured iterations of 1 s, one fork),\n"
            "one run, side by side. DL4J 1.0.0-M2.1 on nd4j-native; culoss's pure-Java backend. Each call in an nd4j\n"
            "workspace, as in a training step. Pre-softmax scores and one-hot labels, row-major float.\n"
            f"Load average (1 minute) {load}.\n\n"
            "- DL4J: `LossMCXENT.computeGradient` then `computeScore` with a softmax (what `OutputLayer` does per step);\n"
            "- culoss: `CulossSoftmaxCrossEntropy.computeGradientAndScore` (what `FusedOutputLayer` does per step).\n\n")
    f.write("| logits | threads | DL4J ms | culoss ms | culoss speedup |\n|---|---|---|---|---|\n")
    for (shape, t), v in sorted(rows.items(), key=lambda kv: (kv[0][0] != "4096x1000", kv[0][1])):
        d, c = v["dl4jLossMcxent"], v["culossFused"]
        f.write(f"| {shape} | {t} | {d[0]:.2f} ± {d[1]:.2f} | {c[0]:.2f} ± {c[1]:.2f} | **{d[0] / c[0]:.1f}x** |\n")
print(open(dst).read())
PY

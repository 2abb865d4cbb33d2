#!/usr/bin/env bash
# The CPU side-by-side (issue 4): in one run, on the same shapes, forward+backward of every loss on
# culoss's java backend and on PyTorch's CPU kernels (Debian's python3-torch), on 1 thread and on all
# cores. Writes bench/results/cpu-DATE.{md,png,jsonl}: the table of ratios and its chart.
#   bash bench/cpu-side-by-side.sh [--runs N] [--loss all|a,b]
# The JMH peers (DJL, Deeplearning4j) are separate: mvn -Ppeers -pl bench -am package, then
# java -jar bench/target/benchmarks.jar PeerBenchmark (see bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=30
loss=all
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --loss) loss=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--loss all|a,b]" >&2; exit 2 ;;
  esac
done

python=/usr/bin/python3
if ! "$python" -c 'import torch, matplotlib' 2>/dev/null; then
  echo "installing python3-torch and python3-matplotlib (apt-get)" >&2
  ${SUDO:-$( [ "$(id -u)" = 0 ] || echo sudo )} apt-get install -y -q python3-torch python3-matplotlib >/dev/null
fi

cores=$(nproc)
threads="1"
[ "$cores" -gt 1 ] && threads="1,$cores"
stamp=$(date -u +%Y-%m-%d)
commit=$(git rev-parse --short HEAD)
[ -z "$(git status --porcelain --untracked-files=no)" ] || commit="$commit+uncommitted"
out=bench/results/cpu-$stamp
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

./culoss bench --loss "$loss" --backend java --threads "$threads" --runs "$runs" --json | tee "$tmp/culoss.jsonl"
"$python" bench/pytorch_peers.py --device cpu --loss "$loss" --threads "$threads" --runs "$runs" | tee "$tmp/pytorch.jsonl"
cat "$tmp/culoss.jsonl" "$tmp/pytorch.jsonl" > "$out.jsonl"

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
"$python" bench/side_by_side.py --out "$out" \
  --title "CPU side by side: culoss java backend vs PyTorch, forward+backward" \
  --header-line "date $stamp, commit $commit" \
  --header-line "machine: $cpu, $cores cores, $(java -version 2>&1 | head -1), PyTorch $("$python" -c 'import torch; print(torch.__version__)')" \
  --header-line "command: bash bench/cpu-side-by-side.sh --runs $runs --loss $loss (median of $runs after a 500 ms warm-up; float32)" \
  --header-line "speedup = PyTorch time / culoss time; above 1 culoss is faster" \
  "$out.jsonl" >/dev/null
echo "wrote $out.md, $out.png, $out.jsonl"

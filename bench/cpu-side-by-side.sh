#!/usr/bin/env bash
# The CPU side-by-side: in one run, on the same shapes, forward+backward of every loss on
# culoss's java backend and on PyTorch's CPU kernels (Debian's python3-torch), on 1 thread and on all
# cores. Writes bench/results/cpu-DATE.{md,png,jsonl}: the table of ratios and its chart.
#   bash bench/cpu-side-by-side.sh [--runs N] [--loss all|a,b]
#   --peers also builds bench/ with -Ppeers (DJL with PyTorch 2.7.1, Deeplearning4j; large downloads)
#   and adds their softmax cross-entropy (JMH PeerBenchmark) to the table.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=30
loss=all
peers=0
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --loss) loss=$2; shift 2 ;;
    --peers) peers=1; shift ;;
    *) echo "usage: $0 [--runs N] [--loss all|a,b] [--peers]" >&2; exit 2 ;;
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
if [ $peers = 1 ]; then
  mvn -B -q -Ppeers package -DskipTests -pl bench -am
  java -jar bench/target/benchmarks.jar PeerBenchmark -p threads="$( [ "$cores" -gt 1 ] && echo 1,0 || echo 1)" -rf json -rff "$tmp/jmh.json"
  "$python" bench/jmh_to_lines.py "$tmp/jmh.json" | tee "$tmp/peers.jsonl"
  # the default benchmarks jar again, without the peers
  mvn -B -q package -DskipTests -pl bench -am
fi
cat "$tmp"/*.jsonl > "$out.jsonl"

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
"$python" bench/side_by_side.py --out "$out" \
  --title "CPU side by side: culoss java backend vs PyTorch, forward+backward" \
  --header-line "date $stamp, commit $commit" \
  --header-line "machine: $cpu, $cores cores, $(java -version 2>&1 | head -1), PyTorch $("$python" -c 'import torch; print(torch.__version__)')" \
  --header-line "command: bash bench/cpu-side-by-side.sh --runs $runs --loss $loss (median of $runs after a 500 ms warm-up; float32)" \
  --header-line "speedup = PyTorch time / culoss time; above 1 culoss is faster" \
  "$out.jsonl" >/dev/null
echo "wrote $out.md, $out.png, $out.jsonl"

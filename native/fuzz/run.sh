#!/usr/bin/env bash
# Builds build/fuzz and fuzzes the C API for a while (ci/test.sh: 60 s; ci/fuzz.sh: the long run):
#   bash native/fuzz/run.sh SECONDS WORK_CORPUS [extra libFuzzer flags...]
# Inputs come from WORK_CORPUS (written) and the committed corpus native/fuzz/corpus/api (read).
# Prints the executions, the exec/s and the corpus size; exits non-zero on a crash, a sanitizer
# report, a property violation or a timeout, after printing the report and the input's path.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=$1 work=$2
shift 2
bash native/fuzz/build.sh >/dev/null
bin=build/fuzz/native/fuzz/culoss_api_fuzzer
mkdir -p "$work" build/fuzz/artifacts
log=build/fuzz/fuzz-$(date +%s).log
rc=0
"$bin" "$work" native/fuzz/corpus/api -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 \
  -print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/ "$@" >"$log" 2>&1 || rc=$?
if [ "$rc" != 0 ]; then
  echo "---- fuzzer failed (exit $rc); the report (full log: $log):"
  grep -vE "^#[0-9]+ +(NEW|REDUCE|pulse|RELOAD)|^\s+NEW_FUNC|DEADLYSIGNAL" "$log" | tail -60
  echo "---- reproduce: $bin <input> (with CULOSS_FUZZ_TRACE=1 for the decoded call); inputs:"
  ls -l build/fuzz/artifacts/
  exit "$rc"
fi
done_line=$(grep -E "^#[0-9]+[[:space:]]+DONE" "$log" | tail -1 || true)
execs=$(grep -E "stat::number_of_executed_units" "$log" | awk '{print $2}' || true)
rate=$(grep -E "stat::average_exec_per_sec" "$log" | awk '{print $2}' || true)
echo "fuzzed ${seconds}s: ${execs} executions (${rate}/s); at the end: ${done_line#*DONE}"
echo "corpus: $(ls "$work" | wc -l) files in $work, $(ls native/fuzz/corpus/api | wc -l) committed"

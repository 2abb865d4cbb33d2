#!/usr/bin/env bash
# The long libFuzzer run over the C API of the emulated library, on demand (native/fuzz/README.md):
#   bash ci/fuzz.sh [seconds]      default 600 (10 minutes)
# Builds build/fuzz (clang, ASan+UBSan), fuzzes from the committed corpus native/fuzz/corpus/api
# with a working corpus build/fuzz/corpus-work, then merges into the committed corpus the inputs
# that add coverage (libFuzzer -merge=1); commit them. A crash stops the run and fails the script:
# the report is printed and the input is in build/fuzz/artifacts/.
# CULOSS_FUZZ_JOBS=N: N fuzzing processes in parallel (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh >/dev/null
seconds=${1:-600}
jobs=${CULOSS_FUZZ_JOBS:-1}
work=build/fuzz/corpus-work
extra=()
[ "$jobs" -gt 1 ] && extra=(-jobs="$jobs" -workers="$jobs")
rc=0
bash native/fuzz/run.sh "$seconds" "$work" "${extra[@]}" || rc=$?
corpus=native/fuzz/corpus/api
before=$(ls "$corpus" | wc -l)
build/fuzz/native/fuzz/culoss_api_fuzzer -merge=1 -timeout=30 -rss_limit_mb=4096 \
  -artifact_prefix=build/fuzz/artifacts/ "$corpus" "$work" >build/fuzz/merge.log 2>&1 ||
  { echo "merge failed:"; tail -30 build/fuzz/merge.log; rc=1; }
echo "committed corpus: $before -> $(ls "$corpus" | wc -l) files ($(du -sh "$corpus" | cut -f1)); git add $corpus to keep them"
exit "$rc"

#!/usr/bin/env bash
# The long libFuzzer run over the C API of the emulated library, on demand (native/fuzz/README.md):
#   bash ci/fuzz.sh [seconds]      default 600 (10 minutes)
# Builds build/fuzz (clang, ASan+UBSan), fuzzes from the committed corpus native/fuzz/corpus/api
# with a working corpus build/fuzz/corpus-work, then merges into the committed corpus the inputs
# that add coverage (libFuzzer -merge=1); commit them. A crash stops the run and fails the script:
# the report is printed and the input is in build/fuzz/artifacts/.
# CULOSS_FUZZ_JOBS=N: N fuzzing processes in parallel (default 1).
# The known-bug switches of native/fuzz/known_bugs.env are set (the committed finding-* inputs
# would stop the run at once otherwise); CULOSS_FUZZ_REPORT_ALL=1 reports every class.
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
# The merge runs every input again: with the same known-bug switches as the run.
if [ "${CULOSS_FUZZ_REPORT_ALL:-0}" != 1 ]; then
  while IFS= read -r line; do
    case "$line" in CULOSS_FUZZ_KNOWN_BUG_*=*) export "${line?}" ;; esac
  done <native/fuzz/known_bugs.env
fi
build/fuzz/native/fuzz/culoss_api_fuzzer -merge=1 -timeout=30 -rss_limit_mb=4096 \
  -artifact_prefix=build/fuzz/artifacts/ "$corpus" "$work" >build/fuzz/merge.log 2>&1 ||
  { echo "merge failed:"; tail -30 build/fuzz/merge.log; rc=1; }
echo "committed corpus: $before -> $(ls "$corpus" | wc -l) files ($(du -sh "$corpus" | cut -f1)); git add $corpus to keep them"
exit "$rc"

#!/usr/bin/env bash
# The one prepared check for a lent GPU. Run it there from the repo root with build/gpu-carry
# carried (ci/prepare-gpu-carry.sh makes it here). It builds for sm_90, runs the native tests on
# the GPU and under compute-sanitizer (memcheck, racecheck, synccheck, initcheck; reported as not
# available where the machine refuses it), runs the Java tests on the cuda backend with the
# carried JRE, and prints a table of what passed.
#
# What only a GPU can show, beyond the emulator: the hardware memory model (the emulator's
# threads are ordered by the host CPU's), real alignment faults and register allocation, the
# runtime's own launch checks, timings.
set -uo pipefail
cd "$(dirname "$0")/.."
results=()
record() { results+=("$(printf '| %-44s | %-6s | %s |' "$1" "$2" "$3")"); }
run() {  # name, command...
  local name=$1; shift
  local start=$SECONDS log
  log=$(mktemp)
  if "$@" >"$log" 2>&1; then record "$name" pass "$((SECONDS - start)) s"; else record "$name" FAIL "$((SECONDS - start)) s, see below"; echo "---- $name ----"; tail -40 "$log"; fi
  tail -3 "$log"
}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
run "cmake build (sm_90)" bash -c "cmake -S . -B build/gpu -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build/gpu -j16"
# Every native test built for CUDA (one cuda_<loss> binary per kernel family), on the GPU and
# under compute-sanitizer.
tests=(build/gpu/native/test/cuda_*)
[ -x "${tests[0]}" ] || record "native tests" FAIL "no build/gpu/native/test/cuda_* binaries"
# compute-sanitizer: memcheck (out of bounds, misaligned), racecheck (shared memory races),
# synccheck (divergent barriers and warp collectives, the emulator's checks on hardware) and
# initcheck (reads of uninitialised device memory). Some machines refuse it ("Device not
# supported" under gVisor): one probe decides, and a refusal is reported, not failed.
have_sanitizer=0
if ! command -v compute-sanitizer >/dev/null; then
  record "compute-sanitizer" skip "not installed"
elif [ -x "${tests[0]}" ]; then
  probe=$(compute-sanitizer --tool memcheck --error-exitcode 1 "${tests[0]}" 2>&1); probe_rc=$?
  if grep -qiE "device not supported|not supported on|error 999|unable to|failed to initialize" <<<"$probe"; then
    record "compute-sanitizer" skip "not available on this machine: $(grep -iE 'not supported|error|unable|failed' <<<"$probe" | head -1 | cut -c1-80)"
  else
    have_sanitizer=1
    [ $probe_rc = 0 ] || { echo "---- sanitizer probe ----"; tail -40 <<<"$probe"; }
  fi
fi
for test_bin in "${tests[@]}"; do
  [ -x "$test_bin" ] || continue
  t=$(basename "$test_bin")
  run "$t on the GPU" "$test_bin"
  if [ $have_sanitizer = 1 ]; then
    for tool in memcheck racecheck synccheck initcheck; do
      run "$t $tool" compute-sanitizer --tool $tool --error-exitcode 1 "$test_bin"
    done
  fi
done

carry=build/gpu-carry
# The benchmark scripts read the declared losses' workloads from the carried listing (no JVM here).
[ -f "$carry/losses.json" ] && export CULOSS_LOSSES_JSON="$carry/losses.json"
if [ -x "$carry/jre/bin/java" ]; then
  # The carried jar holds the libculoss.so built here (sm_80, sm_90 and PTX).
  cp_all="$carry/test-classes:$(ls "$carry"/lib/*.jar | tr '\n' ':')"
  run "java: jar loads libculoss (SelfCheck)" "$carry/jre/bin/java" -cp "$cp_all" -Dculoss.native=cuda org.culoss.internal.SelfCheck
  run "java: JUnit on the cuda backend" "$carry/jre/bin/java" -Dculoss.native=cuda -jar "$carry"/lib/junit-platform-console-standalone-*.jar \
    execute --class-path "$cp_all" --scan-class-path "$carry/test-classes" --fail-if-no-tests
else
  record "java tests" skip "no carried JRE (run ci/prepare-gpu-carry.sh and carry build/gpu-carry)"
fi

# The side by side against PyTorch CUDA: culoss through ctypes on PyTorch's tensors.
side=build/gpu/side_by_side.jsonl
run "side by side vs PyTorch CUDA" bash -c "python3 bench/gpu_side_by_side.py --lib build/gpu/libculoss.so > $side"
if [ -s "$side" ]; then
  echo "---- side-by-side JSON lines ----"
  cat "$side"
  python3 bench/side_by_side.py --out build/gpu/gpu-side-by-side \
    --title "GPU side by side: culoss vs PyTorch CUDA, forward+backward" \
    --header-line "date $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    --header-line "machine: $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1), PyTorch $(python3 -c 'import torch; print(torch.__version__)')" \
    --header-line "command: bash ci/gpu-check.sh (CUDA events, median of 50, buffers rotated past L2)" \
    "$side" || true
  [ -n "${OUT:-}" ] && cp build/gpu/side_by_side.jsonl build/gpu/gpu-side-by-side.* "$OUT"/ 2>/dev/null
fi

echo
echo "| check                                        | result | notes |"
echo "|----------------------------------------------|--------|-------|"
printf '%s\n' "${results[@]}"
printf '\ndate %s, commit %s\n' "$(date -u +%Y-%m-%dT%H:%MZ)" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"

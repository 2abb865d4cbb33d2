#!/usr/bin/env bash
# Fuzzes the Java API with Jazzer (the @FuzzTest methods of java/culoss/src/test/java/org/culoss/*FuzzTest.java).
#
#   ci/fuzz-java.sh [SECONDS] [Class#method ...]
#
# SECONDS: how long each fuzz test is fuzzed in each JVM (default 10: the five tests, two JVMs side by
# side, take about 5 x (10 s + a JVM start) plus one Maven run; pass 300 for a real campaign). The tests: all of them
# unless named (e.g. ElementwiseFuzzTest#elementwise).
#
# Jazzer fuzzes one @FuzzTest per JVM (a second one in the same JVM is skipped: "Only one fuzz test
# can be run at a time"), so each test runs in JVMs of its own, started here without Maven
# (org.culoss.FuzzMain, a JUnit launcher) on the class path Maven resolved once. Each test runs in
# the two JVMs the surefire executions use: -Dculoss.native=cuda (the java backend, and cuda where a
# GPU is usable) and -Dculoss.native=emulated (the java and the emulated backend, picked per input);
# the two run side by side (FUZZ_PARALLEL=0: one after the other).
#
# The duration: @FuzzTest(maxDuration) is only a default; the libFuzzer arguments passed as the JUnit
# configuration parameters jazzer.internal.arg.N (system properties) come last and win:
# -max_total_time=SECONDS, the corpus directory (target/fuzz/corpus/<test>/<jvm>, written; the
# committed seeds under src/test/resources/org/culoss/<Class>Inputs/<method>/ are read too), and
# -artifact_prefix=target/fuzz/findings/<test>/<jvm>/ for a crashing input.
#
# Jazzer's sanitizer hooks (injection, deserialization, ...) apply to org.culoss classes only: the
# other classes are left alone, which starts a JVM faster.
#
# Prints, per test and JVM, the executions and the corpus size; exits 1 on any finding (a failed
# property, an unclear exception, a crash of the JVM). A finding's input replays as a regression
# test once copied into the test's Inputs directory (plain `mvn test`).
#
# A reproducible run (the CI gate): FUZZ_SEED=S fixes libFuzzer's seed (-seed=S), starts each test
# from the committed seeds alone (this run's corpus directory is emptied first), and FUZZ_RUNS sets
# the executions per JVM, e.g. "cuda:20000 emulated:1500" (-runs=N; SECONDS still caps the time).
# The inputs tried are then a function of the commit, not of the machine's speed or of earlier
# runs: a run that passes here passes on a fresh clone elsewhere. Without FUZZ_SEED, each run
# draws a new seed and grows the corpus of the runs before it (a campaign).
#
# Environment: MVN (default mvn), MVN_FLAGS (default "-B -ntp -o -q"), FUZZ_JVMS (default
# "cuda emulated"), FUZZ_PARALLEL (default 1), FUZZ_MAX_LEN (libFuzzer -max_len, default 2048),
# FUZZ_JAVA_OPTS (more JVM options, e.g. -Dculoss.fuzz.debug=true, which prints where each tensor
# of a call lies, for reading a finding replayed by naming its file:
# FUZZ_JAVA_OPTS=-Dculoss.fuzz.debug=true with -Djazzer.internal.arg.1=<the file>).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
module="$root/java/culoss"
seconds=${1:-10}
if [[ $# -gt 0 ]]; then shift; fi
if ! [[ $seconds =~ ^[0-9]+$ ]] || [[ $seconds -lt 1 ]]; then
    echo "fuzz-java.sh: SECONDS must be a positive integer, not '$seconds'" >&2
    exit 2
fi
tests=("$@")
if [[ ${#tests[@]} -eq 0 ]]; then
    tests=(ElementwiseFuzzTest#elementwise RowSoftmaxFuzzTest#rows TripletMarginFuzzTest#triplet
        CenterLossFuzzTest#center DeviceBufferFuzzTest#buffers)
fi
jvms=(${FUZZ_JVMS:-cuda emulated})
parallel=${FUZZ_PARALLEL:-1}
max_len=${FUZZ_MAX_LEN:-2048}
seed=${FUZZ_SEED:-}
if [[ -n $seed ]] && ! [[ $seed =~ ^[0-9]+$ ]]; then
    echo "fuzz-java.sh: FUZZ_SEED must be a non-negative integer, not '$seed'" >&2
    exit 2
fi
# runs_for JVM: the -runs= of FUZZ_RUNS for that JVM, or nothing.
runs_for() {
    local entry
    for entry in ${FUZZ_RUNS:-}; do
        if [[ $entry == "$1:"* ]]; then echo "${entry#*:}"; fi
    done
}
for jvm in "${jvms[@]}"; do
    runs=$(runs_for "$jvm")
    if [[ -n $runs ]] && ! [[ $runs =~ ^[0-9]+$ ]]; then
        echo "fuzz-java.sh: FUZZ_RUNS gives '$runs' for $jvm, not a number of executions" >&2
        exit 2
    fi
done

start=$(date +%s)
cd "$root"
# Compiles the main and test classes (and the native libraries, when not built yet) and writes the
# test class path: one Maven run for all the tests.
${MVN:-mvn} ${MVN_FLAGS:--B -ntp -o -q} -pl java/culoss test-compile dependency:build-classpath \
    -Dmdep.outputFile=target/fuzz-classpath.txt -Dmdep.includeScope=test
cp="$module/target/test-classes:$module/target/classes:$(cat "$module/target/fuzz-classpath.txt")"
out="$module/target/fuzz"
mkdir -p "$out"
echo "fuzz-java.sh: ${#tests[@]} fuzz tests x ${#jvms[@]} JVMs (${jvms[*]}), ${seconds} s each${FUZZ_RUNS:+ at most, runs $FUZZ_RUNS}${seed:+, seed $seed}; set-up took $(( $(date +%s) - start )) s"

# fuzz TEST JVM: fuzzes TEST in a JVM with -Dculoss.native=JVM; its log goes to $out/logs/.
fuzz() {
    local test=$1 jvm=$2
    local name=${test/\#/.}
    local corpus="$out/corpus/$name/$jvm" findings="$out/findings/$name/$jvm" log="$out/logs/$name.$jvm.log"
    rm -rf "$findings"  # this run's findings only; the corpus grows from run to run
    local extra=() runs
    if [[ -n $seed ]]; then
        rm -rf "$corpus"  # reproducible: the committed seeds only
        extra+=(-Djazzer.internal.arg.6=-seed="$seed")
    fi
    runs=$(runs_for "$jvm")
    if [[ -n $runs ]]; then extra+=(-Djazzer.internal.arg.7=-runs="$runs"); fi
    mkdir -p "$corpus" "$findings" "$out/logs"
    # Run from the module: Jazzer finds src/test/resources (the committed seeds) from there.
    (cd "$module" && JAZZER_FUZZ=1 timeout $((seconds * 3 + 180)) java -cp "$cp" \
        -Dculoss.native="$jvm" -Dculoss.vectors="$root/conformance" \
        -Djazzer.custom_hook_includes='org.culoss.**' ${FUZZ_JAVA_OPTS:-} \
        -Djazzer.internal.arg.0=fuzz \
        -Djazzer.internal.arg.1="$corpus" \
        -Djazzer.internal.arg.2=-max_total_time="$seconds" \
        -Djazzer.internal.arg.3=-artifact_prefix="$findings/" \
        -Djazzer.internal.arg.4=-max_len="$max_len" \
        -Djazzer.internal.arg.5=-timeout=60 "${extra[@]}" \
        org.culoss.FuzzMain "org.culoss.$test" >"$log" 2>&1)
}

# report TEST JVM RC: one line of what the run did; the failure and the log's tail on a finding.
report() {
    local test=$1 jvm=$2 rc=$3
    local name=${test/\#/.}
    local log="$out/logs/$name.$jvm.log"
    local done_line execs secs corpus findings
    done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 || true)
    execs=$(sed -E 's/^Done ([0-9]+) runs in ([0-9]+) second.*/\1/' <<<"$done_line")
    secs=$(sed -E 's/^Done ([0-9]+) runs in ([0-9]+) second.*/\2/' <<<"$done_line")
    if [[ -z $done_line ]]; then  # stopped early (a finding): the last status line
        execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)
        secs="?"
    fi
    corpus=$(find "$out/corpus/$name/$jvm" -type f | wc -l)
    findings=$(find "$out/findings/$name/$jvm" -type f | wc -l)
    printf '%-40s %-9s %9s executions in %3s s, corpus %5d files, findings %d, exit %d\n' \
        "$test" "$jvm" "${execs:-0}" "$secs" "$corpus" "$findings" "$rc"
    if [[ $rc -ne 0 ]]; then
        echo "---- $test on $jvm: exit $rc; the failure (full log: $log):"
        grep -v '^INFO: Instrumented' "$log" | grep -vE '^#[0-9]+ ' | tail -60
        find "$out/findings/$name/$jvm" -type f -exec echo "finding input: {}" \;
        echo "----"
    fi
}

failed=0
for test in "${tests[@]}"; do
    pids=()
    for jvm in "${jvms[@]}"; do
        if [[ $parallel == 1 ]]; then
            fuzz "$test" "$jvm" &
            pids+=($!)
        else
            rc=0
            fuzz "$test" "$jvm" || rc=$?
            report "$test" "$jvm" $rc
            [[ $rc -eq 0 ]] || failed=1
        fi
    done
    if [[ $parallel == 1 ]]; then
        i=0
        for jvm in "${jvms[@]}"; do
            rc=0
            wait "${pids[$i]}" || rc=$?
            report "$test" "$jvm" $rc
            [[ $rc -eq 0 ]] || failed=1
            i=$((i + 1))
        done
    fi
done
echo "fuzz-java.sh: done in $(( $(date +%s) - start )) s; $([[ $failed == 0 ]] && echo 'no findings' || echo 'FINDINGS (see above)')"
exit $failed

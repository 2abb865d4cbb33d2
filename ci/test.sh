#!/usr/bin/env bash
# The test command (README): the Maven build and tests (java, emulated, and cuda when a GPU is
# present), the native tests under AddressSanitizer+UBSan and ThreadSanitizer, and
# ./culoss verify over the committed reference vectors, the demo's launcher (the README's first
# command; its training runs in Maven's DemoTest on a small copy of the data format).
# Installs what it needs on a fresh Debian machine.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# Each step's start time (UTC), so that a slow run shows where its minutes went.
step() { printf '\n==== %s ==== %s\n' "$*" "$(date -u +%H:%M:%S)"; }

step "prerequisites"
bash ci/install-deps.sh

jobs=$(nproc)

step "maven: build (CMake inside), java + emulated backend tests, jar-alone check"
# No GPU runs this libculoss.so: one architecture proves it compiles (ci/gpu-check.sh builds for
# the GPU it runs on), in half the nvcc time of three; with a GPU here, the release set.
gpu_archs=90-real
command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1 && gpu_archs="80-real;90-real;90-virtual"
CULOSS_CUDA_ARCHITECTURES="$gpu_archs" mvn -B -ntp verify

step "Jazzer over the Java API (java and emulated backends): a fixed seed and number of executions"
# java/culoss/src/test/java/org/culoss/*FuzzTest.java; plain mvn test above replayed their corpus.
# Reproducible: the seed and the executions are fixed and each test starts from the committed
# seeds, so what this step tries depends on the commit, not on the machine's speed (30 s caps a
# test on a slow machine). Long campaigns: ci/fuzz-java.sh SECONDS without FUZZ_SEED.
FUZZ_SEED=1 FUZZ_RUNS="cuda:6000 emulated:300" bash ci/fuzz-java.sh 30

step "native tests, AddressSanitizer + UBSan (emulated kernels)"
# The nvcc resource check (registers, shared memory, spills, launch bounds) for the architecture
# this build compiles for, as the Maven step does; the release set (80 and 90) is the default of a
# plain configure and of ci/gpu-check.sh.
resource_archs=90
[ "$gpu_archs" = 90-real ] || resource_archs="80;90"
cmake -S . -B build/asan -DCULOSS_CUDA=OFF -DCULOSS_SANITIZE=address -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCULOSS_RESOURCE_ARCHS="$resource_archs" >/dev/null
cmake --build build/asan -j"$jobs"
(cd build/asan && ctest --output-on-failure -j"$jobs")

step "native tests, ThreadSanitizer (emulated kernels; includes the removed-barrier race check)"
cmake -S . -B build/tsan -DCULOSS_CUDA=OFF -DCULOSS_SANITIZE=thread -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/tsan -j"$jobs"
(cd build/tsan && ctest --output-on-failure -j"$jobs")

step "libFuzzer over the C API (emulated kernels, ASan+UBSan, clang): build/fuzz, a fixed seed, 1200 executions"
# native/fuzz/README.md: the properties, and how to reproduce a finding. Reproducible as above:
# a fixed seed and number of executions from the committed corpus alone (45 s caps it).
rm -rf build/fuzz/corpus-ci
bash native/fuzz/run.sh 45 build/fuzz/corpus-ci -seed=1 -runs=1200

step "./culoss info; ./culoss demo --help (the launcher reaches the demo's jar)"
./culoss info
./culoss demo --help

# The reference cases as a user runs them; every case already ran in Maven's VerifierTest in
# every layout (arrays, heap buffers, unaligned and byte-swapped direct buffers, backend memory)
# on the java backend and in one layout each, in turn, on the emulated one, and through the C API
# alone in the native runner (emulated_conformance, under ASan).
step "./culoss verify, java backend"
./culoss verify conformance --backend java

step "benchmarks: the JMH jar lists its benchmarks; ./culoss bench runs every loss on its benchmark shapes (1 run)"
java -jar bench/target/benchmarks.jar -l
./culoss bench --loss all --backend java --runs 1 --warmup-ms 0

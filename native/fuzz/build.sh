#!/usr/bin/env bash
# Configures and builds the libFuzzer target in build/fuzz with clang (ci/test.sh, ci/fuzz.sh, run.sh).
# Only the fuzz target is built there; the default build (g++, Maven's) is not touched.
set -euo pipefail
cd "$(dirname "$0")/../.."
cc=$(command -v clang-16 || command -v clang)
cxx=$(command -v clang++-16 || command -v clang++)
if [ ! -f build/fuzz/CMakeCache.txt ]; then
  CC=$cc CXX=$cxx cmake -S . -B build/fuzz -DCULOSS_FUZZ=ON -DCULOSS_CUDA=OFF -DCULOSS_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build/fuzz -j"$(nproc)" --target culoss_api_fuzzer

#!/usr/bin/env bash
# Installs the build tools a fresh Debian machine lacks: JDK 17, Maven, CMake, g++, python3 (the
# native resource check), nlohmann-json (the native conformance runner reads the reference cases),
# fontconfig and a font (the demo's plots).
# nvcc is optional: without it libculoss.so is built as a "no device" library.
set -euo pipefail
missing=()
command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || missing+=(maven)
command -v cmake >/dev/null || missing+=(cmake)
command -v g++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
command -v python3 >/dev/null || missing+=(python3)
[ -f /usr/include/nlohmann/json.hpp ] || missing+=(nlohmann-json3-dev)  # the native conformance runner
# The libFuzzer step (native/fuzz): clang >= 15 (cuda_emu.h's std::source_location with libstdc++)
# and its runtime, which holds libFuzzer; Debian 12's clang is 14, hence clang-16.
command -v clang++-16 >/dev/null || missing+=(clang-16)
compgen -G "/usr/lib/llvm-16/lib/clang/16/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null || missing+=(libclang-rt-16-dev)
# The demo's plots (XChart through headless AWT) need fontconfig and a font.
command -v fc-list >/dev/null || missing+=(fontconfig)
compgen -G "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf" >/dev/null || missing+=(fonts-dejavu-core)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
fi
echo "java: $(javac -version 2>&1); $(mvn -v 2>/dev/null | head -1); $(cmake --version | head -1); g++ $(g++ -dumpversion); clang++-16 $(clang++-16 -dumpversion)"
if command -v nvcc >/dev/null; then echo "nvcc: $(nvcc --version | tail -1)"; else echo "nvcc: not found (libculoss.so will be a no-device build)"; fi

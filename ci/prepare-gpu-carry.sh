#!/usr/bin/env bash
# Prepares what ci/gpu-check.sh needs on the lent GPU machine, which has nvcc, CMake and PyTorch
# but no Java and no network: a jlink'ed JRE, the library jar, JavaCPP's jars, the compiled tests
# and JUnit's console launcher, and the loss listing the benchmark scripts read, under build/gpu-carry (about 50 MiB). Pass build/gpu-carry as carry.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/gpu-carry
rm -rf "$out" && mkdir -p "$out/lib"
mvn -B -q -ntp -pl java/culoss -am install -DskipTests
mvn -B -q -ntp -pl java/culoss dependency:copy-dependencies -DincludeScope=test -DoutputDirectory="$(pwd)/$out/lib"
mvn -B -q -ntp dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.14.1 -DoutputDirectory="$(pwd)/$out/lib"
cp java/culoss/target/culoss-*.jar "$out/lib/"
rm -f "$out"/lib/culoss-*-tests.jar
cp -r java/culoss/target/test-classes "$out/test-classes"
./culoss losses --json > "$out/losses.json"  # the benchmark scripts' workloads (no JVM runs them there)
jlink --add-modules java.base,java.logging,java.management,jdk.unsupported,java.xml,java.desktop \
  --strip-debug --no-man-pages --no-header-files --compress=2 --output "$out/jre"
du -sh "$out"

#!/bin/sh
# The tests: build with -Werror and run every suite; again under
# ASan+UBSan; the fuzz targets (clang, libFuzzer) for a bounded time; then
# the integration suites with our daemons under valgrind.
# Installs what it needs first.  Exits non-zero if anything fails.
set -eu
cd "$(dirname "$0")/.."
sh tools/install-deps.sh
jobs=$(nproc)

cmake -S . -B build -DSCHEME_WERROR=ON
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure

cmake -S . -B build-asan -DSCHEME_WERROR=ON -DSCHEME_SANITIZE=ON
cmake --build build-asan -j"$jobs"
ctest --test-dir build-asan --output-on-failure

# libFuzzer on every parser of a peer's bytes, a bounded time each.
CC=clang cmake -S . -B build-fuzz -DSCHEME_FUZZ=ON -DSCHEME_WERROR=ON
cmake --build build-fuzz -j"$jobs"
ctest --test-dir build-fuzz --output-on-failure -L fuzz

SCHEME_TEST_VALGRIND=1 ctest --test-dir build --output-on-failure -L integration

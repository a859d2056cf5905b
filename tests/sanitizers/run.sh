#!/bin/sh
# Builds the `asan` preset (AddressSanitizer + UBSan, Debug) and runs the unit
# and integration suites on it: any memory error, undefined behaviour or leak
# at exit fails the run (the integration harness fails on a non-zero exit).
#   tests/sanitizers/run.sh            what CI runs (sanitizers.asan)
# Long soaks: run bench/run --live against build-asan/bin/axle by hand.
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
cmake --preset asan >/dev/null
cmake --build build-asan -j "${JOBS:-2}"
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# alloc.memcheck is valgrind (no use under ASan); slow/matrix/packaging are
# covered by the plain build.
exec ctest --test-dir build-asan --output-on-failure -LE "slow|matrix|packaging" -E "alloc.memcheck"

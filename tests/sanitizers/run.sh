#!/bin/sh
# Builds the `asan` preset (AddressSanitizer + UBSan, Debug) and runs the unit
# and integration suites on it: any memory error, undefined behaviour or leak
# at exit fails the run (the integration harness fails on a non-zero exit).
#   tests/sanitizers/run.sh            what CI runs (sanitizers.asan)
# Long soaks: run bench/run --live against build-asan/bin/axle by hand.
#
# The build and test output go to build-asan/sanitizers-*.log. On a failure the
# lines that say what failed (failed tests, pytest's FAILED/ERROR lines,
# sanitizer reports) are printed first, then the whole test log: a CI that
# shows only the head of a failed test's output still shows why.
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
cmake --preset asan >/dev/null
build_log=build-asan/sanitizers-build.log
test_log=build-asan/sanitizers-test.log
if ! cmake --build build-asan -j "${JOBS:-2}" >"$build_log" 2>&1; then
  echo "sanitizers: the asan build failed; the end of $build_log:"
  tail -n 60 "$build_log"
  exit 1
fi
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# alloc.memcheck is valgrind (no use under ASan); slow/matrix/packaging are
# covered by the plain build.
if ctest --test-dir build-asan --output-on-failure -LE "slow|matrix|packaging" -E "alloc.memcheck" \
     >"$test_log" 2>&1; then
  tail -n 5 "$test_log"
  exit 0
fi
echo "sanitizers: FAILED. What failed, first (the whole log follows):"
grep -E '\*\*\*(Failed|Timeout)|^(FAILED|ERROR) |ERROR: (Address|Leak)Sanitizer|runtime error:|^SUMMARY: ' \
  "$test_log" | head -n 40 || true
echo "---- $test_log"
cat "$test_log"
exit 1

#!/bin/sh
# Instructions per parse_request for parser-scalar and parser-simd, counted
# with callgrind (deterministic, unlike wall time on a shared machine).
#   bench/micro/parser/run.sh [BUILD_DIR]     (default: <repo>/build)
# BUILD_DIR must already hold the modules (cmake --build BUILD_DIR).
# Each figure is (Ir(2N parses) - Ir(N parses)) / N, so process start-up,
# module loading and create() cancel out.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
build=${1:-$repo/build}
modules=$build/lib/axle/modules
work=$build/bench-micro-parser
mkdir -p "$work"

for m in scalar simd; do
  [ -f "$modules/axle-parser-$m.so" ] || { echo "missing $modules/axle-parser-$m.so: build it first" >&2; exit 1; }
done
command -v valgrind >/dev/null || { echo "valgrind not found (apt-get install valgrind)" >&2; exit 1; }

${CXX:-c++} -std=c++20 -O2 -Wall -Wextra -I"$repo/plugin-api/include" -I"$repo/tests/unit/parser" \
  "$here/parser_bench.cpp" -o "$work/parser_bench" -ldl

n=2000
# Prints the instructions one parse takes: MODULE ISA REQUEST
per_parse() {
  total() {
    out=$work/callgrind.$1.$2.$3.$4
    valgrind --tool=callgrind --callgrind-out-file="$out" "$work/parser_bench" \
      "$modules/axle-parser-$1.so" "$2" "$3" "$4" >/dev/null 2>&1
    sed -n 's/^summary: *//p' "$out"
  }
  a=$(total "$1" "$2" "$3" "$n")
  b=$(total "$1" "$2" "$3" $((2 * n)))
  echo $(((b - a) / n))
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }

printf '%-28s %10s %12s %12s %12s %10s %10s\n' request bytes scalar simd/avx2 simd/sse42 avx2-gain sse42-gain
for req in short browser; do
  case $req in
    short) desc="short (GET /ping)"; bytes=31 ;;
    browser) desc="browser-like (Chrome)"; bytes=644 ;;
  esac
  s=$(per_parse scalar - "$req")
  v=$(per_parse simd avx2 "$req")
  e=$(per_parse simd sse42 "$req")
  printf '%-28s %10s %12s %12s %12s %10s %10s\n' "$desc" "$bytes" "$s" "$v" "$e" "$(ratio "$s" "$v")" "$(ratio "$s" "$e")"
done

#!/bin/sh
# Instructions per router lookup, linear vs radix, for 10, 100 and 1,000
# routes, counted by callgrind inside axle_bench_run_matches only (table
# build, dlopen and setup excluded). Instruction counts, unlike time, do not
# depend on the machine's load.
#
#   bench/micro/router/run.sh [BUILD_DIR]      (default: build)
#
# BUILD_DIR must hold the built modules (lib/axle/modules/axle-router-*.so).
# Needs valgrind and a C++20 compiler (CXX, default c++).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
modules="$build/lib/axle/modules"
work="$build/bench/router"
rounds=${ROUNDS:-20}
mkdir -p "$work"

command -v valgrind >/dev/null || { echo "run.sh: valgrind not found" >&2; exit 1; }
for r in linear radix; do
  [ -f "$modules/axle-router-$r.so" ] || { echo "run.sh: $modules/axle-router-$r.so missing; build it first" >&2; exit 1; }
done

driver="$work/router-bench"
if [ ! -x "$driver" ] || [ "$here/router_bench.cpp" -nt "$driver" ]; then
  ${CXX:-c++} -std=c++20 -O2 -g -Wall -Wextra -I"$root/plugin-api/include" "$here/router_bench.cpp" -o "$driver" -ldl
fi

# Prints instructions per lookup for one module and route count.
per_lookup() {
  out="$work/callgrind.$1.$2.out"
  log=$(valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect=axle_bench_run_matches \
        "$driver" "$modules/axle-router-$1.so" "$2" "$rounds" 2>/dev/null)
  lookups=$(echo "$log" | sed -n 's/.*lookups=\([0-9]*\).*/\1/p')
  total=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$out")
  [ -n "$lookups" ] && [ -n "$total" ] || { echo "run.sh: no result for $1 with $2 routes" >&2; exit 1; }
  echo $((total / lookups))
}

printf '%-8s %16s %16s %14s\n' routes linear_Ir/match radix_Ir/match linear/radix
for n in 10 100 1000; do
  lin=$(per_lookup linear "$n")
  rad=$(per_lookup radix "$n")
  ratio=$(awk -v a="$lin" -v b="$rad" 'BEGIN { printf "%.1fx", a / b }')
  printf '%-8s %16s %16s %14s\n' "$n" "$lin" "$rad" "$ratio"
done

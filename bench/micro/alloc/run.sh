#!/bin/sh
# Instructions per alloc+free pair, malloc vs pool vs hugepages, for a
# connection-like pattern (512-byte objects and 16 KiB buffers over 64 live
# connections), counted by callgrind inside axle_bench_run only (dlopen,
# setup and warm-up excluded), minus what the same pattern costs on a
# do-nothing allocator, so the figures are the allocator's own (calls
# through the vtable included). Instruction counts, unlike time, do not
# depend on the machine's load.
#
#   bench/micro/alloc/run.sh [BUILD_DIR]      (default: build)
#
# BUILD_DIR must hold the built modules (lib/axle/modules/axle-alloc-*.so).
# Needs valgrind and a C++20 compiler (CXX, default c++).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
modules="$build/lib/axle/modules"
work="$build/bench/alloc"
steps=${STEPS:-20000}
mkdir -p "$work"

command -v valgrind >/dev/null || { echo "run.sh: valgrind not found" >&2; exit 1; }
for m in malloc pool hugepages; do
  [ -f "$modules/axle-alloc-$m.so" ] || { echo "run.sh: $modules/axle-alloc-$m.so missing; build it first" >&2; exit 1; }
done

driver="$work/alloc-bench"
if [ ! -x "$driver" ] || [ "$here/alloc_bench.cpp" -nt "$driver" ]; then
  ${CXX:-c++} -std=c++20 -O2 -g -Wall -Wextra -I"$root/plugin-api/include" "$here/alloc_bench.cpp" -o "$driver" -ldl
fi

# Prints instructions per pair, harness included, for one module (or "none") and pattern.
total_per_pair() {
  out="$work/callgrind.$1.$2.out"
  if [ "$1" = none ]; then target=none; else target="$modules/axle-alloc-$1.so"; fi
  log=$(valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect=axle_bench_run \
        "$driver" "$target" "$2" "$steps" 2>/dev/null)
  pairs=$(echo "$log" | sed -n 's/^pairs=\([0-9]*\)$/\1/p')
  total=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$out")
  [ -n "$pairs" ] && [ -n "$total" ] || { echo "run.sh: no result for $1 / $2" >&2; exit 1; }
  echo "$total $pairs" | awk '{ printf "%.1f", $1 / $2 }'
}

# The allocator's own instructions per pair: the total minus the harness.
per_pair() {
  awk -v t="$(total_per_pair "$1" "$2")" -v h="$harness" 'BEGIN { printf "%.1f", t - h }'
}

printf '%-8s %12s %12s %14s %12s %12s\n' pattern malloc_Ir pool_Ir hugepages_Ir malloc/pool malloc/huge
for p in conn obj512 buf16k remote; do
  harness=$(total_per_pair none "$p")
  m=$(per_pair malloc "$p")
  po=$(per_pair pool "$p")
  h=$(per_pair hugepages "$p")
  r1=$(awk -v a="$m" -v b="$po" 'BEGIN { printf "%.2fx", a / b }')
  r2=$(awk -v a="$m" -v b="$h" 'BEGIN { printf "%.2fx", a / b }')
  printf '%-8s %12s %12s %14s %12s %12s\n' "$p" "$m" "$po" "$h" "$r1" "$r2"
done
echo "(Ir = instructions per alloc+free pair, counted by callgrind; higher ratio = pool cheaper)"
huge=$("$driver" "$modules/axle-alloc-hugepages.so" conn 1000 2>&1 | sed -n 's/^anon_huge_kb=//p')
echo "hugepages module, conn pattern natively: AnonHugePages of a buffer's slab = ${huge} kB"

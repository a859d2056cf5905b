#!/bin/sh
# Builds a fuzzer with clang in its own build dir and runs it for SECONDS
# (default 60): the parser differential fuzzer on a corpus seeded from the
# shared vectors, or (FUZZ_TARGET=engine) the HTTP engine fuzzer on
# tests/fuzz/engine-seeds with the HTTP dictionary.
#   [FUZZ_TARGET=engine] tests/fuzz/run.sh [SECONDS] [extra libFuzzer flags...]
# Env: BUILD_DIR (default <repo>/build-fuzz), JOBS (default 2),
#      FUZZ_TARGET (parser-diff, the default, or engine).
set -eu
seconds=${1:-60}
[ $# -gt 0 ] && shift
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$repo/build-fuzz}
jobs=${JOBS:-2}
target=${FUZZ_TARGET:-parser-diff}
case $target in
  parser-diff|engine) ;;
  *) echo "run.sh: FUZZ_TARGET must be parser-diff or engine, not '$target'" >&2; exit 2 ;;
esac

# Only the parser modules are needed: switch the others off so their build
# (or a half-written one) cannot get in the way.
module_options=""
for dir in "$repo"/modules/*/; do
  name=$(basename "$dir")
  case $name in
    parser-*) ;;
    *) module_options="$module_options -DAXLE_MODULE_$(echo "$name" | tr 'a-z-' 'A-Z_')=OFF" ;;
  esac
done

mkdir -p "$build"
# shellcheck disable=SC2086
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DAXLE_BUILD_FUZZ=ON $module_options \
  >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }

if [ "$target" = engine ]; then
  cmake --build "$build" --target engine-fuzzer -j "$jobs"
  corpus=$build/engine-fuzz-corpus
  mkdir -p "$corpus" "$build/engine-fuzz-artifacts"
  # New interesting inputs go to $corpus (kept between runs); crashes to engine-fuzz-artifacts/.
  exec "$build/bin/engine-fuzzer" -max_total_time="$seconds" -max_len=2048 -timeout=10 -print_final_stats=1 \
    -dict="$repo/tests/fuzz/http.dict" -artifact_prefix="$build/engine-fuzz-artifacts/" "$@" \
    "$corpus" "$repo/tests/fuzz/engine-seeds"
fi

cmake --build "$build" --target parser-diff-fuzzer parser-fuzz-seeds -j "$jobs"

seeds=$build/fuzz-seeds
corpus=$build/fuzz-corpus
mkdir -p "$seeds" "$corpus"
"$build/bin/parser-fuzz-seeds" "$seeds"

# New interesting inputs go to $corpus (kept between runs); crashes to $build/fuzz-artifacts/.
mkdir -p "$build/fuzz-artifacts"
exec "$build/bin/parser-diff-fuzzer" -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$build/fuzz-artifacts/" "$@" "$corpus" "$seeds"

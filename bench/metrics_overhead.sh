#!/usr/bin/env bash
# Server CPU per request with metrics off vs metrics = "prometheus".
#
# Runs axle (one worker, pinned to CPU 0) on the same config with and without
# the metrics module, alternating, loads it with wrk pinned to CPU 1, and
# charges the server's utime+stime (from /proc/<pid>/stat) to the requests wrk
# completed. Prints each run, the mean per mode and the on/off ratio.
#
# Usage: bench/metrics_overhead.sh [runs per mode, default 3]
# Environment: AXLE_BIN (default build/bin/axle), DURATION (10s),
#              CONNECTIONS (100), TARGET_PATH (/ping), SERVER_CPU (0), CLIENT_CPU (1).
set -euo pipefail

runs=${1:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
axle=${AXLE_BIN:-$here/build/bin/axle}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-100}
target_path=${TARGET_PATH:-/ping}
server_cpu=${SERVER_CPU:-0}
client_cpu=${CLIENT_CPU:-1}

for tool in taskset wrk awk; do
  command -v "$tool" >/dev/null || { echo "metrics_overhead: $tool not found" >&2; exit 1; }
done
[[ -x $axle ]] || { echo "metrics_overhead: no axle binary at $axle (set AXLE_BIN)" >&2; exit 1; }
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "metrics_overhead: runs must be a positive integer" >&2; exit 1; }

work=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" && wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

clk_tck=$(getconf CLK_TCK)

write_config() {  # $1: metrics module name or "none"
  cat >"$work/$1.toml" <<EOF
[server]
listen = ["127.0.0.1:0"]
workers = 1

[modules]
io = "epoll"
allocator = "malloc"
parser = "scalar"
router = "linear"
metrics = "$1"

[[route]]
path = "/ping"
handler = "ping"

[[route]]
path = "/echo/{msg}"
handler = "echo"
EOF
}
write_config none
write_config prometheus

# utime + stime of a process, in clock ticks. The command name (field 2) may
# hold spaces, so count fields after its closing parenthesis.
cpu_ticks() {
  local stat
  stat=$(<"/proc/$1/stat")
  stat=${stat##*) }
  awk '{ print $12 + $13 }' <<<"$stat"
}

# Nanoseconds on CPU of all the process's threads (/proc/<pid>/task/*/schedstat,
# first field): a finer clock than the 10 ms ticks of stat, printed beside it.
cpu_ns() {
  cat /proc/"$1"/task/*/schedstat | awk '{ sum += $1 } END { printf "%.0f\n", sum }'
}

# One run: sets run_requests, run_ticks and run_ns.
run_once() {  # $1: none | prometheus
  local log=$work/server.log port="" out before after before_ns after_ns
: >"$log"
  taskset -c "$server_cpu" "$axle" --config "$work/$1.toml" >"$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    port=$(grep -oE 'listening on http://127\.0\.0\.1:[0-9]+' "$log" | head -n1 | sed 's/.*://') || true
    [[ -n $port ]] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; echo "metrics_overhead: axle exited" >&2; exit 1; }
    sleep 0.1
  done
  [[ -n $port ]] || { cat "$log" >&2; echo "metrics_overhead: axle did not start" >&2; exit 1; }
  # Warm up (page faults, allocator growth) outside the measurement.
  taskset -c "$client_cpu" wrk -t1 -c"$connections" -d1s "http://127.0.0.1:$port$target_path" >/dev/null
  before=$(cpu_ticks "$server_pid")
  before_ns=$(cpu_ns "$server_pid")
  out=$(taskset -c "$client_cpu" wrk -t1 -c"$connections" -d"$duration" "http://127.0.0.1:$port$target_path")
  after=$(cpu_ticks "$server_pid")
  after_ns=$(cpu_ns "$server_pid")
  kill -TERM "$server_pid"
  wait "$server_pid" || { echo "metrics_overhead: axle did not exit cleanly" >&2; exit 1; }
  server_pid=
  # Wrong answers or broken sockets void the run; client timeouts (a server
  # starved of CPU on a busy machine) only cost throughput, so just say so.
  if grep -qE 'Non-2xx|Socket errors: connect [1-9]|read [1-9]|write [1-9]' <<<"$out"; then
    echo "metrics_overhead: wrk saw errors:" >&2
    echo "$out" >&2
    exit 1
  fi
  if grep -qE 'timeout [1-9]' <<<"$out"; then
    echo "metrics_overhead: note: $1 run had client timeouts: $(grep -o 'timeout [0-9]*' <<<"$out")" >&2
  fi
  run_requests=$(awk '/requests in/ { print $1 }' <<<"$out")
  [[ -n $run_requests && $run_requests -gt 0 ]] || { echo "$out" >&2; echo "metrics_overhead: no requests" >&2; exit 1; }
  run_ticks=$((after - before))
  run_ns=$((after_ns - before_ns))
}

printf '%-11s %4s %12s %10s %14s %16s\n' mode run requests cpu_ms us_per_request us_per_req_sched
declare -A total_requests=([none]=0 [prometheus]=0) total_ticks=([none]=0 [prometheus]=0) total_ns=([none]=0 [prometheus]=0)
for run in $(seq "$runs"); do
  for mode in none prometheus; do
    run_once "$mode"
    total_requests[$mode]=$((total_requests[$mode] + run_requests))
    total_ticks[$mode]=$((total_ticks[$mode] + run_ticks))
    total_ns[$mode]=$((total_ns[$mode] + run_ns))
    awk -v m="$mode" -v r="$run" -v n="$run_requests" -v t="$run_ticks" -v ns="$run_ns" -v hz="$clk_tck" \
      'BEGIN { printf "%-11s %4d %12d %10.0f %14.3f %16.3f\n", m, r, n, t * 1000 / hz, t * 1e6 / hz / n, ns / 1e3 / n }'
  done
done

awk -v hz="$clk_tck" -v n0="${total_requests[none]}" -v t0="${total_ticks[none]}" -v ns0="${total_ns[none]}" \
  -v n1="${total_requests[prometheus]}" -v t1="${total_ticks[prometheus]}" -v ns1="${total_ns[prometheus]}" 'BEGIN {
    off = t0 * 1e6 / hz / n0; on = t1 * 1e6 / hz / n1
    printf "\nfrom /proc/<pid>/stat utime+stime (%d ticks/s):\n", hz
    printf "  metrics off: %.3f us CPU/request (%d requests)\n", off, n0
    printf "  metrics on:  %.3f us CPU/request (%d requests)\n", on, n1
    printf "  ratio on/off: %.4f (%+.2f%%)\n", on / off, (on / off - 1) * 100
    off = ns0 / 1e3 / n0; on = ns1 / 1e3 / n1
    printf "from /proc/<pid>/task/*/schedstat (ns):\n"
    printf "  metrics off: %.3f us CPU/request\n", off
    printf "  metrics on:  %.3f us CPU/request\n", on
    printf "  ratio on/off: %.4f (%+.2f%%)\n", on / off, (on / off - 1) * 100
  }'

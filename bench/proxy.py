#!/usr/bin/python3
"""Proxy rows (issue 10): axle's `proxy` handler against nginx and HAProxy, one fixed backend.

  bench/run --proxy [--rows axle,nginx,haproxy] [--duration 10] [--quick] [--connections 100]
                    [--rate 5000] [--backend floor|precompiled] [--no-memory] [--idle-connections 2000]
                    [--build-dir build-bench] [--no-build]
  bench/proxy.py --instructions 20000 [--depth 16] [--keep-callgrind DIR] --build-dir build --no-build

Every proxy runs ONE worker/thread pinned to CPU 0 and forwards every request
to the same backend, pinned to CPU 1 beside the clients (wrk -t1, h2load -t1):

axle      axle, `epoll / malloc / scalar / linear`, route `/*` -> `proxy`, one upstream
          group of one server, `pool_max_idle = 256` like nginx's keepalive
axle-fast the same with `uring / pool / simd / radix`
nginx     Debian's nginx, `proxy_pass` to an `upstream { keepalive 256; }`,
          `proxy_http_version 1.1`, `proxy_set_header Connection ""`
haproxy   Debian's HAProxy 2.6, `nbthread 1`, `http-reuse always`

backend: `floor` (bench/floor/floor.c, default) or `precompiled` (an axle
with the precompiled handler answering every path).

Per row: keep-alive and pipelined (depth 16) wrk runs, and a fixed-rate run
(h2load --h1, --rate requests/s spread over the connections) for latency:
p50/p99/max from h2load's per-request log (time from sending a request to
its response's end). Proxy CPU per request from /proc/<pid>/stat
utime+stime over each run, divided by the requests completed. With
--idle-connections > 0 also the proxy's RSS growth per idle client
connection, and per idle upstream connection (bench/proxy_memory.py).
"""
import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile

from common import (BENCH, CLIENT_CPU, CLK_TCK, REPO, Server, cpu_ticks, free_port, log, make_workdir, measure,
                    remove_workdir, run_wrk, wait_for_port)
import proxy_memory
import servers
from request_instructions import callgrind_total, drive
from servers import FAST, PLAIN

ROWS = ["axle", "axle-fast", "nginx", "haproxy"]
AXLE_SETS = {"axle": PLAIN, "axle-fast": FAST}
PIPELINE = os.path.join(BENCH, "pipeline16.lua")
# Upstream connections each peer may keep idle: above --connections, so no
# row closes upstream connections under load.
UPSTREAM_KEEPALIVE = 256


def axle_proxy_config(mods, port, backend_port):
    lines = ["[server]", f'listen = ["127.0.0.1:{port}"]', "workers = 1", "", "[modules]"]
    lines += [f'{kind} = "{name}"' for kind, name in mods.items()]
    lines += ["", "[timeouts]", "idle_ms = 600000",
              "", "[limits]", "max_connections = 20000",
              "", "[[route]]", 'path = "/*"', 'handler = "proxy"', 'upstream = "app"',
              "", "[module.proxy.upstream.app]", f'servers = ["127.0.0.1:{backend_port}"]',
              f"pool_max_idle = {UPSTREAM_KEEPALIVE}", "pool_idle_timeout_ms = 600000"]
    return "\n".join(lines) + "\n"


def start_proxy(args, workdir, row, backend_port):
    if row == "nginx":
        return servers.start_nginx(
            workdir, name="nginx-proxy", idle_s=600,
            http_lines=f"upstream backend {{ server 127.0.0.1:{backend_port}; keepalive {UPSTREAM_KEEPALIVE}; "
                       f"keepalive_requests 1000000000; keepalive_timeout 600s; }}",
            server_lines='location / { proxy_pass http://backend; proxy_http_version 1.1; '
                         'proxy_set_header Connection ""; }')
    if row == "haproxy":
        return servers.start_haproxy(
            workdir, idle_s=600,
            backend_lines=f"http-reuse always\n  server s1 127.0.0.1:{backend_port} pool-purge-delay 600s")
    port = free_port()
    path = os.path.join(workdir, f"proxy-{row}.toml")
    with open(path, "w") as f:
        f.write(axle_proxy_config(AXLE_SETS[row], port, backend_port))
    return Server(f"axle-proxy-{row}", [os.path.join(args.build_dir, "bin", "axle"), "--config", path], port,
                  workdir)


def start_backend(args, workdir):
    """The fixed backend, on the clients' CPU so the proxy has CPU 0 alone."""
    if args.backend == "floor":
        return servers.start_floor(servers.build_floor(workdir), workdir, cpu=CLIENT_CPU)
    port = free_port()
    path = os.path.join(workdir, "backend.toml")
    with open(path, "w") as f:
        f.write("\n".join(["[server]", f'listen = ["127.0.0.1:{port}"]', "workers = 1", "", "[modules]"]
                          + [f'{k} = "{v}"' for k, v in PLAIN.items()]
                          + ["", "[timeouts]", "idle_ms = 600000", "", "[limits]", "max_connections = 20000",
                             "", "[[route]]", 'path = "/*"', 'handler = "precompiled"', 'body = "pong"']) + "\n")
    return Server("backend-precompiled", [os.path.join(args.build_dir, "bin", "axle"), "--config", path], port,
                  workdir, cpu=CLIENT_CPU)


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def parse_h2load(out, log_path):
    """Counts from h2load's summary; latencies (ms) from its per-request log
    (start us, status, us to the response's end)."""
    res = {"requests": 0, "failed": 0, "non_2xx": 0}
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("requests:"):
            # requests: N total, N started, N done, N succeeded, N failed, N errored, N timeout
            nums = {w[1].rstrip(","): int(w[0]) for w in zip(line.split()[1::2], line.split()[2::2])}
            res["requests"] = nums.get("done", 0)
            res["failed"] = nums.get("failed", 0) + nums.get("errored", 0) + nums.get("timeout", 0)
        elif line.startswith("status codes:"):
            parts = line[len("status codes:"):].split(",")
            res["non_2xx"] = sum(int(p.split()[0]) for p in parts if not p.strip().endswith("2xx"))
    lat = []
    with open(log_path) as f:
        for row in f:
            cols = row.split("\t")
            if len(cols) >= 3:
                lat.append(int(cols[2]) / 1e3)
    lat.sort()
    res["logged"] = len(lat)
    res["p50_ms"], res["p99_ms"] = percentile(lat, 0.50), percentile(lat, 0.99)
    res["max_ms"] = lat[-1] if lat else None
    return res


def fixed_rate(server, url, seconds, connections, rate):
    """h2load at `rate` requests/s in total (rate / connections per connection)."""
    per_conn = max(1, rate // connections)
    with tempfile.NamedTemporaryFile("r", suffix=".h2load.log") as logf:
        argv = ["taskset", "-c", CLIENT_CPU, "h2load", "--h1", "-t1", f"-c{connections}", f"--rps={per_conn}",
                f"-D{seconds}", f"--log-file={logf.name}", url]
        pids = server.pids()
        u0, s0 = cpu_ticks(pids)
        out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
        u1, s1 = cpu_ticks(pids)
        if out.returncode != 0:
            raise RuntimeError(f"h2load failed ({out.returncode}): {out.stderr.strip() or out.stdout.strip()}")
        res = parse_h2load(out.stdout, logf.name)
    if not server.alive():
        raise RuntimeError(f"{server.name} died under load; its stderr:\n{server.stderr_tail()}")
    n = max(res["requests"], 1)
    res["offered_rps"] = per_conn * connections
    res["rps"] = res["requests"] / seconds
    res["user_us"] = (u1 - u0) / CLK_TCK * 1e6 / n
    res["sys_us"] = (s1 - s0) / CLK_TCK * 1e6 / n
    res["cpu_us"] = res["user_us"] + res["sys_us"]
    res["socket_errors"] = res["failed"]
    return res


def bench_row(args, workdir, row, backend_port):
    server = start_proxy(args, workdir, row, backend_port)
    out = {}
    try:
        url = f"http://127.0.0.1:{server.port}/ping"
        run_wrk(url, 1, args.connections)  # warm-up: upstream pool, caches
        for mode, script in (("keepalive", None), ("pipeline16", PIPELINE)):
            r = measure(server, url, args.duration, args.connections, script)
            r.pop("wrk_output", None)
            out[mode] = r
            log(f"  {row:9} {mode:10} {r['rps']:>9,.0f} req/s  {r['cpu_us']:6.2f} us/req "
                f"(user {r['user_us']:.2f}, sys {r['sys_us']:.2f})"
                + (f"  ERRORS: {r['socket_errors']} socket, {r['non_2xx']} non-2xx"
                   if r["socket_errors"] or r["non_2xx"] else ""))
        r = fixed_rate(server, url, args.duration, args.connections, args.rate)
        out["rate"] = r
        log(f"  {row:9} {'rate':10} {r['rps']:>9,.0f} req/s  {r['cpu_us']:6.2f} us/req  "
            f"p50 {r['p50_ms']:.3f} p99 {r['p99_ms']:.3f} max {r['max_ms']:.3f} ms"
            + (f"  ERRORS: {r['failed']} failed, {r['non_2xx']} non-2xx" if r["failed"] or r["non_2xx"] else ""))
    finally:
        server.stop()
    if args.idle_connections:
        # A fresh proxy (the runs above leave pools and allocator caches behind),
        # in front of the gate backend that can hold requests.
        gate = proxy_memory.Gate()
        try:
            server = start_proxy(args, workdir, row, gate.port)
            try:
                out["memory"] = m = proxy_memory.measure(gate, server.port, server.pids(), args.idle_connections,
                                                         args.upstream_idle)
                log(f"  {row:9} {'idle':10} {m['client_bytes']:>9,} B per idle client connection, "
                    f"{fmt(m['upstream_bytes'], ',')} B per idle upstream connection "
                    f"({m['upstream_open']} upstream open)")
            finally:
                server.stop()
        except (RuntimeError, OSError) as e:
            out["memory"] = {"error": str(e)}
            log(f"  {row:9} idle memory FAILED: {e}")
        finally:
            gate.close()
    return out


def fmt(v, spec):
    """format(v, spec), or a dash as wide as the number would be."""
    if v is None:
        width = re.match(r"[<>^]?(\d*)", spec).group(1)
        return format("-", ">" + width) if width else "-"
    return format(v, spec)


def render(results, args):
    ka = lambda row, mode: results.get(row, {}).get(mode, {}).get("cpu_us")  # noqa: E731
    head1 = (f"{'':10}|{'keep-alive':^38}|{'pipelined x16':^38}|{f'fixed rate {args.rate}/s (h2load)':^46}|"
             f"{'idle memory, B':^18}")
    sub = f"{'req/s':>9}{'usr us':>7}{'cpu us':>7}{'xnginx':>8}{'err':>7}"
    head2 = (f"{'row':10}|{sub}|{sub}|{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'cpu us':>7}{'xnginx':>8}{'err':>7}|"
             f"{'client':>9}{'upstr':>9}")
    lines = [head1, head2, "-" * len(head2)]
    for row, res in results.items():
        if "error" in res:
            lines.append(f"{row:10}| ({res['error'][:100]})")
            continue
        line = f"{row:10}|"
        for mode in ("keepalive", "pipeline16"):
            r = res[mode]
            ng = ka("nginx", mode)
            line += (f"{r['rps']:>9,.0f}{r['user_us']:>7.2f}{r['cpu_us']:>7.2f}"
                     f"{fmt(r['cpu_us'] / ng if ng else None, '>8.2f')}{r['socket_errors'] + r['non_2xx']:>7}|")
        r, ng = res["rate"], ka("nginx", "rate")
        line += (f"{fmt(r['p50_ms'], '>8.3f')}{fmt(r['p99_ms'], '>8.3f')}{fmt(r['max_ms'], '>8.2f')}"
                 f"{r['cpu_us']:>7.2f}{fmt(r['cpu_us'] / ng if ng else None, '>8.2f')}"
                 f"{r['failed'] + r['non_2xx']:>7}|")
        m = res.get("memory", {})
        line += f"{fmt(m.get('client_bytes'), '>9,')}{fmt(m.get('upstream_bytes'), '>9,')}"
        lines.append(line)
    ng = ka("nginx", "keepalive")
    for row in (r for r in results if r in AXLE_SETS and "keepalive" in results[r]):
        x = results[row]["keepalive"]["cpu_us"] / ng if ng else None
        if x is not None:
            lines.append(f"target: {row} keep-alive CPU/request {x:.2f}x nginx (issue 10 goal <= 0.8): "
                         f"{'MET' if x <= 0.8 else 'not met'}")
    lines.append(f"cpu us = proxy CPU microseconds per request, user + kernel (/proc/<pid>/stat; nginx master + "
                 f"worker); xnginx = ratio to the nginx row, same mode; err = socket errors / failed + non-2xx. "
                 f"Backend: {args.backend} on CPU {CLIENT_CPU}; proxy on CPU 0.")
    lines.append("fixed rate: latency from h2load's per-request log, request sent to response end; "
                 "idle memory: bench/proxy_memory.py (VmRSS growth per connection).")
    return "\n".join(lines)


# The proxied request; the backend answers "pong" as the servers of request_instructions do.
PROXY_REQUEST = b"GET /bench HTTP/1.1\r\nHost: bench\r\nUser-Agent: proxy-instructions\r\n\r\n"


def callgrind_run(args, workdir, backend_port, requests, keep):
    """Instructions of the whole proxy process (under callgrind, epoll: valgrind
    does not follow io_uring) that answered `requests` requests."""
    port = free_port()
    config = os.path.join(workdir, "proxy-callgrind.toml")
    with open(config, "w") as f:
        f.write(axle_proxy_config(PLAIN, port, backend_port))
    out = os.path.join(keep or workdir, f"callgrind.proxy.d{args.depth}.{requests}")
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                             os.path.join(args.build_dir, "bin", "axle"), "--config", config],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc, timeout=60)
        drive(port, requests, args.connections, args.depth, request=PROXY_REQUEST)
        if keep:  # modules run from memfd snapshots: their load addresses, for addr2line
            with open(f"/proc/{proc.pid}/maps") as src, open(out + ".maps", "w") as dst:
                dst.write(src.read())
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    return callgrind_total(out)


def instructions(args):
    """(Ir(N) - Ir(N/10)) / (N - N/10): start-up and shutdown cancel out."""
    workdir = make_workdir("axle-proxy-instr-")
    try:
        backend = start_backend(args, workdir)
        try:
            low = callgrind_run(args, workdir, backend.port, args.instructions // 10, args.keep_callgrind)
            high = callgrind_run(args, workdir, backend.port, args.instructions, args.keep_callgrind)
        finally:
            backend.stop()
    finally:
        remove_workdir(workdir)
    per = (high - low) / (args.instructions - args.instructions // 10)
    print(f"proxy instructions per request (callgrind, epoll/malloc/scalar/linear, backend {args.backend}): "
          f"{per:,.0f}  depth {args.depth}, {args.connections} connections, "
          f"{args.instructions // 10} vs {args.instructions} requests")
    return 0


def main(argv):
    ap = argparse.ArgumentParser(prog="bench/run --proxy", description=__doc__.splitlines()[0])
    ap.add_argument("--proxy", action="store_true", help=argparse.SUPPRESS)  # bench/run's switch
    ap.add_argument("--rows", default="axle,nginx,haproxy", help=f"from {', '.join(ROWS)} (default axle,nginx,haproxy)")
    ap.add_argument("--quick", action="store_true", help="2 s runs, no memory figures")
    ap.add_argument("--duration", type=int, help="seconds per run (default 10, quick 2)")
    ap.add_argument("--connections", type=int, default=100, help="client connections (default 100)")
    ap.add_argument("--rate", type=int, default=5000, help="fixed-rate run: requests/s in total (default 5000)")
    ap.add_argument("--backend", choices=("floor", "precompiled"), default="floor")
    ap.add_argument("--idle-connections", type=int, help="idle connections for the memory figures "
                    "(default 2000, quick 0 = skip)")
    ap.add_argument("--upstream-idle", type=int, default=200,
                    help="idle upstream connections for the memory figure (default 200; nginx keeps 256)")
    ap.add_argument("--no-memory", action="store_true", help="skip the idle memory figures")
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build-bench"))
    ap.add_argument("--no-build", action="store_true", help="use --build-dir as it is")
    ap.add_argument("--instructions", type=int, metavar="N",
                    help="instead of the table: callgrind instructions per request of the axle row")
    ap.add_argument("--depth", type=int, default=1, help="--instructions: requests per write (16 = pipelined)")
    ap.add_argument("--keep-callgrind", metavar="DIR", help="--instructions: leave the callgrind files in DIR")
    args = ap.parse_args(argv)
    if args.instructions:
        args.connections = min(args.connections, 10)
        return instructions(args)
    args.duration = args.duration or (2 if args.quick else 10)
    if args.idle_connections is None:
        args.idle_connections = 0 if args.quick else 2000
    if args.no_memory:
        args.idle_connections = 0
    rows = args.rows.split(",")
    bad = [r for r in rows if r not in ROWS]
    if bad:
        ap.error(f"unknown row(s) {', '.join(bad)}; rows: {', '.join(ROWS)}")
    if args.rate < args.connections:
        ap.error("--rate must be at least --connections (h2load paces each connection)")
    if not args.no_build and (any(r in AXLE_SETS for r in rows) or args.backend == "precompiled"):
        from harness import build_axle  # the release build bench/run makes
        build_axle(args.build_dir)
    workdir = make_workdir("axle-proxy-")
    os.chmod(workdir, 0o755)  # nginx's worker may run as another user
    results, failed = {}, False
    try:
        backend = start_backend(args, workdir)
        try:
            log(f"proxy rows: {', '.join(rows)}; backend {args.backend} on CPU {CLIENT_CPU} (port {backend.port}); "
                f"{args.duration} s per run, {args.connections} connections, fixed rate {args.rate}/s")
            for row in rows:
                try:
                    results[row] = bench_row(args, workdir, row, backend.port)
                except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                    lines = [line for line in str(e).splitlines() if line.strip()]
                    # "... before listening; its stderr:" + the server's last word
                    results[row] = {"error": " ".join(dict.fromkeys(lines[:1] + lines[-1:]))}
                    log(f"  {row:9} FAILED: {e}")
                    failed = True
                if not backend.alive():
                    raise RuntimeError(f"the backend died; its stderr:\n{backend.stderr_tail()}")
        finally:
            backend.stop()
    finally:
        remove_workdir(workdir)
    print(render(results, args))
    print(json.dumps({"rows": results, "backend": args.backend, "rate": args.rate,
                      "connections": args.connections, "duration_s": args.duration}, indent=1), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/python3
"""axle's kept-response rows: event streams and pending requests (issue 9).

  bench/run --streams [--rows events,pending] [--duration 10] [--streams-count 1000]
                      [--interval-ms 10] [--pending 10000] [--build-dir build-bench] [--no-build]

events   sse_clock (/events, one event per interval_ms) on STREAMS streams;
         server (one worker) on CPU 0, this client on CPU 1 counts the events
         it receives over --duration s after a 2 s warm-up; server CPU from
         /proc/<pid>/stat utime+stime over the same window. Printed: events/s
         received, server CPU %, server CPU us per event, and events per
         second per core (1e6 / us per event). Module sets epoll/malloc and
         uring/pool (parser and router do not take part in a stream).
pending  /sleep/60000 on PENDING connections: RSS with all of them pending
         minus RSS before, divided by PENDING; checked that none was answered
         meanwhile. Module sets plain (epoll/malloc/scalar/linear) and fast
         (uring/pool/simd/radix).
"""
import argparse
import json
import os
import resource
import selectors
import socket
import sys
import time

from common import CLIENT_CPU, CLK_TCK, REPO, Server, cpu_ticks, free_port, log, make_workdir, remove_workdir, rss_kb
from servers import FAST, PLAIN

EVENT_SETS = {"epoll/malloc": {**PLAIN}, "uring/pool": {**PLAIN, "io": "uring", "allocator": "pool"}}
PENDING_SETS = {"plain": PLAIN, "fast": FAST}
# One event on the wire: chunk size line "15\r\n", "data: <13-digit ms>\n\n", "\r\n".
EVENT_WIRE_BYTES = 4 + 21 + 2


def config(mods, port, routes, max_connections):
    lines = ["[server]", f'listen = ["127.0.0.1:{port}"]', "workers = 1", "", "[modules]"]
    lines += [f'{kind} = "{name}"' for kind, name in mods.items()]
    lines += ["", "[limits]", f"max_connections = {max_connections}", "", "[timeouts]", "idle_ms = 600000"]
    for route in routes:
        lines += ["", "[[route]]"] + [f"{k} = {json.dumps(v)}" for k, v in route.items()]
    return "\n".join(lines) + "\n"


def start(args, workdir, name, mods, routes, max_connections):
    port = free_port()
    path = os.path.join(workdir, f"{name}.toml")
    with open(path, "w") as f:
        f.write(config(mods, port, routes, max_connections))
    return Server(name, [os.path.join(args.build_dir, "bin", "axle"), "--config", path], port, workdir)


def connect_all(port, count, request, sel, data=None):
    """count non-blocking connections that sent request; connected in bursts under the backlog."""
    socks, connecting = [], set()
    deadline = time.monotonic() + 120
    while len(socks) < count or connecting:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(socks) - len(connecting)} of {count} connections in 120 s")
        while len(socks) < count and len(connecting) < 500:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            socks.append(s)
            connecting.add(s)
            sel.register(s, selectors.EVENT_WRITE)
        for key, _ in sel.select(timeout=1.0):
            s = key.fileobj
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                raise RuntimeError("connect failed")
            s.send(request)
            connecting.discard(s)
            if data is None:
                sel.unregister(s)
            else:
                sel.modify(s, selectors.EVENT_READ, data)
    return socks


def event_row(args, workdir, label, mods):
    routes = [{"path": "/events", "handler": "sse_clock", "interval_ms": args.interval_ms}]
    server = start(args, workdir, "axle-events-" + label.replace("/", "-"), mods, routes, args.streams_count + 100)
    sel = selectors.DefaultSelector()
    socks = []
    try:
        socks = connect_all(server.port, args.streams_count, b"GET /events HTTP/1.1\r\nHost: b\r\n\r\n", sel, data=0)
        received = 0

        def pump(seconds):
            nonlocal received
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                for key, _ in sel.select(timeout=0.05):
                    chunk = key.fileobj.recv(1 << 16)
                    if not chunk:
                        raise RuntimeError("the server closed a stream")
                    received += len(chunk)

        pump(2.0)  # warm-up: every stream's head is in, the timers are in step
        pids = server.pids()
        u0, s0 = cpu_ticks(pids)
        start_bytes, t0 = received, time.monotonic()
        pump(args.duration)
        u1, s1 = cpu_ticks(pids)
        seconds = time.monotonic() - t0
        if not server.alive():
            raise RuntimeError(f"server died; stderr:\n{server.stderr_tail()}")
        events = (received - start_bytes) / EVENT_WIRE_BYTES
        cpu_s = (u1 - u0 + s1 - s0) / CLK_TCK
        us_per_event = cpu_s / events * 1e6 if events else float("nan")
        return {"streams": args.streams_count, "interval_ms": args.interval_ms, "seconds": round(seconds, 2),
                "events": int(events), "events_per_s": round(events / seconds),
                "offered_per_s": round(args.streams_count * 1000 / args.interval_ms),
                "server_cpu_pct": round(cpu_s / seconds * 100, 1),
                "user_us_per_event": round((u1 - u0) / CLK_TCK / events * 1e6, 3) if events else None,
                "sys_us_per_event": round((s1 - s0) / CLK_TCK / events * 1e6, 3) if events else None,
                "cpu_us_per_event": round(us_per_event, 3),
                "events_per_core_s": round(1e6 / us_per_event) if events else None}
    finally:
        for s in socks:
            s.close()
        sel.close()
        server.stop()


def pending_row(args, workdir, label, mods):
    routes = [{"path": "/ping", "handler": "ping"}, {"path": "/sleep/{ms}", "handler": "sleep"}]
    server = start(args, workdir, f"axle-pending-{label}", mods, routes, args.pending + 100)
    sel = selectors.DefaultSelector()
    socks = []
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as warm:  # lazily made state
            warm.sendall(b"GET /sleep/1 HTTP/1.1\r\nHost: b\r\n\r\n")
            warm.recv(4096)
        time.sleep(1.0)
        pids = server.pids()
        before = rss_kb(pids)
        socks = connect_all(server.port, args.pending, b"GET /sleep/60000 HTTP/1.1\r\nHost: b\r\n\r\n", sel)
        time.sleep(2.0)  # every request read and parked on its timer
        after = rss_kb(pids)
        answered = 0
        for s in socks:
            try:
                if s.recv(1, socket.MSG_PEEK):
                    answered += 1
            except BlockingIOError:
                pass
        if answered:
            raise RuntimeError(f"{answered} of {args.pending} /sleep/60000 requests were answered early")
        if not server.alive():
            raise RuntimeError(f"server died; stderr:\n{server.stderr_tail()}")
        return {"pending": args.pending, "rss_before_kb": before, "rss_after_kb": after,
                "bytes_per_pending": round((after - before) * 1024 / args.pending)}
    finally:
        for s in socks:
            s.close()
        sel.close()
        server.stop()


def main(argv):
    ap = argparse.ArgumentParser(prog="bench/run --streams", description=__doc__.splitlines()[0])
    ap.add_argument("--streams", action="store_true", help=argparse.SUPPRESS)  # bench/run's switch
    ap.add_argument("--rows", default="events,pending", help="events, pending or both (default)")
    ap.add_argument("--duration", type=int, default=10, help="measured seconds of the events row (default 10)")
    ap.add_argument("--streams-count", type=int, default=1000, help="event streams (default 1000)")
    ap.add_argument("--interval-ms", type=int, default=10, help="interval_ms of every stream (default 10)")
    ap.add_argument("--pending", type=int, default=10000, help="pending /sleep requests (default 10000)")
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build-bench"))
    ap.add_argument("--no-build", action="store_true", help="use --build-dir as it is")
    args = ap.parse_args(argv)
    if not args.no_build:
        from harness import build_axle  # the release build bench/run makes
        build_axle(args.build_dir)
    rows = args.rows.split(",")
    os.sched_setaffinity(0, {int(CLIENT_CPU)})
    need = max(args.streams_count, args.pending) + 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 2 * need), hard))  # the server inherits it
    workdir = make_workdir("axle-streams-")
    results, failed = {}, False
    try:
        if "events" in rows:
            print(f"{'events':14} {'streams':>7} {'ev/s':>9} {'offered':>9} {'srv cpu%':>8} {'usr us':>7} "
                  f"{'sys us':>7} {'cpu us/ev':>9} {'ev/s/core':>10}", flush=True)
            for label, mods in EVENT_SETS.items():
                try:
                    r = event_row(args, workdir, label, mods)
                except (RuntimeError, OSError) as e:
                    print(f"{label:14} failed: {e}", flush=True)
                    failed = True
                    continue
                results[f"events {label}"] = r
                print(f"{label:14} {r['streams']:>7} {r['events_per_s']:>9,} {r['offered_per_s']:>9,} "
                      f"{r['server_cpu_pct']:>8} {r['user_us_per_event']:>7} {r['sys_us_per_event']:>7} "
                      f"{r['cpu_us_per_event']:>9} {r['events_per_core_s']:>10,}", flush=True)
        if "pending" in rows:
            print(f"{'pending':14} {'requests':>8} {'RSS before kB':>14} {'RSS after kB':>13} {'B/pending':>10}",
                  flush=True)
            for label, mods in PENDING_SETS.items():
                try:
                    r = pending_row(args, workdir, label, mods)
                except (RuntimeError, OSError) as e:
                    print(f"{label:14} failed: {e}", flush=True)
                    failed = True
                    continue
                results[f"pending {label}"] = r
                print(f"{label:14} {r['pending']:>8,} {r['rss_before_kb']:>14,} {r['rss_after_kb']:>13,} "
                      f"{r['bytes_per_pending']:>10,}", flush=True)
    finally:
        remove_workdir(workdir)
    log(json.dumps(results))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/python3
"""Resident memory a server spends per idle keep-alive connection.

Opens COUNT connections to the server, sends one request on each and reads
its whole response (so the server has done the full per-connection work:
accepted, allocated, parsed, answered), then leaves them all open and idle.
Reads VmRSS of the server's processes before and after, prints one JSON
object:  {"connections": N, "rss_before_kb": .., "rss_after_kb": .., "bytes_per_connection": ..}

  idle_conns.py --port PORT --pids PID[,PID...] [--count 5000] [--path /ping]

RSS is summed over the pids given (e.g. nginx master + worker); only the
difference matters, so a process whose memory doesn't move adds nothing.

  idle_conns.py --all-sets [--build-dir build-bench] [--count 4000]

starts axle (one worker, pinned to CPU 0 like bench/run) once per module set,
every built combination of io x allocator x parser x router, measures the
same way from CPU 1, and prints one table row per set.
"""
import argparse
import itertools
import json
import os
import resource
import selectors
import socket
import sys
import tempfile
import time


def rss_kb(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def response_complete(data):
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return False
    length = 0
    for line in data[:head_end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return len(data) >= head_end + 4 + length


def open_idle(port, path, count, timeout_s):
    """Returns the open sockets, each having completed one request."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    sel = selectors.DefaultSelector()
    done, received = [], {}
    deadline = time.monotonic() + timeout_s
    opened = 0
    # Connect in bursts well under the listen backlog so none is refused.
    while len(done) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(done)} of {count} connections answered in {timeout_s} s")
        while opened < count and opened - len(done) < 500:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            sel.register(s, selectors.EVENT_WRITE)
            received[s] = b""
            opened += 1
        for key, mask in sel.select(timeout=1.0):
            s = key.fileobj
            if mask & selectors.EVENT_WRITE:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    raise RuntimeError(f"connect failed: {err}")
                s.sendall(request)
                sel.modify(s, selectors.EVENT_READ)
                continue
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError("server closed a connection before answering")
            received[s] += chunk
            if response_complete(received[s]):
                sel.unregister(s)
                done.append(s)
    return done


def measure(port, pids, count, path, settle):
    """Opens count idle connections on the server; returns the JSON figures."""
    time.sleep(settle)
    before = rss_kb(pids)
    conns = open_idle(port, path, count, timeout_s=60)
    try:
        time.sleep(settle)
        after = rss_kb(pids)
        # Every connection must still be open: an idle timeout or a limit would
        # have closed some, and the figure would be wrong.
        for s in conns:
            try:
                if s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                    raise RuntimeError("server closed an idle connection during the measurement")
            except BlockingIOError:
                pass
    finally:
        for s in conns:
            s.close()
    return {
        "connections": len(conns),
        "rss_before_kb": before,
        "rss_after_kb": after,
        "bytes_per_connection": round((after - before) * 1024 / len(conns)),
    }


# The module choices of each kind, in bench order (plain first).
KINDS = {"io": ("epoll", "uring"), "allocator": ("malloc", "pool", "hugepages"),
         "parser": ("scalar", "simd"), "router": ("linear", "radix")}
MODULE_PREFIX = {"io": "io", "allocator": "alloc", "parser": "parser", "router": "router"}


def all_sets(args):
    """One axle per module set; a table row per set on stdout."""
    from common import CLIENT_CPU, Server, free_port  # bench/ is this script's directory
    import servers

    os.sched_setaffinity(0, {int(CLIENT_CPU)})
    mod_dir = os.path.join(args.build_dir, "lib", "axle", "modules")
    binary = os.path.join(args.build_dir, "bin", "axle")
    if not os.access(binary, os.X_OK):
        raise RuntimeError(f"no axle binary at {binary} (build it, or pass --build-dir)")
    workdir = tempfile.mkdtemp(prefix="axle-idle-")
    print(f"{'io':6} {'allocator':10} {'parser':7} {'router':7} {'conns':>6} {'RSS before kB':>14} "
          f"{'RSS after kB':>13} {'B/conn':>8}", flush=True)
    failures = 0
    for combo in itertools.product(*KINDS.values()):
        mods = dict(zip(KINDS, combo))
        label = f"{mods['io']:6} {mods['allocator']:10} {mods['parser']:7} {mods['router']:7}"
        missing = [f"{MODULE_PREFIX[k]}-{v}" for k, v in mods.items()
                   if not os.path.exists(os.path.join(mod_dir, f"axle-{MODULE_PREFIX[k]}-{v}.so"))]
        if missing:
            print(f"{label} not built: {', '.join(missing)}", flush=True)
            continue
        port = free_port()
        config = os.path.join(workdir, "axle-" + "-".join(combo) + ".toml")
        with open(config, "w") as f:
            f.write(servers.axle_config(mods, port, idle_ms=600000, max_connections=args.count + 1000))
        try:
            server = Server("axle-" + "-".join(combo), [binary, "--config", config], port, workdir)
        except RuntimeError as e:  # e.g. io_uring disabled here: say so, go on
            print(f"{label} did not start: {str(e).splitlines()[0]}", flush=True)
            failures += 1
            continue
        try:
            res = measure(port, server.pids(), args.count, args.path, args.settle)
            print(f"{label} {res['connections']:>6} {res['rss_before_kb']:>14,} {res['rss_after_kb']:>13,} "
                  f"{res['bytes_per_connection']:>8,}", flush=True)
        except (RuntimeError, OSError) as e:
            print(f"{label} failed: {e}", flush=True)
            failures += 1
        finally:
            server.stop()
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, help="the server to measure (single-server mode)")
    ap.add_argument("--pids", help="comma-separated server pids whose RSS is summed (single-server mode)")
    ap.add_argument("--all-sets", action="store_true", help="start axle with every built module set in turn")
    ap.add_argument("--build-dir", default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                         "build-bench"), help="axle build dir for --all-sets")
    ap.add_argument("--count", type=int, help="connections (default 5000; --all-sets 4000)")
    ap.add_argument("--path", default="/ping")
    ap.add_argument("--settle", type=float, default=1.0, help="seconds to wait before each RSS reading")
    args = ap.parse_args()
    if not args.all_sets and (args.port is None or not args.pids):
        ap.error("give --port and --pids, or --all-sets")
    args.count = args.count or (4000 if args.all_sets else 5000)

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.count + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.count + 1000), hard))

    if args.all_sets:
        return 1 if all_sets(args) else 0
    pids = [int(p) for p in args.pids.split(",") if p]
    print(json.dumps(measure(args.port, pids, args.count, args.path, args.settle)))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError) as e:
        print(f"idle_conns: {e}", file=sys.stderr)
        sys.exit(1)

#!/usr/bin/env python3
"""Instructions the server executes per request, counted by callgrind: a
figure that does not move with the machine's load, unlike CPU time.

Runs axle (one worker, epoll: valgrind does not follow io_uring) under
`valgrind --tool=callgrind` twice, answering N1 and then N2 requests over C
keep-alive connections (one at a time, or pipelined 16 deep), and reports
(Ir(N2) - Ir(N1)) / (N2 - N1): start-up and shutdown cancel out.

  bench/request_instructions.py --build-dir build-bench [--rows plain,precompiled,...]
  bench/request_instructions.py --build-dir A --compare-build-dir B   # two builds side by side
"""
import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import free_port, make_workdir, remove_workdir, wait_for_port  # noqa: E402
from servers import axle_config, modules_for  # noqa: E402

ROWS = ["plain", "pool", "simd", "radix", "precompiled", "epoll-fast+precompiled"]
REQUEST = b"GET /ping HTTP/1.1\r\nHost: bench\r\nUser-Agent: request_instructions\r\n\r\n"


def row_modules(row):
    if row.startswith("epoll-fast"):  # all-fast but epoll: valgrind cannot run io_uring
        return {"io": "epoll", "allocator": "pool", "parser": "simd", "router": "radix"}
    return modules_for(row)


def drive(port, requests, connections, depth, request=REQUEST):
    """Sends `requests` requests (GET /ping) over `connections` sockets, `depth` per write, reading
    every answer (each holds "pong")."""
    socks = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(connections)]
    left = requests
    while left > 0:
        for s in socks:
            n = min(depth, left)
            if n <= 0:
                break
            s.sendall(request * n)
            got = b""
            while got.count(b"pong") < n:
                chunk = s.recv(65536)
                if not chunk:
                    raise RuntimeError("server closed the connection")
                got += chunk
            left -= n
    for s in socks:
        s.close()


def instructions(build_dir, row, requests, connections, depth, workdir):
    port = free_port()
    config = os.path.join(workdir, f"{row}.toml")
    with open(config, "w") as f:
        f.write(axle_config(row_modules(row), port, precompiled=row.endswith("precompiled")))
    out = os.path.join(workdir, f"callgrind.{row}.{requests}")
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                             os.path.join(build_dir, "bin", "axle"), "--config", config],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc, timeout=60)
        drive(port, requests, connections, depth)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    return callgrind_total(out)


def callgrind_total(path):
    """The instruction total of a callgrind output file."""
    with open(path) as f:
        for line in f:
            m = re.match(r"(?:summary|totals):\s+(\d+)", line)
            if m:
                return int(m.group(1))
    raise RuntimeError(f"no totals in {path}")


def per_request(build_dir, row, args, workdir):
    low = instructions(build_dir, row, args.requests // 10, args.connections, args.depth, workdir)
    high = instructions(build_dir, row, args.requests, args.connections, args.depth, workdir)
    return (high - low) / (args.requests - args.requests // 10)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--compare-build-dir", help="a second build (e.g. before a change), shown beside the first")
    ap.add_argument("--rows", default=",".join(ROWS))
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--connections", type=int, default=10)
    ap.add_argument("--depth", type=int, default=1, help="requests per write (16 = pipelined)")
    args = ap.parse_args()
    workdir = make_workdir("axle-instr-")
    try:
        builds = [args.build_dir] + ([args.compare_build_dir] if args.compare_build_dir else [])
        head = f"{'row':<24}" + "".join(f"{os.path.basename(os.path.abspath(b)) or b:>22}" for b in builds)
        if len(builds) == 2:
            head += f"{'ratio':>8}"
        print(f"instructions per request (callgrind), depth {args.depth}, {args.connections} connections")
        print(head)
        for row in args.rows.split(","):
            figures = [per_request(b, row, args, workdir) for b in builds]
            line = f"{row:<24}" + "".join(f"{v:>22,.0f}" for v in figures)
            if len(figures) == 2:
                line += f"{figures[0] / figures[1]:>8.2f}"
            print(line, flush=True)
    finally:
        remove_workdir(workdir)


if __name__ == "__main__":
    main()

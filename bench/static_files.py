#!/usr/bin/python3
"""Static-file rows (issue 13): files through axle's `static` handler against nginx.

  bench/run --static [--rows plain,fast,nginx] [--sizes 4k,64k,1m] [--duration 10] [--quick]
                     [--connections 100] [--set uring.file_copy_max=0 ...] [--route memory_max_bytes=0 ...]
                     [--build-dir build-bench] [--no-build]

Every server serves the same directory of files (4 KiB, 64 KiB, 1 MiB; also 16 and 32 KiB),
one worker pinned to CPU 0, wrk -t1 with 100 keep-alive connections on CPU 1,
GET of one file for --duration s after a 1 s warm-up. Server CPU per request
(user and total) from /proc/<pid>/stat utime+stime, as in the main table.

plain  axle epoll/malloc/scalar/linear, `static` handler
fast   axle uring/pool/simd/radix, `static` handler
nginx  Debian's nginx, `sendfile on`, `open_file_cache max=1000 inactive=20s`,
       `open_file_cache_valid 1s`
The `static` handler's open-file cache is set to nginx's settings (1,000
entries, 1 s validity) when the built module declares its keys (`axle
--help-module static`), so axle and nginx compare like for like; the first
line says whether it did. Its small files from memory keep their default.
"""
import argparse
import json
import os
import re
import subprocess
import sys

from common import REPO, Server, free_port, log, make_workdir, measure, remove_workdir, run_wrk
import servers
from servers import FAST, PLAIN

SIZES = {"4k": 4096, "16k": 16384, "32k": 32768, "64k": 65536, "1m": 1 << 20}
DEFAULT_SIZES = ["4k", "64k", "1m"]  # 16k and 32k on request (--sizes), for thresholds
ROWS = ["plain", "fast", "nginx"]
AXLE_SETS = {"plain": PLAIN, "fast": FAST}
# open-file cache keys of `static` (issue 13 item 1, per route), set to
# nginx's settings below when the module has them: entries, validity in ms.
CACHE_KEYS = {"cache_entries": "1000", "cache_valid_ms": "1000"}


def make_files(docroot):
    os.makedirs(docroot, exist_ok=True)
    for name, size in SIZES.items():
        with open(os.path.join(docroot, f"f{name}.bin"), "wb") as f:
            f.write(bytes((i * 7 + 3) & 0xFF for i in range(size)))


def static_keys(build_dir):
    """The config keys the built `static` module declares."""
    out = subprocess.run([os.path.join(build_dir, "bin", "axle"), "--help-module", "static"],
                         capture_output=True, text=True)
    return out.stdout if out.returncode == 0 else ""


def axle_config(mods, port, docroot, cache_lines, module_keys):
    lines = ["[server]", f'listen = ["127.0.0.1:{port}"]', "workers = 1", "", "[modules]"]
    lines += [f'{kind} = "{name}"' for kind, name in mods.items()]
    for module, keys in module_keys.items():  # --set, for the modules this row loads
        if module in mods.values():
            lines += ["", f"[module.{module}]"] + [f"{k} = {v}" for k, v in keys]
    lines += ["", "[[route]]", 'path = "/*"', 'handler = "static"', f"root = {json.dumps(docroot)}"]
    return "\n".join(lines + cache_lines) + "\n"


def start_axle(args, workdir, row, docroot, cache_lines):
    port = free_port()
    path = os.path.join(workdir, f"static-{row}.toml")
    with open(path, "w") as f:
        f.write(axle_config(AXLE_SETS[row], port, docroot, cache_lines, args.module_keys))
    return Server(f"axle-static-{row}", [os.path.join(args.build_dir, "bin", "axle"), "--config", path], port,
                  workdir)


def start_nginx(workdir, docroot):
    return servers.start_nginx(workdir, name="nginx-static",
                               http_lines="sendfile on; open_file_cache max=1000 inactive=20s; "
                                          "open_file_cache_valid 1s; default_type application/octet-stream;",
                               server_lines=f"root {docroot};")


def bench_row(args, workdir, row, docroot, cache_lines):
    server = start_nginx(workdir, docroot) if row == "nginx" else start_axle(args, workdir, row, docroot, cache_lines)
    out = {}
    try:
        for size in args.sizes:
            url = f"http://127.0.0.1:{server.port}/f{size}.bin"
            run_wrk(url, 1, args.connections)  # warm-up: page cache, pools, the open-file caches
            r = measure(server, url, args.duration, args.connections)
            r.pop("wrk_output", None)
            r["mb_per_s"] = r["rps"] * SIZES[size] / 1e6
            out[size] = r
            log(f"  {row:6} {size:4} {r['rps']:>9,.0f} req/s  {r['user_us']:6.2f} usr  {r['cpu_us']:6.2f} total us/req"
                + (f"  ERRORS: {r['socket_errors']} socket, {r['non_2xx']} non-2xx"
                   if r["socket_errors"] or r["non_2xx"] else ""))
    finally:
        server.stop()
    return out


def render(results, sizes):
    head = f"{'row':7}{'size':>6}{'req/s':>10}{'MB/s':>8}{'usr us':>8}{'cpu us':>8}{'usr xng':>8}{'cpu xng':>8}{'err':>5}"
    lines = [head, "-" * len(head)]
    for size in sizes:
        ng = results.get("nginx", {}).get(size)
        for row, res in results.items():
            r = res.get(size)
            if not r:
                continue
            ru = f"{r['user_us'] / ng['user_us']:>8.2f}" if ng and ng["user_us"] else f"{'-':>8}"
            rt = f"{r['cpu_us'] / ng['cpu_us']:>8.2f}" if ng and ng["cpu_us"] else f"{'-':>8}"
            lines.append(f"{row:7}{size:>6}{r['rps']:>10,.0f}{r['mb_per_s']:>8,.0f}{r['user_us']:>8.2f}"
                         f"{r['cpu_us']:>8.2f}{ru}{rt}{r['socket_errors'] + r['non_2xx']:>5}")
    lines.append("usr/cpu us = server CPU us per request, user / user+kernel (/proc/<pid>/stat); "
                 "xng = ratio to the nginx row of the same size; err = socket errors + non-2xx.")
    return "\n".join(lines)


def main(argv):
    ap = argparse.ArgumentParser(prog="bench/run --static", description=__doc__.splitlines()[0])
    ap.add_argument("--static", action="store_true", help=argparse.SUPPRESS)  # bench/run's switch
    ap.add_argument("--rows", default=",".join(ROWS), help="plain, fast, nginx (default all)")
    ap.add_argument("--sizes", default=",".join(DEFAULT_SIZES),
                    help=f"from {', '.join(SIZES)} (default {','.join(DEFAULT_SIZES)})")
    ap.add_argument("--quick", action="store_true", help="2 s runs")
    ap.add_argument("--duration", type=int, help="seconds per wrk run (default 10, quick 2)")
    ap.add_argument("--connections", type=int, default=100, help="wrk connections (default 100)")
    ap.add_argument("--set", action="append", default=[], metavar="MODULE.KEY=VALUE",
                    help="a module key for the axle rows that load MODULE (e.g. uring.file_copy_max=0)")
    ap.add_argument("--route", action="append", default=[], metavar="KEY=VALUE",
                    help="a key of the axle rows' static route (e.g. memory_max_bytes=0: every file from its descriptor)")
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build-bench"))
    ap.add_argument("--no-build", action="store_true", help="use --build-dir as it is")
    args = ap.parse_args(argv)
    args.duration = args.duration or (2 if args.quick else 10)
    rows, args.sizes = args.rows.split(","), args.sizes.split(",")
    bad = [r for r in rows if r not in ROWS] + [s for s in args.sizes if s not in SIZES]
    if bad:
        ap.error(f"unknown row(s) or size(s) {', '.join(bad)}; rows: {', '.join(ROWS)}; sizes: {', '.join(SIZES)}")
    args.module_keys = {}
    for item in args.set:
        name, eq, value = item.partition("=")
        module, dot, key = name.partition(".")
        if not eq or not dot or not module or not key:
            ap.error(f"--set {item!r}: want MODULE.KEY=VALUE")
        args.module_keys.setdefault(module, []).append((key, value))
    if not args.no_build:
        from harness import build_axle  # the release build bench/run makes
        build_axle(args.build_dir)
    keys = static_keys(args.build_dir) if any(r in AXLE_SETS for r in rows) else ""
    cache_lines = [f"{k} = {v}" for k, v in CACHE_KEYS.items() if re.search(rf"\b{k}\b", keys)]
    for item in args.route:
        key, eq, value = item.partition("=")
        if not eq or not key:
            ap.error(f"--route {item!r}: want KEY=VALUE")
        cache_lines.append(f"{key} = {value}")
    workdir = make_workdir("axle-static-")
    docroot = os.path.join(workdir, "htdocs")
    make_files(docroot)
    os.chmod(workdir, 0o755)  # nginx's worker may run as another user
    results, failed = {}, False
    try:
        log(f"static rows: {', '.join(rows)}; sizes {', '.join(args.sizes)}; {args.duration} s per run, "
            f"{args.connections} connections; axle open-file cache: "
            f"{'on (' + ', '.join(cache_lines) + ')' if cache_lines else 'not offered by this static module'}")
        for row in rows:
            try:
                results[row] = bench_row(args, workdir, row, docroot, cache_lines)
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                log(f"  {row:6} FAILED: {e}")
                failed = True
    finally:
        remove_workdir(workdir)
    print(render(results, args.sizes))
    print(json.dumps({"rows": results, "axle_cache": cache_lines}, indent=1), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

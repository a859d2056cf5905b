#!/usr/bin/python3
"""The macro bench: axle's module sets against nginx, h2o and a floor
responder, on one core each for server and client. See bench/README.md."""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys

from common import BENCH, CLK_TCK, REPO, log, make_workdir, measure, remove_workdir, run_wrk, svg_to_png
import servers
import svgchart

AXLE_ROWS = ["plain", "uring", "pool", "hugepages", "simd", "radix", "all-fast", "precompiled",
             "all-fast+precompiled"]
PEER_ROWS = ["nginx", "h2o", "floor"]
ALL_ROWS = AXLE_ROWS + PEER_ROWS
QUICK_ROWS = ["plain", "all-fast", "precompiled", "nginx", "floor"]
MODES = [("keepalive", None), ("pipeline16", os.path.join(BENCH, "pipeline16.lua"))]
MEMORY_ROWS = {"plain": "malloc", "pool": "pool", "nginx": None}


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="bench/run", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 s runs, fewer rows, 1,000 idle connections")
    ap.add_argument("--duration", type=int, help="seconds per wrk run (default 10, quick 2)")
    ap.add_argument("--rows", help="comma-separated rows, from: " + ",".join(ALL_ROWS))
    ap.add_argument("--connections", type=int, default=100, help="wrk connections (default 100)")
    ap.add_argument("--idle-connections", type=int, help="idle connections for the memory figure (default 5000)")
    ap.add_argument("--no-memory", action="store_true", help="skip the idle-connection memory figure")
    ap.add_argument("--no-parser", action="store_true", help="skip the parser micro-bench")
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build-bench"),
                    help="axle build dir (default build-bench, configured with the release preset)")
    ap.add_argument("--no-build", action="store_true", help="use --build-dir as it is")
    ap.add_argument("--out", default=os.path.join(BENCH, "results"), help="where the JSON and SVG go")
    ap.add_argument("--tag", help="name of the result files instead of the timestamp")
    args = ap.parse_args(argv)
    args.duration = args.duration or (2 if args.quick else 10)
    rows = args.rows.split(",") if args.rows else (QUICK_ROWS if args.quick else ALL_ROWS)
    unknown = [r for r in rows if r not in ALL_ROWS]
    if unknown:
        ap.error(f"unknown row(s) {', '.join(unknown)}; rows are: {', '.join(ALL_ROWS)}")
    args.rows = rows
    args.idle_connections = args.idle_connections or (1000 if args.quick else 5000)
    if args.duration < 1:
        ap.error("--duration must be at least 1")
    return args


def build_axle(build_dir):
    log(f"building axle (release preset) in {build_dir}")
    if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
        subprocess.run(["cmake", "--preset", "release", "-B", build_dir], cwd=REPO, check=True,
                       stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", build_dir, "-j2"], cwd=REPO, check=True, stdout=subprocess.DEVNULL)


def available_modules(build_dir):
    mod_dir = os.path.join(build_dir, "lib", "axle", "modules")
    names = os.listdir(mod_dir) if os.path.isdir(mod_dir) else []
    return {m[len("axle-"):-len(".so")] for m in names if m.startswith("axle-") and m.endswith(".so")}


def missing_modules(row, have):
    if row in PEER_ROWS:
        return []
    mods = servers.modules_for(row)
    kinds = {"io": "io", "allocator": "alloc", "parser": "parser", "router": "router"}
    need = [f"{kinds[k]}-{v}" for k, v in mods.items()]
    need.append("handler-precompiled" if row.endswith("precompiled") else "handler-ping")
    need.append("handler-echo")
    return [m for m in need if m not in have]


def start_row(row, args, workdir, floor_bin, **axle_opts):
    if row == "nginx":
        return servers.start_nginx(workdir)
    if row == "h2o":
        return servers.start_h2o(workdir)
    if row == "floor":
        return servers.start_floor(floor_bin, workdir)
    return servers.start_axle(args.build_dir, workdir, row, **axle_opts)


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def bench_row(row, args, workdir, floor_bin):
    server = start_row(row, args, workdir, floor_bin)
    try:
        url = f"http://127.0.0.1:{server.port}/ping"
        run_wrk(url, 1, args.connections)  # warm-up: caches, pools, page faults
        result = {}
        for mode, script in MODES:
            load_before = loadavg()
            r = measure(server, url, args.duration, args.connections, script)
            r["loadavg_before"], r["loadavg_after"] = load_before, loadavg()
            result[mode] = r
            log(f"  {row:22} {mode:10} {r['rps']:>10,.0f} req/s  {r['cpu_us']:6.2f} us/req "
                f"(user {r['user_us']:.2f}, sys {r['sys_us']:.2f})  p99 {r['p99_ms']} ms"
                + (f"  ERRORS: {r['socket_errors']} socket, {r['non_2xx']} non-2xx"
                   if r["socket_errors"] or r["non_2xx"] else ""))
        return result
    finally:
        server.stop()


def idle_memory(row, args, workdir, floor_bin):
    opts = {"idle_ms": 60000, "max_connections": args.idle_connections + 1000} if row != "nginx" else {}
    server = start_row(row, args, workdir, floor_bin, **opts)
    try:
        pids = server.pids()
        out = subprocess.run(["taskset", "-c", "1", sys.executable, os.path.join(BENCH, "idle_conns.py"),
                              "--port", str(server.port), "--pids", ",".join(map(str, pids)),
                              "--count", str(args.idle_connections)],
                             capture_output=True, text=True, timeout=180)
        if out.returncode != 0:
            raise RuntimeError(out.stderr.strip())
        res = json.loads(out.stdout)
        res["pids_summed"] = "master+worker" if row == "nginx" else "server process"
        log(f"  {row:22} idle       {res['bytes_per_connection']:>10,} B per idle connection "
            f"({res['rss_before_kb']} -> {res['rss_after_kb']} kB, {res['connections']} connections)")
        return res
    finally:
        server.stop()


def parser_micro(build_dir):
    """bench/micro/parser/run.sh: instructions per parse (callgrind)."""
    out = subprocess.run(["sh", os.path.join(BENCH, "micro", "parser", "run.sh"), build_dir],
                         capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip() or out.stdout.strip())
    rows = {}
    for line in out.stdout.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 7:
            continue
        name = "short" if line.startswith("short") else "browser" if line.startswith("browser") else line
        bytes_, scalar, avx2, sse42 = fields[-6:-2]
        rows[name] = {"label": line[:28].strip(), "bytes": int(bytes_), "scalar": int(scalar),
                      "simd_avx2": int(avx2), "simd_sse42": int(sse42)}
    return {"table": out.stdout, "requests": rows}


def fmt(v, spec):
    """format(v, spec), or a dash as wide as the number would be."""
    return format("-", re.sub(r"\.\d+f$", "", spec)) if v is None else format(v, spec)


def ratio(a, b):
    return None if a is None or not b else a / b


def render_table(results, memory, parser):
    """ONE table: both load modes, ratios of total CPU/request, idle memory."""
    def cpu(row, mode):
        r = results.get(row, {}).get(mode)
        return r["cpu_us"] if r else None

    head1 = (f"{'':22}|{'keep-alive, 100 connections':^72}|{'pipelined, depth 16':^72}|{'idle conn':^18}")
    head2 = f"{'row':22}|" + (f"{'req/s':>10}{'p50 ms':>8}{'p99 ms':>8}{'usr us':>8}{'sys us':>8}"
                              f"{'cpu us':>8}{'xplain':>8}{'xnginx':>8}{'err':>6}|") * 2 + \
        f"{'B/conn':>9}{'xnginx':>9}"
    lines = [head1, head2, "-" * len(head2)]
    for row, res in results.items():
        line = f"{row:22}|"
        for mode, _ in MODES:
            r = res.get(mode)
            if not r:
                line += f"{'(' + res.get('error', 'not run')[:66] + ')':^72}|"
                continue
            errs = r["socket_errors"] + r["non_2xx"]
            line += (f"{r['rps']:>10,.0f}{fmt(r['p50_ms'], '>8.2f')}{fmt(r['p99_ms'], '>8.2f')}"
                     f"{r['user_us']:>8.2f}{r['sys_us']:>8.2f}{r['cpu_us']:>8.2f}"
                     f"{fmt(ratio(r['cpu_us'], cpu('plain', mode)), '>8.2f')}"
                     f"{fmt(ratio(r['cpu_us'], cpu('nginx', mode)), '>8.2f')}{errs:>6}|")
        m = memory.get(row)
        if m and "bytes_per_connection" in m:
            nginx_mem = memory.get("nginx", {}).get("bytes_per_connection")
            line += f"{m['bytes_per_connection']:>9,}{fmt(ratio(m['bytes_per_connection'], nginx_mem), '>9.2f')}"
        elif m:
            line += f"{'error':>9}"
        lines.append(line)
    lines.append("cpu us = server CPU microseconds per request (user + kernel, from /proc/<pid>/stat); "
                 "xplain / xnginx = cpu us relative to the plain axle row / nginx; err = socket errors + non-2xx.")
    if memory:
        lines.append("B/conn = growth of server VmRSS per idle keep-alive connection "
                     "(axle rows: plain = malloc, pool = pool allocator; nginx: master + worker).")
    if parser and parser.get("requests"):
        lines.append("")
        lines.append("parser instructions per request parse (callgrind, bench/micro/parser/run.sh):")
        lines.append(parser["table"].rstrip())
    return "\n".join(lines)


def check_targets(results, memory, parser):
    """The goals axle was built for, checked against this run."""
    out = []

    def get(row, mode, key):
        r = results.get(row, {}).get(mode)
        return r[key] if r else None

    nginx_ka_user, nginx_ka = get("nginx", "keepalive", "user_us"), get("nginx", "keepalive", "cpu_us")
    nginx_pl = get("nginx", "pipeline16", "cpu_us")
    axle_rows = [r for r in results if r in AXLE_ROWS and results[r].get("keepalive")]
    if nginx_ka and axle_rows:
        for row in axle_rows:
            u, t = get(row, "keepalive", "user_us"), get(row, "keepalive", "cpu_us")
            ok = u <= 0.5 * nginx_ka_user and t <= nginx_ka
            out.append(f"keep-alive  {row:22} user {u / nginx_ka_user:.2f}x nginx (goal <= 0.5), "
                       f"total {t / nginx_ka:.2f}x (goal <= 1.0): {'MET' if ok else 'not met'}")
    if nginx_pl and axle_rows:
        for row in axle_rows:
            t = get(row, "pipeline16", "cpu_us")
            if t is not None:
                out.append(f"pipelined16 {row:22} total {t / nginx_pl:.2f}x nginx (goal <= 0.2): "
                           f"{'MET' if t <= 0.2 * nginx_pl else 'not met'}")
    browser = (parser or {}).get("requests", {}).get("browser")
    if browser:
        # parser-simd takes AVX2 where the CPU has it, which is the path that counts here.
        with open("/proc/cpuinfo") as f:
            isa = "avx2" if " avx2" in f.read() else "sse42"
        simd = browser[f"simd_{isa}"]
        gain = browser["scalar"] / simd
        out.append(f"parser      browser-like request: scalar {browser['scalar']} vs simd/{isa} {simd} instructions, "
                   f"{gain:.2f}x fewer (goal >= 2): {'MET' if gain >= 2 else 'not met'}"
                   f" [sse4.2 path: {browser['scalar'] / browser['simd_sse42']:.2f}x]")
    plain_ka, uring_ka = get("plain", "keepalive", "cpu_us"), get("uring", "keepalive", "cpu_us")
    if plain_ka and uring_ka:
        pl_p, ur_p = get("plain", "pipeline16", "cpu_us"), get("uring", "pipeline16", "cpu_us")
        out.append(f"io          uring vs epoll CPU/request: keep-alive {uring_ka / plain_ka:.2f}x"
                   + (f", pipelined {ur_p / pl_p:.2f}x" if pl_p and ur_p else "")
                   + f" (user {get('uring', 'keepalive', 'user_us'):.2f} vs {get('plain', 'keepalive', 'user_us'):.2f}"
                   f", sys {get('uring', 'keepalive', 'sys_us'):.2f} vs {get('plain', 'keepalive', 'sys_us'):.2f} us)")
    pool_mem = memory.get("pool", {}).get("bytes_per_connection")
    nginx_mem = memory.get("nginx", {}).get("bytes_per_connection")
    if pool_mem is not None and nginx_mem:
        out.append(f"memory      pool {pool_mem:,} B vs nginx {nginx_mem:,} B per idle connection (goal <= nginx): "
                   f"{'MET' if pool_mem <= nginx_mem else 'not met'}")
    return out


def chart(results, memory, parser, subtitle):
    rows = [r for r in results if results[r].get("keepalive")]
    panels = []
    for mode, title in (("keepalive", "Server CPU per request, keep-alive (lower is better)"),
                        ("pipeline16", "Server CPU per request, pipelined x16 (lower is better)")):
        panels.append(dict(title=title, labels=rows, unit="microseconds of server CPU per request",
                           series=[("user", [results[r][mode]["user_us"] for r in rows]),
                                   ("kernel", [results[r][mode]["sys_us"] for r in rows])],
                           highlight=("plain", "nginx")))
    for mode, title in (("keepalive", "Throughput, keep-alive (client-bound on 2 cores)"),
                        ("pipeline16", "Throughput, pipelined x16")):
        panels.append(dict(title=title, labels=rows, unit="requests per second",
                           series=[("req/s", [results[r][mode]["rps"] for r in rows])],
                           highlight=("plain", "nginx")))
    for mode, title in (("keepalive", "p99 latency, keep-alive"), ("pipeline16", "p99 latency, pipelined x16")):
        panels.append(dict(title=title, labels=rows, unit="milliseconds (wrk)",
                           series=[("p99", [results[r][mode]["p99_ms"] for r in rows])],
                           highlight=("plain", "nginx")))
    mem_rows = [r for r in memory if "bytes_per_connection" in memory[r]]
    if mem_rows:
        names = {"plain": "axle malloc", "pool": "axle pool", "nginx": "nginx"}
        panels.append(dict(title="RSS per idle keep-alive connection", labels=[names[r] for r in mem_rows],
                           unit="bytes", series=[("bytes", [memory[r]["bytes_per_connection"] for r in mem_rows])]))
    if parser and parser.get("requests"):
        reqs = parser["requests"]
        labels, vals = [], []
        for req, p in reqs.items():
            for key, name in (("scalar", "scalar"), ("simd_avx2", "simd avx2"), ("simd_sse42", "simd sse4.2")):
                labels.append(f"{req}: {name}")
                vals.append(p[key])
        panels.append(dict(title="Parser instructions per request", labels=labels, unit="instructions (callgrind)",
                           series=[("instructions", vals)]))
    return svgchart.grid_svg("axle macro bench", subtitle, panels)


def machine_info():
    cpu = ""
    with open("/proc/cpuinfo") as f:
        m = re.search(r"model name\s*:\s*(.*)", f.read())
        cpu = m.group(1) if m else ""
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(), "clk_tck": CLK_TCK}


def versions():
    def first_line(argv):
        try:
            out = subprocess.run(argv, capture_output=True, text=True)
            return (out.stdout + out.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return None
    return {"nginx": first_line(["nginx", "-v"]), "h2o": first_line(["h2o", "--version"]),
            "wrk": first_line(["wrk", "-v"])}


def main(argv):
    args = parse_args(argv)
    if not args.no_build:
        build_axle(args.build_dir)
    have = available_modules(args.build_dir)
    os.makedirs(args.out, exist_ok=True)
    stamp = args.tag or datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    workdir = make_workdir("axle-bench-")
    floor_bin = servers.build_floor(workdir)
    notes, results, memory, parser = [], {}, {}, None
    try:
        log(f"rows: {', '.join(args.rows)}; {args.duration} s per run, {args.connections} connections; "
            f"server on CPU 0, wrk on CPU 1")
        for row in args.rows:
            missing = missing_modules(row, have)
            if missing:
                results[row] = {"error": f"missing module(s): {', '.join(missing)}"}
                notes.append(f"row {row} skipped: {results[row]['error']}")
                log(f"  {row:22} skipped: {results[row]['error']}")
                continue
            try:
                results[row] = bench_row(row, args, workdir, floor_bin)
            except (RuntimeError, subprocess.SubprocessError, OSError) as e:
                results[row] = {"error": str(e).splitlines()[0]}
                notes.append(f"row {row} failed: {e}")
                log(f"  {row:22} FAILED: {e}")
        if not args.no_memory:
            for row in MEMORY_ROWS:
                if row not in args.rows and not (row == "pool" and "plain" in args.rows):
                    continue
                if missing_modules(row, have):
                    continue
                try:
                    memory[row] = idle_memory(row, args, workdir, floor_bin)
                except (RuntimeError, subprocess.SubprocessError, OSError) as e:
                    memory[row] = {"error": str(e)}
                    notes.append(f"idle memory of {row} failed: {e}")
                    log(f"  {row:22} idle memory FAILED: {e}")
        if not args.no_parser:
            if shutil.which("valgrind"):
                try:
                    parser = parser_micro(args.build_dir)
                except (RuntimeError, subprocess.SubprocessError) as e:
                    notes.append(f"parser micro-bench failed: {e}")
            else:
                notes.append("parser micro-bench skipped: valgrind not installed")
    finally:
        remove_workdir(workdir)

    print(render_table(results, memory, parser))
    targets = check_targets(results, memory, parser)
    if targets:
        print("\ntargets:")
        print("\n".join("  " + t for t in targets))
    if notes:
        print("\nnotes:")
        print("\n".join("  " + n for n in notes))

    report = {"timestamp": stamp, "machine": machine_info(), "versions": versions(),
              "settings": {"duration_s": args.duration, "connections": args.connections,
                           "idle_connections": args.idle_connections, "server_cpu": 0, "client_cpu": 1,
                           "axle_build_dir": args.build_dir, "all_fast": servers.FAST},
              "rows": {row: {"modules": servers.modules_for(row) if row in AXLE_ROWS else None, **res}
                       for row, res in results.items()},
              "idle_memory": memory, "parser": parser, "targets": targets, "notes": notes}
    json_path = os.path.join(args.out, f"{stamp}.json")
    with open(json_path, "w") as f:
        json.dump(report, f, indent=1)
    svg_path = os.path.join(args.out, f"{stamp}.svg")
    subtitle = (f"{machine_info()['cpu']}; server pinned to CPU 0, wrk -t1 on CPU 1; {args.duration} s per run, "
                f"{args.connections} connections; {stamp}")
    with open(svg_path, "w") as f:
        f.write(chart({r: v for r, v in results.items() if "keepalive" in v}, memory, parser, subtitle))
    png_path = svg_to_png(svg_path)
    log(f"\nwrote {json_path}\nwrote {svg_path}" + (f"\nwrote {png_path}" if png_path else ""))
    bad = [r for r, v in results.items() if "error" in v and not v["error"].startswith("missing module")]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/python3
"""Live mode: one axle server, one continuous wrk load, the module set
swapped every period through the admin endpoint. Per period, throughput and
p99 come from axle's own /metrics and CPU/request from /proc."""
import argparse
import datetime
import json
import math
import os
import re
import subprocess
import sys
import time
import urllib.request

from common import (CLK_TCK, REPO, BENCH, Server, cpu_ticks, free_port, log, make_workdir, parse_wrk,
                    remove_workdir, svg_to_png, wrk_argv)
import servers
import svgchart
from harness import AXLE_ROWS, available_modules, build_axle, missing_modules

SEQUENCE = ["plain", "uring", "simd", "pool", "radix", "all-fast", "plain"]
ROUTE = "/ping"


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="bench/run --live", description=__doc__.splitlines()[0])
    ap.add_argument("--live", action="store_true", required=True)
    ap.add_argument("--period", type=int, default=5, help="seconds per module set (default 5)")
    ap.add_argument("--sequence", default=",".join(SEQUENCE),
                    help=f"module sets in order (default {','.join(SEQUENCE)})")
    ap.add_argument("--connections", type=int, default=50, help="wrk connections (default 50)")
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build-bench"))
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--out", default=os.path.join(BENCH, "results"))
    ap.add_argument("--tag")
    args = ap.parse_args(argv)
    if args.period < 2:
        ap.error("--period must be at least 2 seconds")
    args.sequence = args.sequence.split(",")
    unknown = [r for r in args.sequence if r not in AXLE_ROWS]
    if unknown:
        ap.error(f"unknown module set(s) {', '.join(unknown)}; sets are: {', '.join(AXLE_ROWS)}")
    return args


def http(method, url, timeout=5.0):
    req = urllib.request.Request(url, method=method)  # POST /reload: no body, so no Content-Type
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.status, resp.read().decode()


_SAMPLE = re.compile(r'^(axle_http_requests_total|axle_http_request_duration_seconds_bucket)\{([^}]*)\}\s+(\S+)$')


def scrape(port):
    """{'requests': {status_class: n}, 'buckets': {le: n}} for ROUTE."""
    _, text = http("GET", f"http://127.0.0.1:{port}/metrics")
    out = {"requests": {}, "buckets": {}}
    for line in text.splitlines():
        m = _SAMPLE.match(line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
        if labels.get("route") != ROUTE:
            continue
        if m.group(1) == "axle_http_requests_total":
            out["requests"][labels["status_class"]] = int(float(m.group(3)))
        else:
            out["buckets"][labels["le"]] = int(float(m.group(3)))
    return out


def delta(after, before):
    """Counters restart with each generation's metrics module; a counter
    that went down was reset, and its new value is the whole delta."""
    return after - before if after >= before else after


def p99_from_buckets(buckets):
    """(estimate, upper bound of its bucket): linear interpolation inside the
    bucket holding the 99th percentile, the way Prometheus'
    histogram_quantile does. Inside the first bucket the estimate says
    little beyond "below that bound"."""
    bounds = sorted(((math.inf if le == "+Inf" else float(le)), n) for le, n in buckets.items())
    total = bounds[-1][1] if bounds else 0
    if total == 0:
        return None, None
    rank = 0.99 * total
    prev_bound, prev_count = 0.0, 0
    for bound, count in bounds:
        if count >= rank:
            if math.isinf(bound):
                return prev_bound, bound
            return prev_bound + (bound - prev_bound) * (rank - prev_count) / max(count - prev_count, 1), bound
        prev_bound, prev_count = bound, count
    return prev_bound, math.inf


def write_config(path, row, port, admin_port):
    text = servers.axle_config(servers.modules_for(row), port, precompiled=row.endswith("precompiled"),
                               metrics=True, admin_port=admin_port)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)  # the reload never sees a half-written file


def serving_modules(admin_port):
    _, body = http("GET", f"http://127.0.0.1:{admin_port}/generations")
    gens = json.loads(body)["generations"]
    serving = next(g for g in gens if g["state"] == "serving")
    return {m["kind"]: m["name"] for m in serving["modules"] if m["kind"] in ("io", "alloc", "parser", "router")}


def run_live(args, workdir):
    port, admin_port = free_port(), free_port()
    config = os.path.join(workdir, "live.toml")
    write_config(config, args.sequence[0], port, admin_port)
    server = Server("axle-live", [os.path.join(args.build_dir, "bin", "axle"), "--config", config], port, workdir)
    periods = []
    try:
        settle = min(1.0, args.period / 4)
        lead_in = 1.0
        total = math.ceil(lead_in + len(args.sequence) * args.period + 1)
        wrk_out = os.path.join(workdir, "wrk.out")
        with open(wrk_out, "w") as out:
            wrk = subprocess.Popen(wrk_argv(f"http://127.0.0.1:{port}{ROUTE}", total, args.connections),
                                   stdout=out, stderr=subprocess.STDOUT)
        time.sleep(lead_in)
        for i, row in enumerate(args.sequence):
            started = time.monotonic()
            if i > 0:
                write_config(config, row, port, admin_port)
                status, body = http("POST", f"http://127.0.0.1:{admin_port}/reload", timeout=30)
                if status != 200:
                    raise RuntimeError(f"reload to {row} answered {status}: {body}")
            swap_ms = (time.monotonic() - started) * 1e3
            modules = serving_modules(admin_port)
            # Old-generation connections close after their next response and
            # wrk reconnects to the new one; measure once that is over.
            time.sleep(settle)
            pids = server.pids()
            m0, c0, t0 = scrape(port), cpu_ticks(pids), time.monotonic()
            time.sleep(max(0.5, args.period - (time.monotonic() - started)))
            m1, c1, t1 = scrape(port), cpu_ticks(pids), time.monotonic()
            if not server.alive():
                raise RuntimeError(f"axle died during period {i} ({row}); its stderr:\n{server.stderr_tail()}")
            reqs = {k: delta(v, m0["requests"].get(k, 0)) for k, v in m1["requests"].items()}
            n = sum(reqs.values())
            buckets = {le: delta(v, m0["buckets"].get(le, 0)) for le, v in m1["buckets"].items()}
            du, ds = (c1[0] - c0[0]) / CLK_TCK, (c1[1] - c0[1]) / CLK_TCK
            p99, p99_bucket = p99_from_buckets(buckets)
            first_bucket = min((float(le) for le in buckets if le != "+Inf"), default=None)
            p = {"period": i, "row": row, "modules": modules, "seconds": t1 - t0, "reload_ms": swap_ms,
                 "requests": n, "non_2xx": n - reqs.get("2xx", 0), "rps": n / (t1 - t0),
                 "p99_ms": p99 * 1e3 if p99 is not None else None,
                 "p99_in_first_bucket": p99_bucket is not None and p99_bucket == first_bucket,
                 "p99_bucket_le_ms": p99_bucket * 1e3 if p99_bucket is not None else None,
                 "user_us": du * 1e6 / max(n, 1), "sys_us": ds * 1e6 / max(n, 1)}
            p["cpu_us"] = p["user_us"] + p["sys_us"]
            periods.append(p)
            log(f"  period {i}: {row:10} {p['rps']:>9,.0f} req/s  p99 {p['p99_ms'] or 0:.3f} ms  "
                f"{p['cpu_us']:.2f} us/req  (reload {swap_ms:.0f} ms)")
        wrk.wait(timeout=total + 60)
        with open(wrk_out) as f:
            wrk_text = f.read()
        if not server.alive():
            raise RuntimeError(f"axle died; its stderr:\n{server.stderr_tail()}")
    finally:
        server.stop()
    return periods, parse_wrk(wrk_text), wrk_text


def render(periods, wrk):
    head = (f"{'#':>2} {'modules':10} {'io/alloc/parser/router (serving)':34} {'req/s':>10} {'p99 ms':>8} "
            f"{'usr us':>8} {'sys us':>8} {'cpu us':>8} {'xplain':>7} {'reload ms':>9}")
    lines = [head, "-" * len(head)]
    plain = next((p["cpu_us"] for p in periods if p["row"] == "plain"), None)
    for p in periods:
        mods = "/".join(p["modules"].get(k, "?") for k in ("io", "alloc", "parser", "router"))
        p99 = "-" if p["p99_ms"] is None else f"{p['p99_ms']:.3f}"
        if p["p99_in_first_bucket"]:
            p99 = f"<{p['p99_bucket_le_ms']:.3f}"  # all we know: below the histogram's first bound
        lines.append(f"{p['period']:>2} {p['row']:10} {mods:34} {p['rps']:>10,.0f} {p99:>8} {p['user_us']:>8.2f} "
                     f"{p['sys_us']:>8.2f} {p['cpu_us']:>8.2f} {p['cpu_us'] / plain if plain else 0:>7.2f} "
                     f"{p['reload_ms']:>9.0f}")
    lines.append("req/s and p99 (server-side: request parsed -> response queued, from the duration histogram by "
                 "bucket interpolation) come from /metrics deltas; cpu us from /proc/<pid>/stat deltas.")
    lines.append(f"wrk over the whole run: {wrk['requests']:,} requests, {wrk['rps']:,.0f} req/s, "
                 f"p99 {wrk['p99_ms']} ms, max {wrk['max_ms']} ms; socket errors: {wrk['socket_errors']}"
                 f"{' (' + wrk['socket_error_detail'] + ')' if wrk.get('socket_error_detail') else ''}; "
                 f"non-2xx: {wrk['non_2xx']}; "
                 + ("CLEAN" if wrk["socket_errors"] == 0 and wrk["non_2xx"] == 0 else "NOT CLEAN"))
    return "\n".join(lines)


def chart(periods, subtitle):
    labels = [f"{p['period']}: {p['row']}" for p in periods]
    p99_title = ("p99: below the first bucket (0.05 ms)" if all(p["p99_in_first_bucket"] for p in periods)
                 else "p99, histogram estimate")
    panels = [
        dict(title="Throughput per period", labels=labels, unit="requests per second (from /metrics)",
             series=[("req/s", [p["rps"] for p in periods])]),
        dict(title="Server CPU per request", labels=labels, unit="microseconds (from /proc)",
             series=[("user", [p["user_us"] for p in periods]), ("kernel", [p["sys_us"] for p in periods])]),
        dict(title=p99_title, labels=labels, unit="milliseconds (server-side, from the histogram)",
             series=[("p99", [p["p99_ms"] for p in periods])]),
    ]
    return svgchart.grid_svg("axle live module swap", subtitle, panels, columns=3, panel_w=420)


def main(argv):
    args = parse_args(argv)
    if not args.no_build:
        build_axle(args.build_dir)
    have = available_modules(args.build_dir)
    missing = sorted({m for row in args.sequence for m in missing_modules(row, have)} - {"handler-echo"})
    if missing:
        log(f"live: missing module(s) {', '.join(missing)}; drop those sets with --sequence")
        return 1
    stamp = args.tag or "live-" + datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    log(f"live: {len(args.sequence)} periods of {args.period} s, wrk -c{args.connections} on CPU 1, axle on CPU 0")
    workdir = make_workdir("axle-live-")
    try:
        periods, wrk, wrk_text = run_live(args, workdir)
    finally:
        remove_workdir(workdir)
    print(render(periods, wrk))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, f"{stamp}.json"), "w") as f:
        json.dump({"timestamp": stamp, "period_s": args.period, "connections": args.connections,
                   "periods": periods, "wrk": {k: v for k, v in wrk.items()}, "wrk_output": wrk_text}, f, indent=1)
    svg = os.path.join(args.out, f"{stamp}.svg")
    with open(svg, "w") as f:
        f.write(chart(periods, f"one wrk -c{args.connections} load, module set swapped every {args.period} s "
                               f"via POST /reload; {stamp}"))
    png = svg_to_png(svg)
    log(f"wrote {os.path.join(args.out, stamp + '.json')}\nwrote {svg}" + (f"\nwrote {png}" if png else ""))
    return 0 if wrk["socket_errors"] == 0 and wrk["non_2xx"] == 0 else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except RuntimeError as e:
        log(f"live: {e}")
        sys.exit(1)

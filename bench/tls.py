#!/usr/bin/python3
"""HTTPS rows (issue 11): axle's openssl transport against nginx's TLS.

  bench/run --tls [--rows axle,axle-noseal,nginx] [--tests handshake,keepalive,file] [--duration 10] [--quick]
                  [--connections 100] [--handshake-connections 16] [--axle-set plain|fast]
                  [--build-dir build-bench] [--no-build]

Both servers: one worker pinned to CPU 0, the same ECDSA P-256 certificate made
here by `openssl req`, TLS 1.3 only, the suite pinned to TLS_AES_128_GCM_SHA256
on both (nginx would otherwise follow the client's order, AES-256 first for
wrk, while axle prefers AES-128), the key exchange group left to the client
(X25519 for both clients; checked and printed per server with s_client).
Rows: axle (defaults: the module seals TLS 1.3 records itself where kTLS is
not used), axle-noseal (`seal_records = false`: OpenSSL seals, no key log
callback), nginx.
The load generator runs on CPU 1. Server CPU = utime+stime of the server's
processes (/proc/<pid>/stat) over the run, as in the other tables.

handshake  h2load --h1 -c16 -n<about duration s worth>, every request `Connection: close`: a new
           TCP connection and TLS handshake per request. Session tickets are
           OFF on both servers for this test: h2load (and wrk) keep a client's
           session across its reconnects and resume it (checked: with tickets
           on, 396 of 400 h2load connections resumed), so only a server that
           cannot resume gives full handshakes. A short counted run before
           the measured one proves it on each server (axle: its handshake and
           resumed counters; nginx: $connection and $ssl_session_reused in an
           access log). Figure: server CPU us per handshake, handshakes per CPU-second.
keepalive  wrk -t1 -c100 keep-alive GET /ping (axle `ping` handler, nginx
           `return 200 "pong"`): server CPU us per request.
file       wrk -t1 -c100 keep-alive GET of a 1 MiB file (axle `static`, nginx
           `sendfile on` + the same open-file cache as bench --static):
           bytes per server CPU-second. kTLS: nginx gets `ssl_conf_command
           Options KTLS`, axle `kernel_tls = true`; whether either really got
           it is printed (the kernel's tcp_available_ulp, axle's start line,
           /proc/net/tls_stat when the tls module is loaded).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import urllib.request

from common import CLIENT_CPU, REPO, Server, charged, free_port, log, make_workdir, measure, \
    remove_workdir, run_wrk
import servers
from servers import FAST, PLAIN

ROWS = ["axle", "axle-noseal", "nginx"]  # axle-noseal: [tls] seal_records = false (OpenSSL seals)
TESTS = ["handshake", "keepalive", "file"]
SUITE = "TLS_AES_128_GCM_SHA256"
FILE_SIZE = 1 << 20
AXLE_SETS = {"plain": PLAIN, "fast": FAST}


def make_certificate(workdir):
    """One self-signed ECDSA P-256 certificate for both servers."""
    crt, key = os.path.join(workdir, "server.crt"), os.path.join(workdir, "server.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    os.chmod(key, 0o644)  # nginx's worker may run as another user
    return crt, key


def make_docroot(workdir):
    docroot = os.path.join(workdir, "htdocs")
    os.makedirs(docroot)
    with open(os.path.join(docroot, "f1m.bin"), "wb") as f:
        f.write(bytes((i * 7 + 3) & 0xFF for i in range(FILE_SIZE)))
    return docroot


def start_axle(args, workdir, crt, key, docroot, *, tickets, metrics=False, seal=True):
    port, clear = free_port(), free_port()
    lines = ["[server]", f'listen = ["127.0.0.1:{clear}"]', "workers = 1", "", "[modules]"]
    lines += [f'{kind} = "{name}"' for kind, name in AXLE_SETS[args.axle_set].items()]
    lines += ['tls = "openssl"'] + (['metrics = "prometheus"'] if metrics else [])
    lines += ["", "[tls]", f'listen = ["127.0.0.1:{port}"]', f"certificate = {json.dumps(crt)}",
              f"key = {json.dumps(key)}", 'protocols = ["TLSv1.3"]', f'ciphersuites = "{SUITE}"',
              f"session_tickets = {'true' if tickets else 'false'}", "kernel_tls = true",
              f"seal_records = {'true' if seal else 'false'}"]
    lines += ["", "[[route]]", 'path = "/ping"', 'handler = "ping"']
    lines += ["", "[[route]]", 'path = "/*"', 'handler = "static"', f"root = {json.dumps(docroot)}",
              "cache_entries = 1000", "cache_valid_ms = 1000"]  # nginx's open_file_cache below
    path = os.path.join(workdir, f"axle-tls-{'t' if tickets else 'n'}{'m' if metrics else ''}{'s' if seal else ''}.toml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    server = Server("axle-tls", [os.path.join(args.build_dir, "bin", "axle"), "--config", path], port, workdir)
    server.clear_port = clear
    return server


def start_nginx(workdir, crt, key, docroot, *, tickets, access_log=None):
    http = ("sendfile on; open_file_cache max=1000 inactive=20s; open_file_cache_valid 1s; "
            "default_type application/octet-stream;")
    counted = ""
    if access_log:  # in the server block: the http block's `access_log off` would cancel it
        http += " log_format hs '$connection $ssl_session_reused';"
        counted = f"access_log {access_log} hs; "
    return servers.start_nginx(
        workdir, name="nginx-tls", listen_opts="ssl", http_lines=http,
        server_lines=f"{counted}ssl_certificate {crt}; ssl_certificate_key {key}; ssl_protocols TLSv1.3; "
                     f"ssl_conf_command Ciphersuites {SUITE}; ssl_conf_command Options KTLS; "
                     f"ssl_session_cache off; ssl_session_tickets {'on' if tickets else 'off'}; "
                     f'location = /ping {{ return 200 "pong"; }} location / {{ root {docroot}; }}')


def start(args, row, workdir, crt, key, docroot, *, tickets, counted=None):
    if row.startswith("axle"):
        return start_axle(args, workdir, crt, key, docroot, tickets=tickets, metrics=counted is not None,
                          seal=row == "axle")
    return start_nginx(workdir, crt, key, docroot, tickets=tickets, access_log=counted)


def negotiated(port):
    """Protocol, suite and key exchange group a default OpenSSL client gets."""
    out = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-brief"], input="",
                         capture_output=True, text=True, timeout=20)
    text = out.stdout + out.stderr
    got = {k: (m.group(1).strip() if (m := re.search(rf"^{k}:\s*(.+)$", text, re.M)) else "?")
           for k in ("Protocol version", "Ciphersuite", "Server Temp Key")}
    return f"{got['Protocol version']}, {got['Ciphersuite']}, {got['Server Temp Key']}"


def h2load(url, requests, connections):
    """h2load, a new connection per request. By count: with -D and
    `Connection: close` h2load 1.52 does not stop at the end of the duration."""
    argv = ["taskset", "-c", CLIENT_CPU, "h2load", "--h1", "-t1", f"-c{connections}", f"-n{requests}",
            f"--tls13-ciphers={SUITE}", "-H", "Connection: close", url]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=requests / 50 + 60)
    if out.returncode != 0:
        raise RuntimeError(f"h2load failed ({out.returncode}): {out.stderr.strip() or out.stdout.strip()}")
    res = {"requests": 0, "failed": 0, "non_2xx": 0, "seconds": 0.0}
    for line in out.stdout.splitlines():
        line = line.strip()
        if m := re.match(r"finished in ([\d.]+)(ms|s),", line):
            res["seconds"] = float(m.group(1)) / (1e3 if m.group(2) == "ms" else 1)
        if line.startswith("requests:"):  # requests: N total, N started, N done, N succeeded, N failed, ...
            nums = {w.rstrip(","): int(n) for n, w in zip(line.split()[1::2], line.split()[2::2])}
            res["requests"] = nums.get("succeeded", 0)
            res["failed"] = nums.get("failed", 0) + nums.get("errored", 0) + nums.get("timeout", 0)
        elif line.startswith("status codes:"):
            parts = line[len("status codes:"):].split(",")
            res["non_2xx"] = sum(int(p.split()[0]) for p in parts if not p.strip().endswith("2xx"))
    res["rps"] = res["requests"] / max(res["seconds"], 1e-9)
    return res


def prometheus_sum(port, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        text = r.read().decode()
    return sum(float(line.split()[-1]) for line in text.splitlines()
               if line.startswith(name) and line[len(name):len(name) + 1] in (" ", "{"))


def count_handshakes(args, row, workdir, crt, key, docroot):
    """A short unmeasured run: (requests, full handshakes, resumed) as the server counted them."""
    log_path = os.path.join(workdir, "nginx-handshakes.log")
    server = start(args, row, workdir, crt, key, docroot, tickets=False, counted=log_path)
    try:
        res = h2load(f"https://127.0.0.1:{server.port}/ping", 500, args.handshake_connections)
        if row.startswith("axle"):
            total = prometheus_sum(server.clear_port, "axle_tls_handshakes_total")
            resumed = prometheus_sum(server.clear_port, "axle_tls_resumed_total")
            return res["requests"], int(total - resumed), int(resumed)  # the readiness probe made no handshake
    finally:
        server.stop()
    with open(log_path) as f:
        rows = [line.split() for line in f if line.strip()]
    return res["requests"], len({r[0] for r in rows if r[1] != "r"}), sum(1 for r in rows if r[1] == "r")


def tls_stat():
    """TlsTxSw/TlsTxDevice... counters when the kernel's tls module is loaded, else None."""
    try:
        with open("/proc/net/tls_stat") as f:
            return {k: int(v) for k, v in (line.split() for line in f if line.strip())}
    except FileNotFoundError:
        return None


def measure_handshakes(server, requests, connections):
    res = charged(server, lambda: h2load(f"https://127.0.0.1:{server.port}/ping", requests, connections))
    res["socket_errors"] = res["failed"]
    return res


def bench_row(args, row, workdir, crt, key, docroot):
    out = {}
    if "handshake" in args.tests:
        requests, full, resumed = count_handshakes(args, row, workdir, crt, key, docroot)
        log(f"  {row:11} handshake check: {requests} requests, {full} full handshakes, {resumed} resumed")
        server = start(args, row, workdir, crt, key, docroot, tickets=False)
        try:
            warm = h2load(f"https://127.0.0.1:{server.port}/ping", 500, args.handshake_connections)
            count = max(1000, int(warm["rps"] * args.duration))  # about --duration seconds
            r = measure_handshakes(server, count, args.handshake_connections)
        finally:
            server.stop()
        r.update(check_requests=requests, check_full=full, check_resumed=resumed)
        out["handshake"] = r
        log(f"  {row:11} handshake {r['rps']:>9,.0f} /s  {r['cpu_us']:7.1f} us CPU each")
    if "keepalive" not in args.tests and "file" not in args.tests:
        return out
    server = start(args, row, workdir, crt, key, docroot, tickets=True)
    try:
        out["negotiated"] = negotiated(server.port)
        log(f"  {row:11} negotiates {out['negotiated']}")
        if row.startswith("axle"):
            out["start_log"] = [line.strip() for line in open(server.stderr_path, errors="replace")
                                if "TLS" in line or "tls" in line]
        for test, url in (("keepalive", "/ping"), ("file", "/f1m.bin")):
            if test not in args.tests:
                continue
            url = f"https://127.0.0.1:{server.port}{url}"
            run_wrk(url, 1, args.connections)  # warm-up: page cache, pools, open-file caches
            before = tls_stat()
            r = measure(server, url, args.duration, args.connections)
            after = tls_stat()
            r.pop("wrk_output", None)
            r["tls_stat_delta"] = {k: after[k] - before.get(k, 0) for k in after} if after and before else None
            if test == "file":
                r["bytes_per_cpu_s"] = r["requests"] * FILE_SIZE / max(r["server_cpu_s"], 1e-9)
            out[test] = r
            log(f"  {row:11} {test:9} {r['rps']:>9,.0f} req/s  {r['user_us']:7.2f} usr  {r['cpu_us']:7.2f} total us/req"
                + (f"  ERRORS: {r['socket_errors']} socket, {r['non_2xx']} non-2xx"
                   if r["socket_errors"] or r["non_2xx"] else ""))
    finally:
        server.stop()
    return out


def ktls_offered():
    try:
        with open("/proc/sys/net/ipv4/tcp_available_ulp") as f:
            ulps = f.read().split()
    except FileNotFoundError:
        ulps = []
    return "tls" in ulps, " ".join(ulps) or "(none)"


def render(results, args):
    head = (f"{'test':10}{'row':12}{'rate/s':>9}{'usr us':>9}{'sys us':>9}{'cpu us':>9}"
            f"{'per CPU-second':>17}{'x nginx':>9}{'err':>5}")
    lines = [head, "-" * len(head)]
    for test in TESTS:
        ng = results.get("nginx", {}).get(test)
        for row, res in results.items():
            r = res.get(test)
            if not r:
                continue
            if test == "file":
                per = f"{r['bytes_per_cpu_s'] / 1e6:,.0f} MB"
                ratio = r["bytes_per_cpu_s"] / ng["bytes_per_cpu_s"] if ng and ng.get("bytes_per_cpu_s") else None
            else:
                per = f"{1e6 / r['cpu_us']:,.0f} {'hs' if test == 'handshake' else 'req'}" if r["cpu_us"] else "-"
                ratio = r["cpu_us"] / ng["cpu_us"] if ng and ng["cpu_us"] else None
            lines.append(f"{test:10}{row:12}{r['rps']:>9,.0f}{r['user_us']:>9.2f}{r['sys_us']:>9.2f}"
                         f"{r['cpu_us']:>9.2f}{per:>17}{f'{ratio:.2f}' if ratio else '-':>9}"
                         f"{r['socket_errors'] + r['non_2xx']:>5}")
    lines.append("usr/sys/cpu us = server CPU per handshake (handshake) or per request (/proc/<pid>/stat); "
                 "per CPU-second = handshakes, requests or file bytes one server CPU-second buys; "
                 "x nginx = axle/nginx of cpu us (handshake, keepalive) or of bytes per CPU-second (file: "
                 "higher is better); err = failed requests + non-2xx.")
    return "\n".join(lines)


def main(argv):
    ap = argparse.ArgumentParser(prog="bench/run --tls", description=__doc__.splitlines()[0])
    ap.add_argument("--tls", action="store_true", help=argparse.SUPPRESS)  # bench/run's switch
    ap.add_argument("--rows", default=",".join(ROWS), help="axle, axle-noseal, nginx (default all)")
    ap.add_argument("--tests", default=",".join(TESTS), help=f"from {', '.join(TESTS)} (default all)")
    ap.add_argument("--quick", action="store_true", help="2 s runs")
    ap.add_argument("--duration", type=int, help="seconds per measured run (default 10, quick 2)")
    ap.add_argument("--connections", type=int, default=100, help="wrk keep-alive connections (default 100)")
    ap.add_argument("--handshake-connections", type=int, default=16,
                    help="concurrent h2load clients in the handshake test (default 16)")
    ap.add_argument("--axle-set", choices=sorted(AXLE_SETS), default="plain",
                    help="axle's io/alloc/parser/router modules (default plain: epoll/malloc/scalar/linear)")
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build-bench"))
    ap.add_argument("--no-build", action="store_true", help="use --build-dir as it is")
    args = ap.parse_args(argv)
    args.duration = args.duration or (2 if args.quick else 10)
    rows, args.tests = args.rows.split(","), args.tests.split(",")
    bad = [r for r in rows if r not in ROWS] + [t for t in args.tests if t not in TESTS]
    if bad:
        ap.error(f"unknown row(s) or test(s) {', '.join(bad)}; rows: {', '.join(ROWS)}; tests: {', '.join(TESTS)}")
    if not args.no_build:
        from harness import build_axle  # the release build bench/run makes
        build_axle(args.build_dir)
    offered, ulps = ktls_offered()
    workdir = make_workdir("axle-tls-")
    os.chmod(workdir, 0o755)  # nginx's worker may run as another user
    results, failed = {}, False
    try:
        crt, key = make_certificate(workdir)
        docroot = make_docroot(workdir)
        log(f"tls rows: {', '.join(rows)}; tests {', '.join(args.tests)}; {args.duration} s per run; "
            f"axle modules {args.axle_set}; kernel tls ULP: {'offered' if offered else 'NOT offered'} "
            f"(tcp_available_ulp: {ulps}){'' if offered else ': both servers encrypt in user space'}")
        for row in rows:
            try:
                results[row] = bench_row(args, row, workdir, crt, key, docroot)
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                log(f"  {row:11} FAILED: {e}")
                failed = True
    finally:
        remove_workdir(workdir)
    print(render(results, args))
    for row, res in results.items():
        if "negotiated" in res:
            print(f"{row}: {res['negotiated']}")
        if "handshake" in res:
            h = res["handshake"]
            print(f"{row}: handshake check {h['check_requests']} requests -> {h['check_full']} full handshakes, "
                  f"{h['check_resumed']} resumed")
        for line in res.get("start_log", []):
            print(f"{row}: {line}")
    print(f"kTLS: kernel tls ULP {'offered' if offered else 'not offered'} (tcp_available_ulp: {ulps})"
          + ("" if offered else "; axle and nginx both encrypt in user space"))
    print(json.dumps({"rows": results, "ktls_offered": offered}, indent=1), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

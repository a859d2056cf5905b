"""Shared pieces of the bench harness: servers, wrk, /proc sampling."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SERVER_CPU = "0"
CLIENT_CPU = "1"
CLK_TCK = int(subprocess.run(["getconf", "CLK_TCK"], capture_output=True, text=True, check=True).stdout)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(REPO, "bench")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port} after {timeout} s")


def process_tree(pid):
    """pid and all its descendants (nginx: master + workers)."""
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except FileNotFoundError:
            pass
    return pids


def cpu_ticks(pids):
    """(utime, stime) in clock ticks, summed over the processes. The
    process-wide fields of /proc/<pid>/stat already include every thread."""
    user = system = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        user += int(fields[11])  # field 14 of stat(5); fields[0] is field 3
        system += int(fields[12])
    return user, system


def rss_kb(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


class Server:
    """A server process pinned to a CPU (SERVER_CPU unless told), stopped on exit."""

    def __init__(self, name, argv, port, workdir, env=None, cpu=SERVER_CPU):
        self.name, self.port, self.workdir = name, port, workdir
        self.stderr_path = os.path.join(workdir, f"{name}.stderr")
        self._stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(["taskset", "-c", cpu] + argv, stdout=subprocess.DEVNULL,
                                     stderr=self._stderr, env=env, start_new_session=True)
        try:
            wait_for_port(port, self.proc)
        except RuntimeError as e:
            self.stop()
            raise RuntimeError(f"{name}: {e}; its stderr:\n{self.stderr_tail()}") from None

    def stderr_tail(self, lines=15):
        with open(self.stderr_path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])

    def pids(self):
        return process_tree(self.proc.pid)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._stderr.close()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else None


def parse_wrk(out):
    res = {"requests": 0, "seconds": 0.0, "rps": 0.0, "p50_ms": None, "p99_ms": None, "max_ms": None,
           "socket_errors": 0, "non_2xx": 0}
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    if m:
        res["requests"] = int(m.group(1))
        res["seconds"] = _ms(m.group(2) + m.group(3)) / 1e3
    m = re.search(r"^\s+Latency\s+\S+\s+\S+\s+(\S+)", out, re.M)
    if m:
        res["max_ms"] = _ms(m.group(1))
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        res["rps"] = float(m.group(1))
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        # wrk sometimes prints 0.00us for a percentile it failed to compute
        # (seen at millions of pipelined requests); that is no measurement.
        if m and _ms(m.group(1)):
            res[key] = _ms(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        res["socket_errors"] = sum(int(g) for g in m.groups())
        res["socket_error_detail"] = m.group(0)
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        res["non_2xx"] = int(m.group(1))
    return res


def wrk_argv(url, seconds, connections, script=None, latency=True):
    argv = ["taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
    if latency:
        argv.append("--latency")
    if script:
        argv += ["-s", script]
    return argv + [url]


def run_wrk(url, seconds, connections, script=None):
    out = subprocess.run(wrk_argv(url, seconds, connections, script), capture_output=True, text=True,
                         timeout=seconds + 60)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr.strip() or out.stdout.strip()}")
    return parse_wrk(out.stdout), out.stdout


def charged(server, load):
    """Runs load(), which returns a dict with "requests", and adds the server's
    CPU over that run charged to those requests (user_us, sys_us, cpu_us per
    request; server_cpu_s in all)."""
    pids = server.pids()
    u0, s0 = cpu_ticks(pids)
    res = load()
    u1, s1 = cpu_ticks(pids)
    if not server.alive():
        raise RuntimeError(f"{server.name} died under load; its stderr:\n{server.stderr_tail()}")
    n = max(res["requests"], 1)
    res["user_us"] = (u1 - u0) / CLK_TCK * 1e6 / n
    res["sys_us"] = (s1 - s0) / CLK_TCK * 1e6 / n
    res["cpu_us"] = res["user_us"] + res["sys_us"]
    res["server_cpu_s"] = (u1 - u0 + s1 - s0) / CLK_TCK
    return res


def measure(server, url, seconds, connections, script=None):
    """One wrk run; server CPU charged to the requests wrk completed."""
    raw = []

    def load():
        res, out = run_wrk(url, seconds, connections, script)
        raw.append(out)
        return res

    res = charged(server, load)
    res["wrk_output"] = raw[0]
    return res


def svg_to_png(svg_path):
    """A PNG beside the SVG when rsvg-convert is installed; returns its path or None."""
    if not shutil.which("rsvg-convert"):
        return None
    png = svg_path[:-4] + ".png"
    done = subprocess.run(["rsvg-convert", "-o", png, svg_path], capture_output=True)
    return png if done.returncode == 0 else None


def make_workdir(prefix):
    return tempfile.mkdtemp(prefix=prefix)


def remove_workdir(path):
    shutil.rmtree(path, ignore_errors=True)
